#include "live.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <opencv2/highgui.hpp>  // the WINDOW_ and WND_PROP_ flags
#include <optional>
#include <ostream>
#include <sstream>

#include "annotate.h"
#include "error.h"
#include "live_session.h"
#include "media.h"

namespace facepipe {

AnalyzerOptions LiveOptions::live_analyzer_defaults() {
    AnalyzerOptions a;
    a.detector.upsample = 1;
    a.detector.max_side = 640;
    a.pad_retry_max_side = 0;
    return a;
}

bool display_available() {
    const char* x = std::getenv("DISPLAY");
    const char* w = std::getenv("WAYLAND_DISPLAY");
    return (x && *x) || (w && *w);
}

namespace {

constexpr const char* kWindow = "facepipe live";

nlohmann::json face_json(const TrackedFace& f) {
    return {{"track", f.id},
            {"box", {f.box.x, f.box.y, f.box.width, f.box.height}},
            {"label", f.label},
            {"distance", std::round(double(f.distance) * 10000) / 10000},
            {"known", f.known}};
}

void write_line(std::ostream& out, const nlohmann::json& j) {
    // Names are validated UTF-8, but never let a bad byte stop the stream.
    out << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

double percentile(std::vector<float> v, double q) {
    if (v.empty()) return 0;
    const auto k = static_cast<std::size_t>(q * (v.size() - 1) + 0.5);
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

// Frames per second over the last second, for the on-screen counter.
class RateMeter {
public:
    double tick(SteadyClock::time_point now) {
        times_.push_back(now);
        while (times_.size() > 1 && now - times_.front() > std::chrono::seconds(1)) times_.erase(times_.begin());
        const double span = std::chrono::duration<double>(now - times_.front()).count();
        return span > 0 ? (times_.size() - 1) / span : 0;
    }

private:
    std::vector<SteadyClock::time_point> times_;
};

// The running state of one live session: outputs and tallies.
class Session {
public:
    Session(const LiveOptions& o, std::ostream& events) : o_(o), events_(events) {}

    // The window first: creating it takes a moment that a paced file must not
    // spend (its first frames would come late, and in a burst).
    void open_window() {
        if (o_.window) {
            try {
                media::namedWindow(kWindow, cv::WINDOW_AUTOSIZE);
            } catch (const cv::Exception& e) {
                throw Error("window", std::string("cannot be opened (") + e.err + "); use --headless");
            }
        }
    }

    void open_recorder(double fps) {
        if (!o_.record_path.empty()) recorder_.emplace(o_.record_path, fps);
    }

    void emit(const std::vector<TrackEvent>& events, const Frame& f) {
        for (const auto& e : events) {
            if (e.kind == TrackEvent::Kind::appeared) ++summary.tracks;
            if (e.face.known) summary.people.insert(e.face.label);
            if (e.kind == TrackEvent::Kind::gone && !e.face.known) ++summary.unknown_tracks;
            if (o_.window) continue;
            auto j = nlohmann::json{{"event", to_string(e.kind)}, {"frame", f.index}, {"time", seconds(f.time_s)}};
            j.update(face_json(e.face));
            if (e.kind == TrackEvent::Kind::label_changed) j["previous"] = e.previous_label;
            write_line(events_, j);
        }
    }

    void emit_model(const Classifier& c, const Frame& f) {
        if (o_.window) return;
        write_line(events_, {{"event", "model"}, {"frame", f.index}, {"time", seconds(f.time_s)},
                             {"training_id", c.training_id()}, {"people", c.names().size()}});
    }

    // Draws, records, shows and prints one processed frame. False when the
    // user closed the window or pressed q / Esc.
    bool output(Frame& f, const std::vector<TrackedFace>& faces) {
        const double rate = meter_.tick(SteadyClock::now());
        if (recorder_ || o_.window) {
            for (const auto& face : faces) draw_face(f.bgr, face.box, face.label, face.distance, face.known);
            std::ostringstream status;
            status.precision(1);
            status << std::fixed << rate << " fps  " << faces.size() << (faces.size() == 1 ? " face" : " faces");
            draw_status(f.bgr, status.str());
        }
        if (recorder_) recorder_->write(f.bgr);
        bool keep_going = true;
        if (o_.window) {
            media::imshow(kWindow, f.bgr);
            const int key = media::waitKey(1);
            if (key == 'q' || key == 'Q' || key == 27) keep_going = false;
            else if (media::getWindowProperty(kWindow, cv::WND_PROP_VISIBLE) < 1) keep_going = false;  // closed
        }
        const float latency =
            std::chrono::duration<float, std::milli>(SteadyClock::now() - f.captured).count();
        latencies_.push_back(latency);
        if (o_.print_frames && !o_.window) {
            auto list = nlohmann::json::array();
            for (const auto& face : faces) list.push_back(face_json(face));
            write_line(events_, {{"event", "frame"}, {"frame", f.index}, {"time", seconds(f.time_s)},
                                 {"latency_ms", std::round(double(latency) * 100) / 100}, {"faces", list}});
        }
        events_.flush();  // a reader of the pipe sees each frame's events at once
        return keep_going;
    }

    void close() {
        if (recorder_) recorder_->finish();
        if (o_.window) media::destroyAllWindows();
        summary.latency_median_ms = percentile(latencies_, 0.5);
        summary.latency_p95_ms = percentile(latencies_, 0.95);
    }

    void write_summary() {
        if (o_.window) return;
        write_line(events_, {{"event", "summary"},
                             {"frames", summary.frames},
                             {"decoded", summary.decoded},
                             {"dropped", summary.dropped},
                             {"seconds", std::round(summary.seconds * 1000) / 1000},
                             {"fps", std::round(summary.fps * 100) / 100},
                             {"latency_median_ms", std::round(summary.latency_median_ms * 100) / 100},
                             {"latency_p95_ms", std::round(summary.latency_p95_ms * 100) / 100},
                             {"tracks", summary.tracks},
                             {"unknown_tracks", summary.unknown_tracks},
                             {"people", summary.people},
                             {"detections", summary.detections},
                             {"descriptors", summary.descriptors},
                             {"reloads", summary.reloads},
                             {"refused_reloads", summary.refused_reloads},
                             {"reconnects", summary.reconnects},
                             {"interrupted", summary.interrupted},
                             {"source_error", summary.source_error}});
        events_.flush();
    }

    LiveSummary summary;

private:
    static double seconds(double s) { return std::round(s * 1000) / 1000; }

    const LiveOptions& o_;
    std::ostream& events_;
    std::optional<VideoRecorder> recorder_;
    RateMeter meter_;
    std::vector<float> latencies_;
};

}  // namespace

void check_live_options(const LiveOptions& o) {
    validate(o.tracker);
    if (o.window && !display_available())
        throw UsageError("live", "no display available (DISPLAY is not set); use --headless");
}

LiveSummary run_live(const LiveOptions& o, std::shared_ptr<const LoadedModels> models, const ModelWatcher& watcher,
                     std::ostream& events, const std::atomic<bool>& stop) {
    check_live_options(o);
    models->wait();  // the first frame should not pay for loading the models
    Session session(o, events);
    session.open_window();
    VideoSource source(o.source, o.capture);
    spdlog::info("{}: {}x{} at {:.2f} fps{}", source.spec().describe(), source.size().width, source.size().height,
                 source.fps(), o.capture.every_frame ? ", every frame" : "");

    LiveSession live(models, o.tracker, o.analyzer);
    session.open_recorder(source.fps());
    std::unique_ptr<UnknownCollector> collector;
    std::unique_ptr<StreamCollector> collect;
    if (o.collect.enabled()) {
        collector = std::make_unique<UnknownCollector>(o.collect, models);
        collect = std::make_unique<StreamCollector>(*collector, o.source.describe());
    }
    const auto warn_detector = [&](const Classifier& c) {
        const std::string w = detector_mismatch(c.model().detector, o.analyzer.detector.kind);
        if (!w.empty()) spdlog::warn("{}: {}", watcher.model_path(), w);
    };
    warn_detector(*watcher.current());

    Frame frame;
    std::optional<SteadyClock::time_point> started;
    while (!stop.load() && source.next(frame, &stop)) {
        if (!started) started = SteadyClock::now();
        const LiveSession::Result step = live.process(frame.bgr, watcher, frame.index);
        if (step.model_changed) {
            session.emit_model(live.classifier(), frame);
            warn_detector(live.classifier());
        }
        session.emit(step.events, frame);
        if (collect) collect->frame(frame.bgr, frame.time_s, step.faces, step.events, live.classifier());
        ++session.summary.frames;
        if (!session.output(frame, step.faces)) {
            session.summary.interrupted = true;
            break;
        }
        if (o.max_frames > 0 && session.summary.frames >= o.max_frames) break;
    }
    if (stop.load()) session.summary.interrupted = true;
    const std::vector<TrackEvent> ended = live.finish();
    session.emit(ended, frame);
    source.stop();
    if (collect && live.frames() > 0) {
        collect->frame(frame.bgr, frame.time_s, {}, ended, live.classifier());
        collect->finish(live.classifier());
        spdlog::info("{}", format_collect_summary(collector->counters(), o.collect.dir));
    }

    LiveSummary& s = session.summary;
    s.seconds = started ? std::chrono::duration<double>(SteadyClock::now() - *started).count() : 0;
    s.fps = s.seconds > 0 ? s.frames / s.seconds : 0;
    const auto cs = source.stats();
    s.decoded = cs.decoded;
    s.dropped = cs.dropped;
    s.reconnects = cs.reconnects;
    s.source_error = source.error();
    s.detections = live.counters().detections;
    s.descriptors = live.counters().descriptors;
    s.reloads = watcher.generation();
    s.refused_reloads = watcher.refused();
    session.close();
    session.write_summary();
    return s;
}

std::string format_live_summary(const LiveSummary& s) {
    std::ostringstream o;
    o.precision(1);
    o << std::fixed;
    o << s.frames << " frames in " << s.seconds << " s: " << s.fps << " fps; latency median "
      << s.latency_median_ms << " ms, p95 " << s.latency_p95_ms << " ms\n";
    o << s.decoded << " decoded, " << s.dropped << " dropped as stale; " << s.detections << " detections, "
      << s.descriptors << " descriptors\n";
    o << s.tracks << " faces seen, " << s.unknown_tracks << " unknown; people: ";
    if (s.people.empty()) o << "none";
    for (auto it = s.people.begin(); it != s.people.end(); ++it) o << (it == s.people.begin() ? "" : ", ") << *it;
    o << '\n';
    if (s.reloads || s.refused_reloads)
        o << "model reloaded " << s.reloads << " times, " << s.refused_reloads << " replacements refused\n";
    if (s.reconnects) o << s.reconnects << " reconnections\n";
    return o.str();
}

// --- signals ---------------------------------------------------------------

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int sig) {
    g_stop.store(true);
    std::signal(sig, SIG_DFL);  // a second Ctrl-C kills at once
}
}  // namespace

StopOnSignals::StopOnSignals() {
    g_stop.store(false);
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
}

StopOnSignals::~StopOnSignals() {
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
}

const std::atomic<bool>& StopOnSignals::flag() const { return g_stop; }

}  // namespace facepipe
