// facepipe encode — dataset images to encodings.bin (lib/encode.h).
#include <spdlog/spdlog.h>

#include <iostream>

#include "commands.h"
#include "encode.h"
#include "error.h"
#include "options.h"

namespace facepipe::cmd {
namespace {

struct EncodeCommand {
    EncodeOptions o;
    bool originals_only = false;
    std::string shard, format = "table";
    ExitCode run(const Globals& g);
};

ExitCode EncodeCommand::run(const Globals& g) {
    o.include_augmented = !originals_only;
    if (!shard.empty()) o.shard = parse_shard(shard);
    const auto models = LoadedModels::load(find_models(models_dir(g.models)));
    ProgressBar bar("encode");
    const EncodeSummary s = encode_dataset(o, models, bar.callback());
    for (const auto& p : s.problems) spdlog::warn("{}", p);
    std::cout << (format == "json" ? format_summary_json(s) : format_summary(s));
    // A shard may own no image of a small dataset: that is not a failure.
    const bool none_usable = s.ok == 0 && (s.images > 0 || o.shard.whole());
    if (none_usable) spdlog::error("{}: no usable face in any image", o.dataset.string());
    // A photo with no face is an ordinary skip; a file that is not a readable image is bad input,
    // and so is a dataset entry left out (a FIFO, a symlink loop...: warned by the scan).
    return none_usable || s.unreadable > 0 || s.left_out > 0 ? kPartial : kOk;
}

}  // namespace

void add_encode(CLI::App& app, Globals& g) {
    auto* c = app.add_subcommand("encode",
                                 "detect, align and embed every dataset image into encodings.bin (incremental)\n"
                                 "  example: facepipe encode --dataset dataset --output encodings.bin");
    auto cmd = std::make_shared<EncodeCommand>();
    EncodeOptions& o = cmd->o;
    c->add_option("-d,--dataset", o.dataset, "dataset folder: one sub-folder of photos per person")
        ->capture_default_str()->envname("FACEPIPE_DATASET");
    c->add_option("-o,--output", o.output, "encodings file to create or update")
        ->capture_default_str()->envname("FACEPIPE_ENCODINGS");
    c->add_option("-j,--threads", o.threads, "worker threads (0 = all cores)")->capture_default_str();
    c->add_flag("--originals-only", cmd->originals_only, "skip the augmented/ copies");
    c->add_flag("--rebuild", o.rebuild, "recompute everything, replacing an incompatible or unreadable output");
    c->add_option("--shard", cmd->shard,
                  "encode only share I of N (0 <= I < N, by a hash of each image's path) into --output, a partial "
                  "file for `facepipe merge`; e.g. --shard 2/4")
        ->check(CLI::Validator(
            [](std::string& text) {
                try {
                    parse_shard(text);
                    return std::string();
                } catch (const Error& e) {
                    return e.cause();
                }
            },
            "I/N"));
    c->add_option("-f,--format", cmd->format, "table (for people) or json (stable fields, for scripts)")
        ->capture_default_str()->check(CLI::IsMember({"table", "json"}));
    add_analyzer_flags(c, o.analyzer);
    run_on_callback(c, g, cmd);
}

}  // namespace facepipe::cmd
