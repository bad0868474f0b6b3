// facepipe augment — varied copies of every original photo (lib/augment.h).
#include <spdlog/spdlog.h>

#include <iostream>

#include "augment.h"
#include "commands.h"
#include "progress.h"

namespace facepipe::cmd {

void add_augment(CLI::App& app, Globals& g) {
    auto* c = app.add_subcommand(
        "augment",
        "write varied copies of each photo into dataset/<person>/augmented/ (deterministic, idempotent)\n"
        "  example: facepipe augment --copies 9 --seed 7");
    static std::string dataset = "dataset";
    static AugmentOptions o;
    static bool keep_stale = false;
    c->add_option("-d,--dataset", dataset, "dataset folder: one sub-folder of photos per person")
        ->capture_default_str()->envname("FACEPIPE_DATASET");
    c->add_option("-n,--copies", o.copies, "copies per original photo")->capture_default_str()->check(CLI::Range(0, 100));
    c->add_option("--seed", o.seed, "random seed: the same seed gives the same copies")->capture_default_str();
    std::string ops_help = "operations to use (default: all):";
    for (const auto& op : augmentation_ops()) ops_help += " " + op;
    c->add_option("--ops", o.ops, ops_help)->delimiter(',')->check(CLI::IsMember(augmentation_ops()));
    c->add_flag("--keep-stale", keep_stale, "do not remove copies whose original changed or disappeared");
    c->add_option("-j,--threads", o.threads, "worker threads (0 = all cores)")->capture_default_str();
    c->callback([&g] {
        o.prune = !keep_stale;
        ProgressBar bar("augment");
        const AugmentSummary s = augment_dataset(dataset, o, bar.callback());
        for (const auto& w : s.warnings) spdlog::warn("{}", w);
        for (const auto& e : s.errors) spdlog::error("{}", e);
        std::cout << s.originals << " originals: " << s.created << " copies created, " << s.kept << " kept, "
                  << s.pruned << " stale removed, " << s.failed << " failed\n";
        if (s.failed > 0) g.exit_code = kPartial;
    });
}

}  // namespace facepipe::cmd
