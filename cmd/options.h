// options.h — flags shared by the subcommands that run the face path, so that
// encode, predict and live expose (and default) them identically.
#pragma once
#include <CLI/CLI.hpp>

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

}  // namespace facepipe::cmd
