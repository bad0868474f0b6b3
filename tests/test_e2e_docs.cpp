// The man pages and shell completion (`facepipe --generate-docs`, lib/cli_docs.h)
// against what `facepipe ... --help` prints: every subcommand, flag, positional and
// choice value in one is in the other.
#include <doctest/doctest.h>

#include <algorithm>

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "e2e.h"
#include "e2e_script.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe::test;

namespace {

using Set = std::set<std::string>;

// What --help lists for one command.
struct Help {
    Set flags, positionals, subcommands;
    std::map<std::string, Set> choices;  // flag (every name) -> its values
};

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
}

Help parse_help(const std::string& text) {
    Help h;
    std::string section;
    for (const auto& line : split_lines(text)) {
        if (line.empty()) continue;
        if (line[0] != ' ') {  // "Options:", "Positionals:", "Subcommands:", "[Option Group: ...]"
            section = line;
            continue;
        }
        const auto start = line.find_first_not_of(' ');
        const std::string rest = line.substr(start);
        const std::string first = rest.substr(0, rest.find(' '));
        if (rest == "Options:" || rest[0] == '[') continue;  // inside an option group
        if (section == "Subcommands:" && start == 2) {
            h.subcommands.insert(first);
        } else if (section == "Positionals:" && start == 2) {
            h.positionals.insert(first);
        } else if (rest[0] == '-') {
            std::vector<std::string> names;
            std::stringstream ss(first);
            for (std::string n; std::getline(ss, n, ',');) names.push_back(n);
            std::smatch m;
            const std::string type = rest.substr(first.size());
            Set values;
            if (std::regex_search(type, m, std::regex(R"(:\{([^}]*)\})"))) {
                std::stringstream vs(m[1].str());
                for (std::string v; std::getline(vs, v, ',');) values.insert(v);
            }
            for (const auto& n : names) {
                h.flags.insert(n);
                if (!values.empty()) h.choices[n] = values;
            }
        }
    }
    return h;
}

// The .TP entries of one man page section: flags (\fB\-m\fR), positionals (\fIINPUT\fR),
// subcommand names (\fBaugment\fR in facepipe(1)'s COMMANDS), and each entry's text.
struct ManSection {
    Set flags, positionals, words;
    std::map<std::string, std::string> text;  // flag -> its entry's description
};

std::string unescape(std::string s) {
    s = std::regex_replace(s, std::regex(R"(\\-)"), "-");
    return s;
}

// The text of the section headed `.SH <title>` up to the next .SH.
std::string man_section(const std::string& page, const std::string& title) {
    const std::string head = ".SH " + title + "\n";
    const auto at = page.find(head);
    if (at == std::string::npos) return "";
    const auto end = page.find("\n.SH ", at + head.size());
    return page.substr(at + head.size(), end == std::string::npos ? std::string::npos : end + 1 - at - head.size());
}

ManSection parse_man_section(const std::string& text) {
    ManSection s;
    const auto lines = split_lines(text);
    for (size_t i = 0; i + 1 < lines.size(); ++i) {
        if (lines[i] != ".TP") continue;
        const std::string tag = lines[i + 1];
        std::string body;
        for (size_t j = i + 2; j < lines.size() && lines[j][0] != '.'; ++j) body += lines[j] + "\n";
        if (tag.rfind("\\fI", 0) == 0) {
            s.positionals.insert(unescape(tag.substr(3, tag.find("\\fR") - 3)));
            continue;
        }
        const std::regex bold(R"(\\fB([^\\]*(?:\\-[^\\]*)*)\\fR)");
        for (std::sregex_iterator it(tag.begin(), tag.end(), bold), end; it != end; ++it) {
            const std::string word = unescape((*it)[1].str());
            if (word[0] == '-') {
                s.flags.insert(word);
                s.text[word] = body;
            } else {
                s.words.insert(word);
            }
        }
    }
    return s;
}

std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

