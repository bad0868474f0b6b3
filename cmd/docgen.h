// docgen.h — the hidden `facepipe --generate-docs SOURCE_DIR OUTPUT_DIR` build
// step: man pages and shell completion from the app's own definitions
// (lib/cli_docs.h), so they always agree with --help.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

namespace facepipe::cmd {

// Writes into `out_dir`: man1/facepipe.1 and man1/facepipe-SUB.1 per subcommand,
// man5/facepipe.5 (docs/formats.md and README's exit codes), completion/facepipe
// (bash) and completion/_facepipe (zsh). Prose comes from `source_dir`'s README.md
// and docs/SUB.md. Pages left from an older generation are removed. Returns 0;
// throws Error naming a file that cannot be read or written.
int generate_docs(const CLI::App& app, const std::string& source_dir, const std::string& out_dir);

}  // namespace facepipe::cmd
