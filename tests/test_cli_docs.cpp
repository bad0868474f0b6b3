// lib/cli_docs.h: markdown to man(7), man pages and completion from a command description.
#include "cli_docs.h"

#include <doctest/doctest.h>

using namespace facepipe;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

CliCommand made_up_program() {
    CliCommand root;
    root.path = {"prog"};
    root.description = "prog: does things.\n  more words";
    CliOption help;
    help.names = {"-h", "--help"};
    help.description = "Print this help message and exit";
    root.options.push_back(help);
    CliCommand sub;
    sub.path = {"prog", "run"};
    sub.description = "run the thing\n  example: prog run -f csv in.jpg";
    sub.options.push_back(help);
    CliOption format;
    format.names = {"-f", "--format"};
    format.type = "TEXT";
    format.description = "output format";
    format.default_value = "table";
    format.env = "PROG_FORMAT";
    format.choices = {"table", "csv"};
    format.value = CliOption::Value::choice;
    sub.options.push_back(format);
    CliOption input;
    input.positional = "INPUT";
    input.type = "TEXT";
    input.description = "images";
    input.required = input.repeated = true;
    input.value = CliOption::Value::path;
    sub.options.push_back(input);
    root.subcommands.push_back(sub);
    return root;
}

}  // namespace

TEST_CASE("cli_docs: roff_escape makes hyphens minus signs and backslashes printable") {
    CHECK(roff_escape("--model a\\b") == "\\-\\-model a\\eb");
}

TEST_CASE("cli_docs: markdown_to_man renders the constructs docs/ uses") {
    const std::string md =
        "Intro with `--flag` and **bold** and [predict](predict.md#options) and [site](https://x.org).\n"
        ".starts with a dot\n"
        "\n"
        "- item one\n"
        "  continued\n"
        "- item two\n"
        "\n"
        "```sh\n"
        "facepipe predict -\n"
        "```\n"
        "\n"
        "| code | meaning |\n"
        "| --- | --- |\n"
        "| 0 | ok |\n"
        "\n"
        "| offset | size | field |\n"
        "| ---: | ---: | --- |\n"
        "| 8 | 4 | version |\n"
        "\n"
        "## Exit status\n"
        "### Details\n"
        "<p><img src=\"x.png\"></p>\n";
    const std::string man = markdown_to_man(md, {{"predict.md", "facepipe-predict(1)"}});
    CHECK(has(man, "Intro with \\fB\\-\\-flag\\fR and \\fBbold\\fR and \\fBfacepipe\\-predict\\fR(1) and site <https://x.org>."));
    CHECK(has(man, "\n\\&.starts with a dot\n"));
    CHECK(has(man, ".IP \\(bu 2\nitem one\ncontinued\n.IP \\(bu 2\nitem two\n"));
    CHECK(has(man, ".nf\nfacepipe predict \\-\n.fi\n"));
    CHECK(has(man, ".TP\n0\nok\n"));             // two columns: the value alone
    CHECK(has(man, ".TP\n8\nsize: 4; field: version\n"));  // more: each under its header
    CHECK(has(man, ".SH EXIT STATUS\n.SS Details\n"));
    CHECK_FALSE(has(man, "img"));
}

TEST_CASE("cli_docs: markdown_sections splits a page at its ## headings, not inside code") {
    const DocSections s = markdown_sections("# Title\nintro\n## One\na\n```\n## not a heading\n```\n## Two\nb\n");
    CHECK(s.at("") == "intro\n");
    CHECK(s.at("One") == "a\n```\n## not a heading\n```\n");
    CHECK(s.at("Two") == "b\n");
}

TEST_CASE("cli_docs: a subcommand's man page lists its options, defaults, choices, environment and examples") {
    const CliCommand root = made_up_program();
    const std::string page = man_page(root, root.subcommands[0], {{"DESCRIPTION", "More `prose`.\n"}}, {}, "1.2.3");
    CHECK(has(page, ".TH PROG-RUN 1 \"\" \"prog 1.2.3\""));
    CHECK(has(page, ".SH NAME\nprog\\-run \\- run the thing\n"));
    CHECK(has(page, ".TP\n\\fB\\-f\\fR, \\fB\\-\\-format\\fR \\fItable|csv\\fR\nOutput format.\n"
                    "One of: \\fBtable\\fR, \\fBcsv\\fR. Default: \\fBtable\\fR. Environment: \\fBPROG_FORMAT\\fR.\n"));
    CHECK(has(page, ".TP\n\\fIINPUT\\fR...\nImages.\nRequired.\n"));
    CHECK(has(page, "More \\fBprose\\fR."));
    CHECK(has(page, ".SH ENVIRONMENT\n.TP\n\\fBPROG_FORMAT\\fR\nSets \\fBrun \\-\\-format\\fR.\n"));
    CHECK(has(page, ".SH EXAMPLES\n.RS 4\n.nf\nprog run \\-f csv in.jpg\n"));
    CHECK(has(page, ".SH SEE ALSO\n\\fBprog\\fR(1),\n\\fBprog\\fR(5)\n"));
}

TEST_CASE("cli_docs: completion scripts name every subcommand, flag and choice") {
    const CliCommand root = made_up_program();
    const std::string bash = bash_completion(root);
    CHECK(has(bash, "'prog') subs='run'; flags='-h --help'; opts=''; pos='' ;;"));
    CHECK(has(bash, "'prog run') subs=''; flags='-h --help'; opts='-f --format'; pos='path...' ;;"));
    CHECK(has(bash, "'prog run -f'|'prog run --format') echo 'words:table csv' ;;"));
    CHECK(has(bash, "complete -F _prog prog\n"));
    const std::string zsh = zsh_completion(root);
    CHECK(has(zsh, "#compdef prog\n"));
    CHECK(has(zsh, "'(-f --format)'{-f+,--format=}'[output format]:value:(table csv)'"));
    CHECK(has(zsh, "'*:INPUT:_files'"));
    CHECK(has(zsh, "'run:run the thing'"));
}