// Runs the generated bash completion for the words typed so far (the last is the
// word being completed) and returns what it offers.
Set bash_complete(const fs::path& completion, const std::vector<std::string>& words) {
    std::string script = "source '" + completion.string() + "'\nCOMP_WORDS=(";
    for (const auto& w : words) script += "'" + w + "' ";
    script += ")\nCOMP_CWORD=" + std::to_string(words.size() - 1) + "\n_facepipe\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n";
    Child bash({"bash", "-c", script}, fs::temp_directory_path());
    const RunResult r = bash.wait();
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    Set out;
    for (const auto& l : split_lines(r.out))
        if (!l.empty()) out.insert(l);
    return out;
}

// The body of one zsh completion function (_facepipe_models_import).
std::string zsh_function(const std::string& file, const std::string& name) {
    const auto at = file.find("\n" + name + "() {\n");
    if (at == std::string::npos) return "";
    return file.substr(at, file.find("\n}\n", at) - at);
}

Set without_help(Set s) {
    s.erase("-h");
    s.erase("--help");
    return s;
}

}  // namespace

TEST_CASE("e2e: man pages and completion list every subcommand, flag, positional and choice of --help") {
    TempDir out;
    const RunResult gen = run_facepipe({"--generate-docs", FACEPIPE_SOURCE_DIR, out.path().string()}, out.path());
    REQUIRE_MESSAGE(gen.exit_code == 0, gen.err);
    const fs::path bash = out / "completion/facepipe";
    const std::string zsh = slurp(out / "completion/_facepipe");

    const Help root = parse_help(run_facepipe({"--help"}, out.path()).out);
    REQUIRE(root.subcommands.count("predict"));
    REQUIRE(root.flags.count("--models"));
    CHECK_FALSE(root.flags.count("--generate-docs"));  // hidden

    // Every command, breadth first: {"predict"}, {"models", "import"}, ...
    std::vector<std::vector<std::string>> commands{{}};
    std::map<std::vector<std::string>, Help> helps{{{}, root}};
    for (size_t i = 0; i < commands.size(); ++i) {
        const auto path = commands[i];
        if (!path.empty()) {
            std::vector<std::string> args = path;
            args.push_back("--help");
            const RunResult r = run_facepipe(args, out.path());
            REQUIRE_MESSAGE(r.exit_code == 0, r.err);
            helps[path] = parse_help(r.out);
        }
        for (const auto& sub : helps[path].subcommands) {
            auto p = path;
            p.push_back(sub);
            commands.push_back(p);
        }
    }
    CHECK(commands.size() >= 14);  // 11 subcommands, models import/show, manifest make/check

    for (const auto& path : commands) {
        std::string name = "facepipe";
        for (const auto& p : path) name += " " + p;
        CAPTURE(name);
        const Help& h = helps[path];
        REQUIRE(h.flags.count("--help"));  // the parse of --help found the options

        // The man page: facepipe(1) or facepipe-SUB(1); a nested command is a section of its parent's.
        const std::string page = slurp(out / "man1" / ((path.empty() ? std::string("facepipe") : "facepipe-" + path[0]) + ".1"));
        REQUIRE_FALSE(page.empty());
        const std::string options = man_section(page, path.size() <= 1 ? "OPTIONS" : upper(name));
        const ManSection man = parse_man_section(options);
        CHECK(man.flags == h.flags);
        CHECK(man.positionals == h.positionals);
        for (const auto& [flag, values] : h.choices)
            for (const auto& v : values)
                CHECK_MESSAGE(unescape(man.text.at(flag)).find("\\fB" + v + "\\fR") != std::string::npos, flag, " ", v);
        if (path.empty()) {
            CHECK(parse_man_section(man_section(page, "COMMANDS")).words == h.subcommands);
        } else {
            Set sections;
            for (const auto& sub : h.subcommands) sections.insert(sub);
            Set found;
            for (const auto& sub : h.subcommands)
                if (!man_section(page, upper(name + " " + sub)).empty()) found.insert(sub);
            CHECK(found == sections);
            // The program's own options are documented on every page (they may follow a subcommand).
            CHECK(parse_man_section(man_section(page, "GLOBAL OPTIONS")).flags == without_help(root.flags));
        }

        // bash: the flags after "-", the subcommands, the values of each choice flag.
        std::vector<std::string> words{"facepipe"};
        words.insert(words.end(), path.begin(), path.end());
        auto typed = words;
        typed.push_back("-");
        Set expected = h.flags;
        if (!path.empty())
            for (const auto& f : without_help(root.flags)) expected.insert(f);
        CHECK(bash_complete(bash, typed) == expected);
        if (!h.subcommands.empty()) {
            typed.back() = "";
            CHECK(bash_complete(bash, typed) == h.subcommands);
        }
        for (const auto& [flag, values] : h.choices) {
            typed = words;
            typed.push_back(flag);
            typed.push_back("");
            CHECK_MESSAGE(bash_complete(bash, typed) == values, flag);
        }

        // zsh: the command's function names every flag and choice value.
        std::string fn = "_facepipe";
        for (const auto& p : path) fn += "_" + p;
        std::replace(fn.begin(), fn.end(), '-', '_');  // zsh function names: merge-groups -> merge_groups
        const std::string body = zsh_function(zsh, fn);
        REQUIRE_MESSAGE(!body.empty(), fn);
        for (const auto& flag : h.flags)
            CHECK_MESSAGE(std::regex_search(body, std::regex("[{,'(]" + flag + "[=+,}\\['\\) ]")), fn, " ", flag);
        for (const auto& [flag, values] : h.choices)
            for (const auto& v : values)
                CHECK_MESSAGE(std::regex_search(body, std::regex("[( ]" + v + "[) ']")), fn, " ", v);
        for (const auto& sub : h.subcommands) CHECK(body.find("'" + sub + ":") != std::string::npos);
    }
}

