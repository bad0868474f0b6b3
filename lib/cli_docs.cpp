#include "cli_docs.h"

#include <algorithm>
#include <cctype>
#include <sstream>

namespace facepipe {
namespace {

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return "";
    return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
    return out;
}

// Text ending with a full stop (a summary in --help has none).
std::string sentence(std::string s) {
    if (!s.empty() && s.back() != '.') s += '.';
    if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    return s;
}

std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

// The description split into its prose and its "example(s):" command lines.
void split_description(const std::string& description, std::vector<std::string>* text,
                       std::vector<std::string>* examples) {
    bool in_examples = false;
    for (const auto& line : lines_of(description)) {
        const std::string t = trim(line);
        if (t.empty()) continue;
        if (starts_with(t, "example:") || starts_with(t, "examples:")) {
            in_examples = true;
            examples->push_back(trim(t.substr(t.find(':') + 1)));
        } else if (in_examples && (line[0] == ' ' || line[0] == '\t')) {
            examples->push_back(t);
        } else {
            in_examples = false;
            text->push_back(t);
        }
    }
}

// A line of troff text: a leading '.' or '\'' would be read as a request.
std::string text_line(const std::string& s) {
    if (!s.empty() && (s[0] == '.' || s[0] == '\'')) return "\\&" + s;
    return s;
}

std::string bold(const std::string& s) { return "\\fB" + roff_escape(s) + "\\fR"; }
std::string italic(const std::string& s) { return "\\fI" + roff_escape(s) + "\\fR"; }

std::string link_target_page(std::string target, const std::map<std::string, std::string>& link_pages) {
    if (const auto hash = target.find('#'); hash != std::string::npos) target.resize(hash);
    if (const auto it = link_pages.find(target); it != link_pages.end()) return it->second;
    return "";
}

// Inline markdown: `code`, **bold**, [text](target), HTML tags dropped.
std::string inline_md(const std::string& s, const std::map<std::string, std::string>& link_pages) {
    std::string out;
    for (size_t i = 0; i < s.size();) {
        if (s[i] == '`') {
            const auto end = s.find('`', i + 1);
            if (end != std::string::npos) {
                out += bold(s.substr(i + 1, end - i - 1));
                i = end + 1;
                continue;
            }
        }
        if (s.compare(i, 2, "**") == 0) {
            const auto end = s.find("**", i + 2);
            if (end != std::string::npos) {
                out += "\\fB" + inline_md(s.substr(i + 2, end - i - 2), link_pages) + "\\fR";
                i = end + 2;
                continue;
            }
        }
        if (s[i] == '[') {
            const auto mid = s.find("](", i + 1);
            const auto end = mid == std::string::npos ? mid : s.find(')', mid + 2);
            if (end != std::string::npos && s.find('\n', i) > end) {
                const std::string label = s.substr(i + 1, mid - i - 1), target = s.substr(mid + 2, end - mid - 2);
                const std::string page = link_target_page(target, link_pages);
                const std::string page_name = page.substr(0, page.find('('));
                if (!page.empty() && (page_name == label || page_name == "facepipe-" + label)) {
                    out += bold(page_name) + roff_escape(page.substr(page.find('(')));  // [predict](predict.md)
                    i = end + 1;
                    continue;
                }
                out += inline_md(label, link_pages);
                if (!page.empty()) {
                    out += " (" + bold(page_name) + roff_escape(page.substr(page.find('('))) + ")";
                } else if (starts_with(target, "http://") || starts_with(target, "https://")) {
                    out += " <" + roff_escape(target) + ">";
                }
                i = end + 1;
                continue;
            }
        }
        out += roff_escape(std::string(1, s[i]));
        ++i;
    }
    return out;
}

// Table cells of "| a | b |", split outside `code`.
std::vector<std::string> table_cells(const std::string& row) {
    std::vector<std::string> cells;
    std::string cur;
    bool code = false;
    const std::string t = trim(row);
    for (size_t i = 1; i < t.size(); ++i) {
        if (t[i] == '`') code = !code;
        if (t[i] == '|' && !code) {
            cells.push_back(trim(cur));
            cur.clear();
        } else {
            cur += t[i];
        }
    }
    if (!trim(cur).empty()) cells.push_back(trim(cur));
    return cells;
}

bool list_item(const std::string& t, std::string* marker, std::string* rest) {
    if (starts_with(t, "- ") || starts_with(t, "* ")) {
        *marker = "\\(bu";
        *rest = t.substr(2);
        return true;
    }
    size_t d = 0;
    while (d < t.size() && std::isdigit(static_cast<unsigned char>(t[d]))) ++d;
    if (d > 0 && t.compare(d, 2, ". ") == 0) {
        *marker = t.substr(0, d + 1);
        *rest = t.substr(d + 2);
        return true;
    }
    return false;
}

// "INT in [0 - 3]" -> "From 0 to 3.", as a man page says it.
std::string check_text(const std::string& check) {
    if (check == "DIR") return "An existing folder.";
    if (check == "FILE") return "An existing file.";
    if (check == "PATH(existing)") return "An existing path.";
    if (check == "NONNEGATIVE") return "Zero or more.";
    if (check == "POSITIVE") return "More than zero.";
    if (const auto in = check.find(" in ["); in != std::string::npos) {
        std::string range = check.substr(in + 5);
        if (!range.empty() && range.back() == ']') range.pop_back();
        if (const auto dash = range.find(" - "); dash != std::string::npos)
            return "From " + range.substr(0, dash) + " to " + range.substr(dash + 3) + ".";
    }
    return "Format: " + check + ".";
}

std::string metavar(const CliOption& o) {
    // A short choice list reads best inline; a long one or a list is shown under the option.
    if (!o.choices.empty() && o.choices.size() <= 5 && !o.comma_list) return join(o.choices, "|");
    return o.comma_list ? o.type + "[,...]" : o.type;
}

// The words of the option's tag line: "\fB\-m\fR, \fB\-\-model\fR \fITEXT\fR".
std::string option_tag(const CliOption& o) {
    if (!o.positional.empty()) return italic(o.positional) + (o.repeated ? "..." : "");
    std::vector<std::string> names;
    for (const auto& n : o.names) names.push_back(bold(n));
    std::string tag = join(names, ", ");
    if (o.value != CliOption::Value::none) tag += " " + italic(metavar(o));
    return tag;
}

std::string synopsis_item(const CliOption& o) {
    if (!o.positional.empty()) {
        const std::string p = italic(o.positional) + (o.repeated ? "..." : "");
        return o.required ? p : "[" + p + "]";
    }
    const std::string name = o.names.empty() ? "" : o.names.back();  // the long name when there is one
    std::string item = bold(name);
    if (o.value != CliOption::Value::none) item += " " + italic(metavar(o));
    return o.required ? item : "[" + item + "]";
}

std::string option_entry(const CliOption& o) {
    std::string s = ".TP\n" + text_line(option_tag(o)) + "\n";
    const std::string desc = sentence(trim(o.description));
    std::vector<std::string> extra;
    if (o.required) extra.push_back("Required.");
    if (!o.choices.empty()) {
        std::vector<std::string> b;
        for (const auto& c : o.choices) b.push_back(bold(c));
        extra.push_back((o.comma_list ? "Any of, comma-separated: " : "One of: ") + join(b, ", ") + ".");
    } else if (o.comma_list) {
        extra.push_back("Several values may be given, comma-separated.");
    }
    for (const auto& c : o.checks) extra.push_back(roff_escape(check_text(c)));
    if (!o.default_value.empty()) extra.push_back("Default: " + bold(o.default_value) + ".");
    if (!o.env.empty()) extra.push_back("Environment: " + bold(o.env) + ".");
    s += text_line(roff_escape(desc)) + "\n";
    if (!extra.empty()) s += text_line(join(extra, " ")) + "\n";
    return s;
}

std::string options_section(const CliCommand& cmd) {
    std::string s;
    std::string group;
    for (const auto& o : cmd.options) {
        if (o.group != group) {
            group = o.group;
            s += ".SS " + roff_escape(o.group) + "\n" + text_line(roff_escape(o.group_description)) + "\n";
        }
        s += option_entry(o);
    }
    return s;
}

std::string synopsis(const CliCommand& cmd) {
    std::string s = ".SY " + roff_escape(cmd.path[0]) + "\n";
    for (size_t i = 1; i < cmd.path.size(); ++i) s += bold(cmd.path[i]) + "\n";
    for (const auto& o : cmd.options)
        if (o.positional.empty() && o.names.size() && o.names.back() != "--help") s += synopsis_item(o) + "\n";
    for (const auto& o : cmd.options)
        if (!o.positional.empty()) s += synopsis_item(o) + "\n";
    if (!cmd.subcommands.empty()) s += cmd.needs_subcommand ? italic("COMMAND") + " ...\n" : "[" + italic("COMMAND") + " ...]\n";
    return s + ".YS\n";
}

std::string page_ref(const std::string& page) {
    const auto paren = page.find('(');
    return bold(page.substr(0, paren)) + roff_escape(page.substr(paren));
}

std::string header(const std::string& program, const std::string& title, int section, const std::string& version) {
    return ".\\\" Generated by `" + program + " --generate-docs` from its command-line definitions and docs/; do not edit.\n"
           ".TH " + upper(title) + " " + std::to_string(section) + " \"\" \"" + program + " " + version + "\" \"" +
           program + " manual\"\n";
}

void collect_env(const CliCommand& cmd, std::vector<std::pair<std::string, std::string>>* env) {
    for (const auto& o : cmd.options)
        if (!o.env.empty())
            env->push_back({o.env, (cmd.path.size() > 1 ? join({cmd.path.begin() + 1, cmd.path.end()}, " ") + " " : "") +
                                       (o.names.empty() ? o.positional : o.names.back())});
    for (const auto& s : cmd.subcommands) collect_env(s, env);
}

// --- completion ---

std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::string value_kind(const CliOption& o) {
    switch (o.value) {
        case CliOption::Value::choice: return (o.comma_list ? "list:" : "words:") + join(o.choices, " ");
        case CliOption::Value::directory: return "directory";
        case CliOption::Value::path: return "path";
        case CliOption::Value::other: return "other";
        case CliOption::Value::none: break;
    }
    return "none";
}

void bash_commands(const CliCommand& cmd, std::string* cmds, std::string* values) {
    std::vector<std::string> subs, flags, opts, pos;
    for (const auto& s : cmd.subcommands) subs.push_back(s.path.back());
    for (const auto& o : cmd.options) {
        if (!o.positional.empty()) {
            pos.push_back(value_kind(o) + (o.repeated ? "..." : ""));
            continue;
        }
        auto& list = o.value == CliOption::Value::none ? flags : opts;
        list.insert(list.end(), o.names.begin(), o.names.end());
        if (o.value == CliOption::Value::none) continue;
        std::vector<std::string> patterns;
        for (const auto& n : o.names) patterns.push_back(shell_quote(join(cmd.path, " ") + " " + n));
        *values += "        " + join(patterns, "|") + ") echo " + shell_quote(value_kind(o)) + " ;;\n";
    }
    // Positional kinds may hold spaces (words:a b): '|' separates them.
    *cmds += "        " + shell_quote(join(cmd.path, " ")) + ") subs=" + shell_quote(join(subs, " ")) +
             "; flags=" + shell_quote(join(flags, " ")) + "; opts=" + shell_quote(join(opts, " ")) +
             "; pos=" + shell_quote(join(pos, "|")) + " ;;\n";
    for (const auto& s : cmd.subcommands) bash_commands(s, cmds, values);
}

std::string zsh_escape_desc(const std::string& description) {
    std::string first = lines_of(description).empty() ? "" : trim(lines_of(description)[0]);
    std::string out;
    for (char c : first) {
        if (c == '[') out += '(';
        else if (c == ']') out += ')';
        else if (c == '\\') out += "\\\\";
        else if (c == ':') out += "\\:";
        else out += c;
    }
    return out;
}

std::string zsh_action(const CliOption& o) {
    switch (o.value) {
        case CliOption::Value::choice:
            if (o.comma_list) return "_sequence compadd - " + join(o.choices, " ");
            return "(" + join(o.choices, " ") + ")";
        case CliOption::Value::directory: return "_files -/";
        case CliOption::Value::path: return "_files";
        default: return " ";
    }
}

std::string zsh_func(const CliCommand& cmd) {
    std::string name = join(cmd.path, "_");
    std::replace(name.begin(), name.end(), '-', '_');
    return "_" + name;
}

// One _arguments spec per option (a shell word, quoted for zsh).
std::vector<std::string> zsh_specs(const CliCommand& cmd) {
    std::vector<std::string> specs;
    for (const auto& o : cmd.options) {
        const std::string desc = zsh_escape_desc(o.description);
        if (!o.positional.empty()) {
            specs.push_back(shell_quote(std::string(o.repeated ? "*" : "") + ":" + o.positional + ":" + zsh_action(o)));
            continue;
        }
        std::string value;
        if (o.value != CliOption::Value::none) value = ":" + (o.choices.empty() ? upper(o.type) : std::string("value")) + ":" + zsh_action(o);
        std::vector<std::string> forms;
        for (const auto& n : o.names)
            forms.push_back(n + (o.value == CliOption::Value::none ? "" : (starts_with(n, "--") ? "=" : "+")));
        const bool help = std::find(o.names.begin(), o.names.end(), "--help") != o.names.end();
        std::string excl = o.repeated ? "*" : "(" + join(o.names, " ") + ")";
        if (help) excl = "(- *)";
        const std::string tail = shell_quote("[" + desc + "]" + value);
        if (forms.size() == 1)
            specs.push_back(shell_quote(excl) + shell_quote(forms[0]) + tail);
        else
            specs.push_back(shell_quote(excl) + "{" + join(forms, ",") + "}" + tail);
    }
    return specs;
}

void zsh_functions(const CliCommand& cmd, std::string* out) {
    const std::vector<std::string> specs = zsh_specs(cmd);
    std::string f = zsh_func(cmd) + "() {\n";
    if (cmd.subcommands.empty()) {
        f += "  _arguments -s -S \\\n";
        for (const auto& s : specs) f += "    " + s + " \\\n";
        f += "    \"${_facepipe_globals[@]}\"\n}\n\n";
    } else {
        f += "  local curcontext=\"$curcontext\" state state_descr line ret=1\n  typeset -A opt_args\n"
             "  _arguments -C -s -S \\\n";
        for (const auto& s : specs) f += "    " + s + " \\\n";
        if (cmd.path.size() > 1) f += "    \"${_facepipe_globals[@]}\" \\\n";
        f += "    ': :->command' '*:: :->argument' && ret=0\n  case $state in\n    command)\n"
             "      local -a subcommands=(\n";
        for (const auto& s : cmd.subcommands)
            f += "        " + shell_quote(s.path.back() + ":" + zsh_escape_desc(s.summary())) + "\n";
        f += "      )\n      _describe -t commands " + shell_quote(join(cmd.path, " ") + " command") +
             " subcommands && ret=0 ;;\n    argument)\n      curcontext=\"${curcontext%:*:*}:" + cmd.path.back() +
             "-$line[1]:\"\n      case $line[1] in\n";
        for (const auto& s : cmd.subcommands) f += "        " + s.path.back() + ") " + zsh_func(s) + " && ret=0 ;;\n";
        f += "      esac ;;\n  esac\n  return ret\n}\n\n";
    }
    *out += f;
    for (const auto& s : cmd.subcommands) zsh_functions(s, out);
}

}  // namespace

