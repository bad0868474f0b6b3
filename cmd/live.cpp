// facepipe live — real-time recognition on a camera, a video file or a stream (lib/live.h).
#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>
#include <sstream>

#include "commands.h"
#include "live.h"
#include "options.h"

namespace facepipe::cmd {
namespace {

struct LiveCommand {
    int camera = -1;
    std::string video, model = "model.bin", labels = "labels.bin";
    int reload_ms = 250;
    LiveOptions o;
    CollectFlags collect;
    ExitCode run(const Globals& g);
};

ExitCode LiveCommand::run(const Globals& g) {
    o.source = camera >= 0 ? SourceSpec::from_camera(camera) : SourceSpec::from_video(video);
    o.collect = collect.resolve(model);
    check_live_options(o);  // before the models load: a usage error need not wait for them
    const auto models = LoadedModels::load(find_models(models_dir(g.models)));
    const ModelWatcher watcher(model, labels, models->files().model_id(), std::chrono::milliseconds(reload_ms));
    StopOnSignals signals;
    const LiveSummary s = run_live(o, models, watcher, std::cout, signals.flag());
    for (std::istringstream lines(format_live_summary(s)); !lines.eof();) {
        std::string line;
        if (std::getline(lines, line) && !line.empty()) spdlog::info("{}", line);
    }
    if (s.source_error.empty()) return kOk;
    spdlog::error("{}: {}", o.source.describe(), s.source_error);
    return kPartial;
}

}  // namespace

void add_live(CLI::App& app, Globals& g) {
    auto* c = app.add_subcommand(
        "live",
        "recognise faces in real time, in a window or headless (JSON lines)\n"
        "  examples: facepipe live --camera 0\n"
        "            facepipe live --video clip.mp4 --headless --every-frame > events.jsonl");
    auto cmd = std::make_shared<LiveCommand>();
    LiveOptions& o = cmd->o;
    auto* src = c->add_option_group("source", "where frames come from (one of)");
    src->add_option("--camera", cmd->camera, "camera device index (/dev/videoN)")->check(CLI::NonNegativeNumber);
    src->add_option("--video", cmd->video, "video file, or a URL (rtsp://, http://, ...) anything FFmpeg opens");
    src->require_option(1);
    c->add_option("-m,--model", cmd->model, "model file from train (reloaded when replaced)")
        ->capture_default_str()->envname("FACEPIPE_MODEL");
    c->add_option("-l,--labels", cmd->labels, "labels file from train")->capture_default_str()->envname("FACEPIPE_LABELS");
    c->add_flag("--headless", [&o](std::int64_t) { o.window = false; },
                "no window: JSON lines on stdout for each track event");
    c->add_flag("--print-frames", o.print_frames, "with --headless, also one JSON line per frame");
    c->add_option("--record", o.record_path, "write the annotated video to this file (.mp4, .avi, .mkv)");
    c->add_flag("--every-frame", o.capture.every_frame,
                "files: process every frame as fast as possible instead of in real time (tests, benchmarks)");
    c->add_option("--max-frames", o.max_frames, "stop after this many frames (0 = no limit)")
        ->capture_default_str()->check(CLI::NonNegativeNumber);
    c->add_option("--width", o.capture.width, "camera: requested frame width (0 = device default)")
        ->check(CLI::NonNegativeNumber);
    c->add_option("--height", o.capture.height, "camera: requested frame height (0 = device default)")
        ->check(CLI::NonNegativeNumber);
    c->add_option("--retries", o.capture.retries, "streams: reconnect attempts in a row before giving up")
        ->capture_default_str()->check(CLI::Range(0, 1000));
    c->add_option("--detect-every", o.tracker.detect_every,
                  "run the face detector every N frames (and after a track is lost); 1 = every frame")
        ->capture_default_str()->check(CLI::Range(1, 1000));
    c->add_option("--describe-every", o.tracker.describe_every,
                  "recompute a tracked face's descriptor every N frames; 1 = every frame")
        ->capture_default_str()->check(CLI::Range(1, 10000));
    c->add_option("--vote-window", o.tracker.vote_window, "a track is named from the mean of its last N descriptors")
        ->capture_default_str()->check(CLI::Range(1, 100));
    c->add_option("--max-missed", o.tracker.max_missed, "detections in a row that miss a face before its track ends")
        ->capture_default_str()->check(CLI::Range(1, 100));
    c->add_option("--min-confidence", o.tracker.min_confidence,
                  "tracker confidence (peak-to-sidelobe ratio) below which a face is lost and re-detected")
        ->capture_default_str()->check(CLI::Range(0.0, 100.0));
    c->add_option("-t,--tolerance", o.tracker.tolerance,
                  "distance above which a face is unknown (default: the threshold chosen by train)")
        ->check(CLI::Range(0.05, 1.5));
    c->add_option("--reload-ms", cmd->reload_ms, "how often to check model.bin/labels.bin for a new model (0 = never)")
        ->capture_default_str()->check(CLI::Range(0, 3600000));
    add_analyzer_flags(c, o.analyzer);
    add_collect_flags(c, cmd->collect, true);
    o.analyzer.detector.threads = 0;
    c->add_option("-j,--threads", o.analyzer.detector.threads,
                  "threads each frame's face detection runs on (0 = all cores); the faces found do not depend on it")
        ->capture_default_str()->check(CLI::NonNegativeNumber);
    run_on_callback(c, g, cmd);
}

}  // namespace facepipe::cmd
