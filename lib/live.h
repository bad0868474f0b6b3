// live.h — `facepipe live`: real-time recognition on a camera, a file or a stream.
//
//   VideoSource (own thread) -> LiveSession (live_session.h: FaceTracks, which
//   detects every N frames, tracks in between, describes and votes) -> outputs:
//   a window, JSON lines, a recording.
//
// The classifier comes from a ModelWatcher, so a retrained model.bin +
// labels.bin is picked up without a restart (every track is then named again).
//
// JSON lines (headless; one object per line, stable fields, see docs/live.md):
//   {"event":"appeared"|"label_changed"|"gone", "frame":N, "time":S, "track":ID,
//    "box":[x,y,w,h], "label":NAME, "distance":D, "known":B [, "previous":NAME]}
//   {"event":"frame", "frame":N, "time":S, "latency_ms":L, "faces":[{"track",
//    "box","label","distance","known"}...]}                   (with print_frames)
//   {"event":"model", "frame":N, "time":S, "training_id":T, "people":P}
//   {"event":"summary", ...LiveSummary fields...}             (last line)
#pragma once
#include <atomic>
#include <iosfwd>
#include <memory>
#include <set>
#include <string>

#include "model_watch.h"
#include "recognizer.h"
#include "tracker.h"
#include "unknown_collect.h"
#include "video.h"

namespace facepipe {

struct LiveOptions {
    SourceSpec source;
    CaptureOptions capture;
    TrackerOptions tracker;
    AnalyzerOptions analyzer = live_analyzer_defaults();
    bool window = true;           // false: headless, JSON lines on the events stream
    bool print_frames = false;    // headless: also one line per frame
    std::string record_path;      // annotated video, "" = none
    std::int64_t max_frames = 0;  // stop after this many processed frames, 0 = no limit
    CollectOptions collect;       // --collect-unknown: keep the tracks labelled unknown (unknown_collect.h)

    // Detection on a frame scaled to a long side of at most 640 pixels (small
    // frames are upsampled up to 2x, to find faces down to ~40 pixels); no
    // padded retry, which only helps tight single-face crops.
    static AnalyzerOptions live_analyzer_defaults();
};

struct LiveSummary {
    std::int64_t frames = 0;        // processed
    std::int64_t decoded = 0, dropped = 0;
    double seconds = 0, fps = 0;    // processed frames per wall-clock second
    double latency_median_ms = 0, latency_p95_ms = 0;  // capture -> annotated output
    std::int64_t tracks = 0;        // faces seen (tracks named)
    std::int64_t unknown_tracks = 0;
    std::set<std::string> people;   // known names seen
    std::int64_t detections = 0, descriptors = 0;
    std::uint64_t reloads = 0, refused_reloads = 0;
    int reconnects = 0;
    std::string source_error;       // why the source ended early, "" if it did not
    bool interrupted = false;       // stopped by the user (q, Esc, Ctrl-C)
};

// A display is available to open a window on (X11 or Wayland).
bool display_available();

// Throws UsageError when `options` cannot run here: a tracker option out of
// range (tracker.h validate), or a window without a display. run_live checks
// this first; `facepipe live` also does before it loads the models.
void check_live_options(const LiveOptions& options);

// Runs until the source ends, max_frames, the user quits the window, or
// `stop` becomes true (a signal handler sets it), naming faces with
// models.current() (checked every frame). Events (headless) go to `events`.
// Throws before the first frame when the options cannot run here
// (check_live_options: UsageError), or Error when the source or the window
// cannot be set up.
LiveSummary run_live(const LiveOptions& options, std::shared_ptr<const LoadedModels> models,
                     const ModelWatcher& model, std::ostream& events, const std::atomic<bool>& stop);

// The summary for people (stderr), several lines.
std::string format_live_summary(const LiveSummary& s);

// SIGINT and SIGTERM set the returned flag (a second one kills as usual), for
// the lifetime of the returned object.
class StopOnSignals {
public:
    StopOnSignals();
    ~StopOnSignals();
    const std::atomic<bool>& flag() const;
};

}  // namespace facepipe