std::string CliCommand::name() const { return join(path, "-"); }

std::string CliCommand::summary() const {
    std::vector<std::string> text, examples;
    split_description(description, &text, &examples);
    return join(text, " ");
}

std::vector<std::string> CliCommand::examples() const {
    std::vector<std::string> text, examples;
    split_description(description, &text, &examples);
    return examples;
}

std::string roff_escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '\\') out += "\\e";
        else if (c == '-') out += "\\-";
        else out += c;
    }
    return out;
}

DocSections markdown_sections(const std::string& markdown) {
    DocSections sections;
    std::string current;
    bool in_code = false;
    for (const auto& line : lines_of(markdown)) {
        if (starts_with(trim(line), "```")) in_code = !in_code;
        if (!in_code && starts_with(line, "## ")) {
            current = trim(line.substr(3));
            sections[current];
            continue;
        }
        if (!in_code && starts_with(line, "# ")) continue;
        sections[current] += line + "\n";
    }
    return sections;
}

std::string markdown_to_man(const std::string& markdown, const std::map<std::string, std::string>& link_pages) {
    std::string out;
    const std::vector<std::string> lines = lines_of(markdown);
    bool in_code = false, in_list = false, pending_pp = false, started = false;
    auto paragraph = [&] {
        if (started && (pending_pp || in_list)) out += ".PP\n";
        pending_pp = in_list = false;
        started = true;
    };
    for (size_t i = 0; i < lines.size(); ++i) {
        const std::string& line = lines[i];
        const std::string t = trim(line);
        if (in_code) {
            if (starts_with(t, "```")) {
                out += ".fi\n.RE\n";
                in_code = false;
                pending_pp = true;
            } else {
                out += text_line(roff_escape(line)) + "\n";
            }
            continue;
        }
        if (starts_with(t, "```")) {
            out += started ? ".PP\n" : "";
            out += ".RS 4\n.nf\n";
            in_code = started = true;
            in_list = pending_pp = false;
            continue;
        }
        if (t.empty()) {
            pending_pp = true;
            continue;
        }
        if (starts_with(t, "<p") || starts_with(t, "<img") || starts_with(t, "</p")) continue;
        if (starts_with(t, "# ")) continue;
        if (starts_with(t, "## ") || starts_with(t, "### ")) {
            const bool sub = starts_with(t, "### ");
            out += (sub ? ".SS " : ".SH ") + text_line(inline_md(sub ? t.substr(4) : upper(t.substr(3)), link_pages)) + "\n";
            pending_pp = in_list = false;
            started = false;
            continue;
        }
        if (t[0] == '|') {
            std::vector<std::string> header;
            for (; i < lines.size() && starts_with(trim(lines[i]), "|"); ++i) {
                const std::vector<std::string> cells = table_cells(lines[i]);
                if (header.empty()) {
                    header = cells;
                    continue;
                }
                if (!cells.empty() && cells[0].find_first_not_of("-: ") == std::string::npos) continue;  // |---|
                out += ".TP\n" + text_line(cells.empty() ? "" : inline_md(cells[0], link_pages)) + "\n";
                std::vector<std::string> rest;
                for (size_t c = 1; c < cells.size(); ++c) {
                    if (cells[c].empty() || cells[c] == "-") continue;
                    const std::string head = c < header.size() && header.size() > 2 ? header[c] + ": " : "";
                    rest.push_back(inline_md(head + cells[c], link_pages));
                }
                out += text_line(join(rest, "; ")) + "\n";
            }
            --i;
            in_list = true;  // the next paragraph needs its own .PP
            started = true;
            continue;
        }
        std::string marker, rest;
        if (list_item(t, &marker, &rest)) {
            out += ".IP " + marker + (marker == "\\(bu" ? " 2" : " 4") + "\n" +
                   text_line(inline_md(rest, link_pages)) + "\n";
            in_list = started = true;
            pending_pp = false;
            continue;
        }
        if (in_list && !pending_pp && (line[0] == ' ' || line[0] == '\t')) {  // a list item's next line
            out += text_line(inline_md(t, link_pages)) + "\n";
            continue;
        }
        if (in_list && !pending_pp) {  // a lazy continuation line of the item
            out += text_line(inline_md(t, link_pages)) + "\n";
            continue;
        }
        paragraph();
        out += text_line(inline_md(t, link_pages)) + "\n";
    }
    if (in_code) out += ".fi\n.RE\n";
    return out;
}