TEST_CASE("e2e: the generated zsh completion is valid zsh, and bash completes paths and folders") {
    TempDir out;
    REQUIRE(run_facepipe({"--generate-docs", FACEPIPE_SOURCE_DIR, out.path().string()}, out.path()).exit_code == 0);
    // bash: predict's INPUT completes files; models import's SOURCE only folders.
    fs::create_directories(out / "work/photos");
    spit(out / "work/party.jpg", "x");
    std::string script = "cd '" + (out / "work").string() + "'; source ../completion/facepipe\n"
                         "COMP_WORDS=(facepipe predict ''); COMP_CWORD=2; _facepipe; echo \"${COMPREPLY[*]}\"\n"
                         "COMP_WORDS=(facepipe models import ''); COMP_CWORD=3; _facepipe; echo \"${COMPREPLY[*]}\"\n"
                         "COMP_WORDS=(facepipe predict --format = c); COMP_CWORD=4; _facepipe; echo \"${COMPREPLY[*]}\"\n"
                         "COMP_WORDS=(facepipe augment --ops flip,ro); COMP_CWORD=3; _facepipe; echo \"${COMPREPLY[*]}\"\n";
    const RunResult r = Child({"bash", "-c", script}, out.path()).wait();
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto lines = split_lines(r.out);
    REQUIRE(lines.size() == 4);
    CHECK((lines[0] == "party.jpg photos" || lines[0] == "photos party.jpg"));
    CHECK(lines[1] == "photos");
    CHECK(lines[2] == "csv");
    CHECK(lines[3] == "flip,rotate");

    SKIP_IF(tool_missing("zsh", "apt install zsh (scripts/setup.sh --tests)"));
    const RunResult z = Child({"zsh", "-n", (out / "completion/_facepipe").string()}, out.path()).wait();
    CHECK_MESSAGE(z.exit_code == 0, z.err);
}
