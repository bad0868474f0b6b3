// options.h — flags shared by the subcommands that run the face path, so that
// encode, predict and live expose (and default) them identically.
#pragma once
#include <CLI/CLI.hpp>

#include "enroll.h"
#include "recognizer.h"

namespace facepipe::cmd {

inline void add_analyzer_flags(CLI::App* app, AnalyzerOptions& o) {
    app->add_option("--upsample", o.detector.upsample, "times to double small images before detecting faces (0-3)")
        ->capture_default_str()->check(CLI::Range(0, 3));
    app->add_option("--max-side", o.detector.max_side,
                    "downscale images whose long side exceeds this before detecting (boxes are mapped back)")
        ->capture_default_str()->check(CLI::Range(160, 16384));
    app->add_option("--detect-threshold", o.detector.adjust_threshold,
                    "added to the HOG detector's threshold: > 0 fewer, surer faces; < 0 more")
        ->capture_default_str();
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

}  // namespace facepipe::cmd