std::string man_page(const CliCommand& root, const CliCommand& cmd, const DocSections& docs,
                     const std::map<std::string, std::string>& link_pages, const std::string& version) {
    const bool is_root = cmd.path.size() == 1;
    std::string summary = cmd.summary();
    std::string name_line = summary;
    if (is_root) {  // the description's first line, without "facepipe: "
        name_line = lines_of(cmd.description).empty() ? "" : trim(lines_of(cmd.description)[0]);
        if (starts_with(name_line, root.path[0] + ": ")) name_line = name_line.substr(root.path[0].size() + 2);
        if (!name_line.empty() && name_line.back() == '.') name_line.pop_back();
    }
    auto doc = [&](const std::string& key) {
        const auto it = docs.find(key);
        return it == docs.end() ? std::string() : markdown_to_man(it->second, link_pages);
    };

    std::string s = header(root.path[0], cmd.name(), 1, version);
    s += ".SH NAME\n" + roff_escape(cmd.name()) + " \\- " + roff_escape(name_line) + "\n";
    s += ".SH SYNOPSIS\n" + synopsis(cmd);
    for (const auto& sub : cmd.subcommands)
        if (!is_root) s += synopsis(sub);
    s += ".SH DESCRIPTION\n" + text_line(roff_escape(sentence(summary))) + "\n";
    if (const std::string d = doc(is_root ? "" : "DESCRIPTION"); !d.empty()) s += ".PP\n" + d;

    s += ".SH OPTIONS\n" + options_section(cmd);
    if (is_root) {
        s += ".SH COMMANDS\n";
        for (const auto& sub : cmd.subcommands)
            s += ".TP\n" + bold(sub.path.back()) + "\n" + text_line(roff_escape(sentence(sub.summary()))) + " See " +
                 page_ref(sub.name() + "(1)") + ".\n";
    } else {
        for (const auto& sub : cmd.subcommands) {
            s += ".SH " + upper(roff_escape(join(sub.path, " "))) + "\n" + text_line(roff_escape(sub.summary())) +
                 "\n" + options_section(sub);
        }
        s += ".SH GLOBAL OPTIONS\nThese may come before or after the subcommand (see " + page_ref("facepipe(1)") + ").\n" +
             options_section([&] {
                 CliCommand globals = root;
                 globals.options.erase(std::remove_if(globals.options.begin(), globals.options.end(),
                                                      [](const CliOption& o) {
                                                          return std::find(o.names.begin(), o.names.end(), "--help") !=
                                                                 o.names.end();
                                                      }),
                                       globals.options.end());
                 return globals;
             }());
    }

    if (const std::string d = doc(is_root ? "Exit codes" : "EXIT STATUS"); !d.empty()) s += ".SH EXIT STATUS\n" + d;

    if (is_root) {
        if (const std::string d = doc("Environment"); !d.empty()) s += ".SH ENVIRONMENT\n" + d;
    } else {
        std::vector<std::pair<std::string, std::string>> env;
        collect_env(cmd, &env);
        if (!env.empty()) {
            s += ".SH ENVIRONMENT\n";
            for (const auto& [var, option] : env) s += ".TP\n" + bold(var) + "\nSets " + bold(option) + ".\n";
        }
    }

    std::vector<std::string> examples = cmd.examples();
    for (const auto& sub : cmd.subcommands)
        for (const auto& e : sub.examples()) examples.push_back(e);
    const std::string doc_examples = doc("EXAMPLES");
    if (!examples.empty() || !doc_examples.empty()) {
        s += ".SH EXAMPLES\n";
        if (!examples.empty()) {
            s += ".RS 4\n.nf\n";
            for (const auto& e : examples) s += text_line(roff_escape(e)) + "\n";
            s += ".fi\n.RE\n";
        }
        if (!doc_examples.empty()) s += (examples.empty() ? "" : ".PP\n") + doc_examples;
    }

    s += ".SH SEE ALSO\n";
    std::vector<std::string> refs;
    if (is_root) {
        for (const auto& sub : cmd.subcommands) refs.push_back(page_ref(sub.name() + "(1)"));
    } else {
        refs.push_back(page_ref(root.path[0] + "(1)"));
    }
    refs.push_back(page_ref(root.path[0] + "(5)"));
    s += join(refs, ",\n") + "\n.PP\nThe full documentation: " + italic("/usr/share/doc/facepipe/") + ".\n";
    return s;
}

