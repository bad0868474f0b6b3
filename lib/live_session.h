// live_session.h — naming the faces of one stream of frames, frame by frame:
// the step `facepipe live` runs on each frame (live.h), and `facepipe serve`
// on each frame a browser tab sends (one session per tab).
//
//   frame -> FaceTracks (tracker.h: detect every N frames, track in between,
//            describe and vote) with a FaceAnalyzer as its sensor and the
//            classifier a ModelWatcher holds -> the named faces + what changed
//
// When the watcher has switched to a retrained model since the last frame,
// every track is named again (FaceTracks::relabel). When the frame size
// changes (a camera switched resolution), the tracks end (gone events) and
// tracking starts afresh.
//
// Not thread-safe: one caller at a time (live's loop; the server serialises a
// session's frames). Sessions share the loaded models; each holds its own
// tracker state and, for process(bgr, model), its own FaceAnalyzer (whose
// network copy is made on first use): a server that wants no copy per session
// passes each worker thread's analyzer instead.
#pragma once
#include <opencv2/core.hpp>

#include <cstdint>
#include <memory>
#include <vector>

#include "live.h"
#include "model_watch.h"
#include "recognizer.h"
#include "tracker.h"

namespace facepipe {

class LiveSession {
public:
    // throws: UsageError for tracker options out of range (tracker.h validate).
    explicit LiveSession(std::shared_ptr<const LoadedModels> models, TrackerOptions tracker = {},
                         AnalyzerOptions analyzer = LiveOptions::live_analyzer_defaults());
    ~LiveSession();
    LiveSession(const LiveSession&) = delete;
    LiveSession& operator=(const LiveSession&) = delete;

    struct Result {
        std::int64_t frame = 0;          // this frame's index
        std::vector<TrackedFace> faces;  // the named tracks in it (FaceTracks::faces)
        std::vector<TrackEvent> events;  // gone first, then appeared and label_changed
        double ms = 0;                   // time spent in process()
        bool model_changed = false;      // a new model was taken up before this frame
    };

    // process(bgr, model[, analyzer][, frame_index])
    //   requires: bgr is a non-empty CV_8UC3 image (else throws Error("frame", ...));
    //             frame_index, when given (>= 0), greater than the last one.
    //   ensures:  the frame's index is frame_index, else the last one + 1
    //             (0 first); names come from model.current(), checked every
    //             frame; `analyzer` (made with the models and analyzer options
    //             this session was made with) detects and describes instead of
    //             the session's own.
    Result process(const cv::Mat& bgr, const ModelWatcher& model, std::int64_t frame_index = -1);
    Result process(const cv::Mat& bgr, const ModelWatcher& model, FaceAnalyzer& analyzer,
                   std::int64_t frame_index = -1);

    // Ends every track (the stream ended): one gone event each.
    std::vector<TrackEvent> finish();

    // The classifier in use (requires: a frame was processed).
    const Classifier& classifier() const { return *classifier_; }
    // Detections, descriptors, tracks... over the session (across size changes).
    TrackerCounters counters() const;
    std::int64_t frames() const { return frames_; }

private:
    TrackerOptions tracker_options_;
    FaceAnalyzer analyzer_;
    std::unique_ptr<FaceTracks> tracks_;
    TrackerCounters ended_;  // of the trackers dropped at size changes
    cv::Size size_;
    std::shared_ptr<const Classifier> classifier_;
    std::uint64_t generation_ = 0;
    std::int64_t last_frame_ = -1;
    std::int64_t frames_ = 0;
};

}  // namespace facepipe
