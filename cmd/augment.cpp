// facepipe augment — varied copies of every original photo (lib/augment.h).
#include <spdlog/spdlog.h>

#include <iostream>

#include "augment.h"
#include "commands.h"
#include "progress.h"

namespace facepipe::cmd {
namespace {

struct AugmentCommand {
    std::string dataset = "dataset";
    AugmentOptions o;
    bool keep_stale = false;
    ExitCode run(const Globals& g);
};

ExitCode AugmentCommand::run(const Globals&) {
    o.prune = !keep_stale;
    ProgressBar bar("augment");
    const AugmentSummary s = augment_dataset(dataset, o, bar.callback());
    for (const auto& w : s.warnings) spdlog::warn("{}", w);
    for (const auto& e : s.errors) spdlog::error("{}", e);
    std::cout << s.originals << " originals: " << s.created << " copies created, " << s.kept << " kept, " << s.pruned
              << " stale removed, " << s.failed << " failed"
              << (s.left_out > 0 ? ", " + std::to_string(s.left_out) + " left out" : std::string()) << "\n";
    // Dataset entries that could not be read (FIFOs, symlink loops...) were left out: say so.
    return s.failed > 0 || s.left_out > 0 ? kPartial : kOk;
}

}  // namespace

void add_augment(CLI::App& app, Globals& g) {
    auto* c = app.add_subcommand(
        "augment",
        "write varied copies of each photo into dataset/<person>/augmented/ (deterministic, idempotent)\n"
        "  example: facepipe augment --copies 9 --seed 7");
    auto cmd = std::make_shared<AugmentCommand>();
    c->add_option("-d,--dataset", cmd->dataset, "dataset folder: one sub-folder of photos per person")
        ->capture_default_str()->envname("FACEPIPE_DATASET");
    c->add_option("-n,--copies", cmd->o.copies, "copies per original photo")->capture_default_str()->check(CLI::Range(0, 100));
    c->add_option("--seed", cmd->o.seed, "random seed: the same seed gives the same copies")->capture_default_str();
    std::string ops_help = "operations to use (default: all):";
    for (const auto& op : augmentation_ops()) ops_help += " " + op;
    c->add_option("--ops", cmd->o.ops, ops_help)->delimiter(',')->check(CLI::IsMember(augmentation_ops()));
    c->add_flag("--keep-stale", cmd->keep_stale, "do not remove copies whose original changed or disappeared");
    c->add_option("-j,--threads", cmd->o.threads, "worker threads (0 = all cores)")->capture_default_str();
    run_on_callback(c, g, cmd);
}

}  // namespace facepipe::cmd
