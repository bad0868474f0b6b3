// cli_docs.h — man pages and shell completion from a description of the command
// line (cmd/docgen.cpp fills it in from the CLI11 app, so the pages and the
// completion can never disagree with --help), plus the few markdown constructs
// the docs/ pages use, rendered as man(7) troff for the parts written in prose
// (file formats, exit codes, a subcommand's DESCRIPTION).
//
// Pure text in, text out: no I/O, no CLI11. The output is deterministic (no
// dates), so a package build is reproducible.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace facepipe {

// One option or positional argument of a command.
struct CliOption {
    std::vector<std::string> names;  // "-m", "--model"; empty for a positional
    std::string positional;          // "INPUT" for a positional, else ""
    std::string type;                // "TEXT", "INT", "FLOAT", ...; "" for a flag (no value)
    std::string description;
    std::string default_value;       // "" when none is shown
    std::string env;                 // environment variable that sets it, or ""
    std::vector<std::string> choices;  // the only values accepted (CLI11 IsMember), else empty
    std::vector<std::string> checks;   // other validators as --help shows them ("INT in [0 - 3]", "DIR")
    std::string group;                 // option group ("source") or "" for the command's own
    std::string group_description;
    bool required = false;
    bool repeated = false;   // takes several values (INPUT...) or may be given several times
    bool comma_list = false;  // several values may be given as one comma-separated word
    // How a shell completes its value: none (a flag), one of `choices`, a
    // directory, a file (or any path), or nothing (a number, a name).
    enum class Value { none, choice, directory, path, other } value = Value::none;
};

// A command: the program itself or one (possibly nested) subcommand.
struct CliCommand {
    std::vector<std::string> path;  // {"facepipe"}, {"facepipe", "models", "import"}
    std::string description;        // as --help shows it: first line a summary, "example(s):" lines
    std::vector<CliOption> options;  // options, then positionals, in definition order
    std::vector<CliCommand> subcommands;
    bool needs_subcommand = false;  // else running it without one is valid too

    std::string name() const;  // path joined by '-': "facepipe-models-import"
    std::string summary() const;  // description's first line
    std::vector<std::string> examples() const;  // the command lines of its "example(s):" lines
};

// The prose a man page takes from the docs, by section (markdown_sections of
// docs/<subcommand>.md; README.md's sections for facepipe(1)). Missing keys are skipped.
using DocSections = std::map<std::string, std::string>;

// The sections of a markdown page by "## " heading (text up to the next "## "),
// headings as written ("EXIT STATUS", "Exit codes").
DocSections markdown_sections(const std::string& markdown);

// man(7) body text for markdown: paragraphs, "- " lists, fenced code, tables
// (one tagged paragraph per row), "### " subsections, `code`, **bold**, links
// (their text). `link_pages` maps a relative link target ("predict.md") to the
// man page it becomes ("facepipe-predict(1)"); other links keep their text alone
// (and show an http(s) URL).
std::string markdown_to_man(const std::string& markdown,
                            const std::map<std::string, std::string>& link_pages = {});

// Escapes text for a troff line: backslashes, a leading '.' or '\'', and '-'.
std::string roff_escape(const std::string& text);

// facepipe(1) (when `cmd` is the root) or facepipe-SUB(1): NAME, SYNOPSIS,
// DESCRIPTION (the command's description, then docs' DESCRIPTION), OPTIONS
// (every option, its default, environment variable, choices and checks),
// nested subcommands, the root's options as GLOBAL OPTIONS (they may follow any
// subcommand), EXIT STATUS, ENVIRONMENT, EXAMPLES, SEE ALSO.
std::string man_page(const CliCommand& root, const CliCommand& cmd, const DocSections& docs,
                     const std::map<std::string, std::string>& link_pages, const std::string& version);

// A man page of section `section` titled `title` whose body is markdown.
std::string man_page_from_markdown(const std::string& title, int section, const std::string& summary,
                                   const std::string& markdown,
                                   const std::map<std::string, std::string>& link_pages,
                                   const std::string& version);

// Completion scripts for the root command and all its subcommands: for
// /usr/share/bash-completion/completions/facepipe and
// /usr/share/zsh/vendor-completions/_facepipe. Both complete subcommands, flags
// (the root's at any depth, as the program accepts them after a subcommand),
// the values of choice flags, and files or folders where a path is expected.
std::string bash_completion(const CliCommand& root);
std::string zsh_completion(const CliCommand& root);

}  // namespace facepipe
