// facepipe --generate-docs — walks the CLI11 app into lib/cli_docs.h's description.
#include "docgen.h"

#include <algorithm>
#include <filesystem>

#include "cli_docs.h"
#include "commands.h"
#include "fsutil.h"
#include "version.h"

namespace fs = std::filesystem;

namespace facepipe::cmd {
namespace {

// "TEXT:{table,csv,jsonl}" -> type TEXT, choices; "INT:INT in [0 - 3]" -> check "INT in [0 - 3]".
CliOption describe_option(const CLI::Option& opt) {
    CliOption o;
    o.names = opt.get_snames();
    for (auto& n : o.names) n = "-" + n;
    for (const auto& n : opt.get_lnames()) o.names.push_back("--" + n);
    if (opt.get_positional() && !opt.nonpositional()) o.positional = opt.get_name(true);
    o.description = opt.get_description();
    o.default_value = opt.get_default_str();
    o.env = opt.get_envname();
    o.required = opt.get_required();
    o.repeated = opt.get_expected_max() > 1;
    o.comma_list = opt.get_delimiter() != '\0';
    if (opt.get_type_size() == 0 || opt.get_type_name().empty()) return o;  // a flag: --help shows no value either
    const std::string full = opt.get_type_name();
    o.type = full.substr(0, full.find(':'));
    for (size_t at = full.find(':'); at != std::string::npos;) {
        const size_t next = full.find(':', at + 1);
        const std::string check = full.substr(at + 1, next == std::string::npos ? next : next - at - 1);
        at = next;
        if (check.size() > 1 && check.front() == '{' && check.back() == '}') {
            for (size_t b = 1; b < check.size();) {
                const size_t e = std::min(check.find(',', b), check.size() - 1);
                o.choices.push_back(check.substr(b, e - b));
                b = e + 1;
            }
        } else if (!check.empty()) {
            o.checks.push_back(check);
        }
    }
    const bool number = o.type == "INT" || o.type == "UINT" || o.type == "FLOAT" || o.type == "NUMBER";
    auto has = [&o](const char* check) { return std::find(o.checks.begin(), o.checks.end(), check) != o.checks.end(); };
    if (!o.choices.empty()) o.value = CliOption::Value::choice;
    else if (has("DIR")) o.value = CliOption::Value::directory;  // CLI::ExistingDirectory
    else if (has("FILE") || has("PATH(existing)")) o.value = CliOption::Value::path;
    else if (number || !o.checks.empty()) o.value = CliOption::Value::other;  // a number, or text of a checked form (I/N)
    else o.value = CliOption::Value::path;  // TEXT: a file or folder name, most often
    return o;
}

void add_options(const CLI::App& app, const std::string& group, const std::string& group_description,
                 CliCommand* out, std::vector<CliOption>* positionals) {
    for (const CLI::Option* opt : app.get_options()) {
        if (opt->get_group().empty()) continue;  // hidden
        if (!group.empty() && opt == app.get_help_ptr()) continue;
        CliOption o = describe_option(*opt);
        o.group = group;
        o.group_description = group_description;
        (o.positional.empty() ? out->options : *positionals).push_back(o);
    }
}

CliCommand describe(const CLI::App& app, std::vector<std::string> path) {
    CliCommand c;
    c.path = std::move(path);
    c.description = app.get_description();
    c.needs_subcommand = app.get_require_subcommand_min() > 0;
    std::vector<CliOption> positionals;
    add_options(app, "", "", &c, &positionals);
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        if (sub->get_name().empty()) {  // an option group: its options are this command's
            add_options(*sub, sub->get_group(), sub->get_description(), &c, &positionals);
        } else if (!sub->get_group().empty()) {  // a hidden subcommand has no group
            std::vector<std::string> p = c.path;
            p.push_back(sub->get_name());
            c.subcommands.push_back(describe(*sub, p));
        }
    }
    c.options.insert(c.options.end(), positionals.begin(), positionals.end());
    return c;
}

std::string read_if_exists(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec) ? read_file(p.string()) : std::string();
}

}  // namespace

int generate_docs(const CLI::App& app, const std::string& source_dir, const std::string& out_dir) {
    const CliCommand root = describe(app, {"facepipe"});
    const fs::path src(source_dir), out(out_dir);
    std::map<std::string, std::string> links{{"formats.md", "facepipe(5)"}, {"docs/formats.md", "facepipe(5)"},
                                             {"README.md", "facepipe(1)"}, {"../README.md", "facepipe(1)"}};
    for (const auto& sub : root.subcommands) {
        links[sub.path.back() + ".md"] = sub.name() + "(1)";
        links["docs/" + sub.path.back() + ".md"] = sub.name() + "(1)";
    }
    const std::string version = facepipe_version();
    const DocSections readme = markdown_sections(read_file((src / "README.md").string()));

    std::map<fs::path, std::string> files;
    files[out / "man1" / "facepipe.1"] = man_page(root, root, readme, links, version);
    for (const auto& sub : root.subcommands)
        files[out / "man1" / (sub.name() + ".1")] =
            man_page(root, sub, markdown_sections(read_if_exists(src / "docs" / (sub.path.back() + ".md"))), links,
                     version);
    const auto exit_codes = readme.find("Exit codes");
    files[out / "man5" / "facepipe.5"] = man_page_from_markdown(
        "facepipe", 5, "the files facepipe writes and reads, and its exit codes",
        read_file((src / "docs" / "formats.md").string()) + "\n## Exit codes\n\n" +
            (exit_codes == readme.end() ? std::string() : exit_codes->second),
        links, version);
    files[out / "completion" / "facepipe"] = bash_completion(root);
    files[out / "completion" / "_facepipe"] = zsh_completion(root);

    for (const char* section : {"man1", "man5"}) {  // pages of subcommands that are gone
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(out / section, ec)) {
            fs::path page = e.path();
            if (page.extension() == ".gz") page.replace_extension();
            if (page.filename().string().rfind("facepipe", 0) == 0 && !files.count(page)) fs::remove(e.path());
        }
    }
    for (const auto& [path, text] : files) {
        fs::create_directories(path.parent_path());
        write_file_atomic(path.string(), text, 0644);
    }
    return kOk;
}

}  // namespace facepipe::cmd
