// options.h — flags shared by the subcommands that run the face path, so that
// encode, predict and live expose (and default) them identically.
#pragma once
#include <CLI/CLI.hpp>

#include "enroll.h"
#include "recognizer.h"
#include "unknown_collect.h"

namespace facepipe::cmd {

// The detector: its kind (the subcommand's default, docs/detectors.md), its
// score threshold and HOG's scale settings.
inline void add_analyzer_flags(CLI::App* app, AnalyzerOptions& o) {
    app->add_option_function<std::string>(
           "--detector", [&o](const std::string& v) { o.detector.kind = parse_detector_kind(v); },
           "face detector: hog (dlib's, upright near-frontal faces) or ssd (face-api's SSD MobileNet v1: also "
           "turned, small and partly hidden faces; docs/detectors.md)")
        ->default_str(to_string(o.detector.kind))->check(CLI::IsMember({"hog", "ssd"}));
    app->add_option("--min-score,--detect-threshold", o.detector.min_score,
                    "drop faces scoring below this (default: hog 0, dlib's own threshold, > 0 fewer and surer faces, "
                    "< 0 more; ssd 0.5, a probability)");
    app->add_option("--upsample", o.detector.upsample, "hog: times to double small images before detecting faces (0-3)")
        ->capture_default_str()->check(CLI::Range(0, 3));
    app->add_option("--max-side", o.detector.max_side,
                    "hog: downscale images whose long side exceeds this before detecting (boxes are mapped back)")
        ->capture_default_str()->check(CLI::Range(160, 16384));
}

// Where enrolment writes and how it augments: enroll, and serve (which enrols
// from the browser and the API).
inline void add_enrolment_flags(CLI::App* app, EnrollOptions& o) {
    app->add_option("-d,--dataset", o.dataset, "dataset folder: one sub-folder of photos per person")
        ->capture_default_str()->envname("FACEPIPE_DATASET");
    app->add_option("-e,--encodings", o.encodings, "encodings file to update")
        ->capture_default_str()->envname("FACEPIPE_ENCODINGS");
    app->add_option("-m,--model", o.model, "model file to write")->capture_default_str()->envname("FACEPIPE_MODEL");
    app->add_option("-l,--labels", o.labels, "labels file to write")->capture_default_str()->envname("FACEPIPE_LABELS");
    app->add_option("--lock", o.lock, "lock file shared with scripts/retrain.sh (default: facepipe.lock beside the model)")
        ->envname("FACEPIPE_LOCK");
    app->add_option("-n,--copies", o.augment.copies, "augmented copies per photo: use the dataset's setting")
        ->capture_default_str()->check(CLI::Range(0, 100))->envname("FACEPIPE_COPIES");
    app->add_option("--seed", o.augment.seed, "augmentation seed: use the dataset's setting")
        ->capture_default_str()->envname("FACEPIPE_SEED");
}

// --collect-unknown [DIR] and its gates: predict, live and serve keep the faces
// they label unknown (unknown_collect.h; docs/unknown.md "Collecting").
struct CollectFlags {
    CLI::Option* flag = nullptr;
    std::string dir;
    CollectOptions o;
    // The options to collect with: off unless --collect-unknown was given; its DIR,
    // else unknown/ beside the model (unknown_store.h default_unknown_dir).
    CollectOptions resolve(const std::filesystem::path& model) const {
        CollectOptions r = o;
        r.dir = flag && flag->count() > 0 ? unknown_dir_or_default(dir, model) : std::filesystem::path();
        return r;
    }
};

inline void add_collect_flags(CLI::App* app, CollectFlags& f, bool tracks) {
    f.flag = app->add_option("--collect-unknown", f.dir,
                             "keep the faces labelled unknown in DIR (default: unknown/ beside the model) for "
                             "`facepipe cluster`; give DIR as --collect-unknown=DIR before other arguments")
                 ->expected(0, 1)->type_name("[DIR]");
    app->add_option("--collect-max", f.o.max_faces, "with --collect-unknown: faces the store keeps, the oldest dropped")
        ->capture_default_str()->check(CLI::Range(std::size_t{1}, std::size_t{10000000}));
    app->add_option("--collect-min-size", f.o.min_face_px, "with --collect-unknown: smallest face kept (shorter box side, px)")
        ->capture_default_str()->check(CLI::Range(1, 100000));
    app->add_option("--collect-min-score", f.o.min_score, "with --collect-unknown: lowest detector score kept")
        ->capture_default_str()->check(CLI::Range(-10.0, 100.0));
    app->add_option("--collect-min-sharpness", f.o.min_sharpness,
                    "with --collect-unknown: least sharpness kept (variance of the Laplacian of the face as a 150x150 chip)")
        ->capture_default_str()->check(CLI::Range(0.0, 1e6));
    if (tracks)
        app->add_option("--collect-per-track", f.o.per_track, "with --collect-unknown: faces kept per track, sharpest first")
            ->capture_default_str()->check(CLI::Range(1, 100));
}

}  // namespace facepipe::cmd
