// facepipe eval — accuracy on LFW's verification protocol and on identification (lib/eval.h).
#include <spdlog/spdlog.h>

#include <iostream>

#include "commands.h"
#include "eval.h"
#include "options.h"

namespace facepipe::cmd {
namespace {

struct EvalCommand {
    EvalOptions o;
    std::string format = "table", face = "centre", vote = "per-person", make_pairs_dir;
    int folds = 10;
    unsigned seed = 1;
    bool originals_only = false;
    ExitCode run(const Globals& g);
    ExitCode run_make_pairs() const;
};

ExitCode EvalCommand::run_make_pairs() const {
    if (o.dataset.empty()) throw CLI::RequiredError("--dataset (with --make-pairs)");
    const MadePairs m = make_pairs(o.dataset, make_pairs_dir, folds, seed);
    std::cout << "wrote " << m.pairs_file.string() << ": " << m.folds << " folds of " << m.per_fold
              << " same-person and " << m.per_fold << " different-person pairs over " << m.images << " photos of "
              << m.people << " people\n";
    return kOk;
}

ExitCode EvalCommand::run(const Globals& g) {
    if (!make_pairs_dir.empty()) return run_make_pairs();
    if (o.pairs.empty() && o.dataset.empty()) throw CLI::RequiredError("--pairs or --dataset");
    o.analyzer.choice = parse_face_choice(face);
    o.train.vote = parse_vote_mode(vote);
    o.include_augmented = !originals_only;
    const auto models = LoadedModels::load(find_models(models_dir(g.models)));
    EvalReport r;
    {
        ProgressBar bar("eval");
        r = run_eval(o, models, bar.callback());
    }
    for (const auto& p : r.verification.problems) spdlog::warn("{}", p);
    for (const auto& p : r.identification.problems) spdlog::warn("{}", p);
    std::cout << (format == "json" ? format_eval_json(r) : format_eval_table(r));
    // A photo without a face is an ordinary (reported) error of the protocol; a missing or unreadable file is
    // bad data, and so is a folder entry left out (a FIFO, a symlink loop...: warned by the scan).
    const bool bad = r.verification.bad_images > 0 || r.identification.bad_images > 0 ||
                     r.verification.left_out > 0 || r.identification.left_out > 0;
    return bad ? kPartial : kOk;
}

}  // namespace

void add_eval(CLI::App& app, Globals& g) {
    auto* c = app.add_subcommand(
        "eval",
        "measure accuracy: LFW-style 10-fold verification on a pairs file, and closed/open-set identification\n"
        "  on a folder-per-person dataset\n"
        "  example: facepipe eval --pairs lfw/pairs.txt --dataset dataset --format json");
    auto cmd = std::make_shared<EvalCommand>();
    EvalOptions& o = cmd->o;
    c->add_option("--pairs", o.pairs, "verification: a pairs file in LFW's pairs.txt format");
    c->add_option("--lfw-root", o.lfw_root,
                  "folder holding the pairs' images as NAME/NAME_NNNN.<ext> (default: the pairs file's folder)");
    c->add_option("-d,--dataset", o.dataset, "identification: one sub-folder of photos per person");
    c->add_option("--make-pairs", cmd->make_pairs_dir,
                  "instead of evaluating: write an LFW-style folder (symlinks NAME/NAME_NNNN.<ext> and pairs.txt) "
                  "from --dataset into this new folder");
    c->add_option("--folds", cmd->folds, "folds of the pairs file --make-pairs writes")->capture_default_str()->check(CLI::Range(2, 100));
    c->add_option("--seed", cmd->seed, "seed of the pairs --make-pairs draws")->capture_default_str();
    c->add_option("--face", cmd->face, "face to use in a photo with several: centre (LFW's convention) or largest")
        ->capture_default_str()->check(CLI::IsMember({"centre", "largest"}));
    c->add_option("--threshold", o.fixed_threshold, "verification: the fixed threshold to report accuracy at")
        ->capture_default_str()->check(CLI::Range(0.05, 1.5));
    c->add_option("--far", o.roc_fars, "verification: false-accept rates to report TAR at")
        ->capture_default_str()->delimiter(',')->check(CLI::Range(1e-6, 0.5));
    c->add_option("--thresholds", o.open_set_thresholds, "identification: open-set thresholds to tabulate")
        ->capture_default_str()->delimiter(',')->check(CLI::Range(0.05, 1.5));
    c->add_option("--target-far", o.target_far, "identification: false-accept rate the recommended threshold aims for")
        ->capture_default_str()->check(CLI::Range(0.0001, 0.5));
    c->add_option("--vote", cmd->vote, "identification: classifier vote, as in train")
        ->capture_default_str()->check(CLI::IsMember({"per-person", "knn"}));
    c->add_option("-k", o.train.k, "identification: neighbours for --vote knn (0 = round(sqrt(N)))")
        ->capture_default_str()->check(CLI::NonNegativeNumber);
    c->add_option("--per-person-m", o.train.per_person_m, "identification: M for --vote per-person")
        ->capture_default_str()->check(CLI::Range(1, 100));
    c->add_flag("--originals-only", cmd->originals_only, "identification: leave the augmented/ copies out of the gallery");
    c->add_option("--cache-dir", o.cache_dir,
                  "where descriptors are cached, one encodings file per image folder (default: "
                  "$XDG_CACHE_HOME/facepipe/eval or ~/.cache/facepipe/eval)");
    c->add_option("-j,--threads", o.threads, "worker threads for encoding (0 = all cores)")->capture_default_str();
    c->add_option("-f,--format", cmd->format, "table (for people) or json (stable fields, see README)")
        ->capture_default_str()->check(CLI::IsMember({"table", "json"}));
    add_analyzer_flags(c, o.analyzer);
    run_on_callback(c, g, cmd);
}

}  // namespace facepipe::cmd