std::string man_page_from_markdown(const std::string& title, int section, const std::string& summary,
                                   const std::string& markdown,
                                   const std::map<std::string, std::string>& link_pages,
                                   const std::string& version) {
    return header(title, title, section, version) + ".SH NAME\n" + roff_escape(title) + " \\- " + roff_escape(summary) + "\n" +
           ".SH DESCRIPTION\n" + markdown_to_man(markdown, link_pages);
}

std::string bash_completion(const CliCommand& root) {
    std::string cmds, values;
    bash_commands(root, &cmds, &values);
    const std::string p = root.path[0];
    return "# shellcheck shell=bash\n# bash completion for " + p +
           "; generated by `" + p + " --generate-docs` from its command-line definitions; do not edit.\n"
           "\n"
           "# _" + p + "_cmd PATH: the subcommands, flags (no value), options taking a value, and\n"
           "# positional kinds ('|'-separated; a last one ending in ... repeats) of the command PATH.\n"
           "_" + p + "_cmd() {\n    case \"$1\" in\n" + cmds +
           "        *) subs=''; flags=''; opts=''; pos='' ;;\n    esac\n}\n"
           "\n"
           "# _" + p + "_kind PATH OPTION: how OPTION's value completes (the program's own options apply at any depth).\n"
           "_" + p + "_kind() {\n    case \"$1 $2\" in\n" + values +
           "        *) [ \"$1\" != " + p + " ] && _" + p + "_kind " + p + " \"$2\" || echo path ;;\n    esac\n}\n"
           "\n"
           "# _" + p + "_complete KIND WORD: fills COMPREPLY.\n"
           "_" + p + "_complete() {\n"
           "    local head=\"\"\n"
           "    case \"$1\" in\n"
           "        words:*) mapfile -t COMPREPLY < <(compgen -W \"${1#words:}\" -- \"$2\") ;;\n"
           "        list:*) [[ \"$2\" == *,* ]] && head=\"${2%,*},\"\n"
           "                mapfile -t COMPREPLY < <(compgen -P \"$head\" -W \"${1#list:}\" -- \"${2##*,}\") ;;\n"
           "        directory) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- \"$2\") ;;\n"
           "        path) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- \"$2\") ;;\n"
           "        *) COMPREPLY=() ;;\n"
           "    esac\n"
           "}\n"
           "\n"
           "_" + p + "() {\n"
           "    local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"\" path=" + p + " i w subs flags opts pos gflags gopts npos=0\n"
           "    COMPREPLY=()\n"
           "    _" + p + "_cmd " + p + "; gflags=\"${flags/-h --help/}\"; gopts=\"$opts\"\n"
           "    # The subcommand path so far: words naming a subcommand; option values are skipped.\n"
           "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
           "        w=\"${COMP_WORDS[i]}\"\n"
           "        _" + p + "_cmd \"$path\"\n"
           "        if [[ \" $opts $gopts \" == *\" $w \"* ]]; then\n"
           "            if [[ \"${COMP_WORDS[i+1]}\" == = ]]; then ((i += 2)); else ((i += 1)); fi\n"
           "            continue\n"
           "        fi\n"
           "        [[ \"$w\" == -* ]] && continue\n"
           "        if [[ -n \"$subs\" && \" $subs \" == *\" $w \"* ]]; then path=\"$path $w\"; npos=0; else ((npos += 1)); fi\n"
           "    done\n"
           "    _" + p + "_cmd \"$path\"\n"
           "    (( COMP_CWORD > 1 )) && prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
           "    # --option=value: bash splits it at '=' (COMP_WORDBREAKS), or not.\n"
           "    if [[ \"$cur\" == = ]]; then _" + p + "_complete \"$(_" + p + "_kind \"$path\" \"$prev\")\" \"\"; return; fi\n"
           "    if [[ \"$prev\" == = ]] && (( COMP_CWORD > 2 )); then\n"
           "        _" + p + "_complete \"$(_" + p + "_kind \"$path\" \"${COMP_WORDS[COMP_CWORD-2]}\")\" \"$cur\"; return\n"
           "    fi\n"
           "    if [[ \"$cur\" == --*=* ]]; then\n"
           "        _" + p + "_complete \"$(_" + p + "_kind \"$path\" \"${cur%%=*}\")\" \"${cur#*=}\"\n"
           "        COMPREPLY=(\"${COMPREPLY[@]/#/${cur%%=*}=}\"); return\n"
           "    fi\n"
           "    if [[ -n \"$prev\" && \" $opts $gopts \" == *\" $prev \"* ]]; then\n"
           "        _" + p + "_complete \"$(_" + p + "_kind \"$path\" \"$prev\")\" \"$cur\"; return\n"
           "    fi\n"
           "    if [[ \"$cur\" == -* ]]; then\n"
           "        [ \"$path\" = " + p + " ] && gflags=\"\" && gopts=\"\"\n"
           "        mapfile -t COMPREPLY < <(compgen -W \"$flags $opts $gflags $gopts\" -- \"$cur\"); return\n"
           "    fi\n"
           "    if [[ -n \"$subs\" ]]; then mapfile -t COMPREPLY < <(compgen -W \"$subs\" -- \"$cur\"); return; fi\n"
           "    local kinds kind\n"
           "    IFS='|' read -r -a kinds <<< \"$pos\"\n"
           "    if (( npos < ${#kinds[@]} )); then kind=\"${kinds[npos]}\"\n"
           "    elif (( ${#kinds[@]} > 0 )) && [[ \"${kinds[-1]}\" == *... ]]; then kind=\"${kinds[-1]}\"\n"
           "    else kind=none; fi\n"
           "    _" + p + "_complete \"${kind%...}\" \"$cur\"\n"
           "}\n"
           "complete -F _" + p + " " + p + "\n";
}

std::string zsh_completion(const CliCommand& root) {
    CliCommand globals = root;
    globals.subcommands.clear();
    globals.options.erase(std::remove_if(globals.options.begin(), globals.options.end(),
                                         [](const CliOption& o) {
                                             return std::find(o.names.begin(), o.names.end(), "--help") != o.names.end();
                                         }),
                          globals.options.end());
    std::string out = "#compdef " + root.path[0] + "\n# zsh completion for " + root.path[0] + "; generated by `" +
                      root.path[0] + " --generate-docs` from its command-line definitions; do not edit.\n\n";
    out += "# The program's own options: accepted before or after any subcommand.\n_facepipe_globals=(\n";
    for (const auto& s : zsh_specs(globals)) out += "  " + s + "\n";
    out += ")\n\n";
    zsh_functions(root, &out);
    return out + zsh_func(root) + " \"$@\"\n";
}

}  // namespace facepipe
