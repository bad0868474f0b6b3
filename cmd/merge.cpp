// facepipe merge — partial encodings files of `encode --shard` into one (lib/shard.h).
#include <spdlog/spdlog.h>

#include <iostream>

#include "commands.h"
#include "shard.h"

namespace facepipe::cmd {
namespace {

struct MergeCommand {
    std::vector<std::string> parts;
    std::string output = "encodings.bin";
    ExitCode run(const Globals& g) const;
};

ExitCode MergeCommand::run(const Globals&) const {
    MergeSummary s;
    const EncodingsFile merged = merge_encodings(parts, &s);
    write_encodings(output, merged);
    std::cout << "merged " << s.parts << " parts: " << s.records << " records";
    if (s.duplicates > 0) std::cout << " (" << s.duplicates << " duplicates dropped)";
    std::cout << " -> " << output << "\n";
    return kOk;
}

}  // namespace

void add_merge(CLI::App& app, Globals& g) {
    auto* c = app.add_subcommand(
        "merge",
        "combine the partial encodings files of `encode --shard I/N` into the file a single encode would write\n"
        "  example: facepipe merge parts/encodings.*.bin --output encodings.bin");
    auto cmd = std::make_shared<MergeCommand>();
    c->add_option("parts", cmd->parts, "partial encodings files, in any order")->required()->check(CLI::ExistingFile);
    c->add_option("-o,--output", cmd->output, "merged encodings file (replaced atomically)")
        ->capture_default_str()->envname("FACEPIPE_ENCODINGS");
    run_on_callback(c, g, cmd);
}

}  // namespace facepipe::cmd
