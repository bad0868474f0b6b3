// tracker.h — following faces from frame to frame, and naming them without flicker.
//
// Detecting and describing every face in every frame is too slow for real time
// on a CPU (docs/benchmarks.md, live section: the baseline row). FaceTracks instead
//   - detects every `detect_every` frames (and on the frame after a track is
//     lost), matching detections to tracks by box overlap (IoU);
//   - follows each face in between with dlib's correlation tracker, far cheaper
//     than a detection;
//   - describes a track when it appears and again every `describe_every`
//     frames, and names it from its last `vote_window` descriptors together:
//     the classifier is asked about their mean. Every descriptor votes with
//     its whole vector, not just its top name, so one bad chip (a blink, a
//     turned head) doesn't rename a track, and a face that sits near the
//     threshold doesn't flicker between its name and unknown. (Compare the
//     label changes of the tracked and baseline runs in docs/benchmarks.md.)
// A track ends when `max_missed` detections in a row don't find it, or when the
// tracker loses it and the next detection doesn't find it either.
//
// The sensor (detect + describe) and the classifier are passed in, so that the
// logic is tested with fakes; live passes a FaceAnalyzer and the loaded model.
#pragma once
#include <opencv2/core.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "classifier.h"
#include "detect.h"
#include "types.h"

namespace facepipe {

struct TrackerOptions {
    int detect_every = 10;        // frames between detections (>= 1; 1 = every frame)
    int describe_every = 15;      // frames between re-descriptions of a track (>= 1)
    int vote_window = 5;          // recent descriptors a track is named from (>= 1)
    double match_iou = 0.3;       // min box overlap for a detection to continue a track
    int max_missed = 2;           // detections in a row that miss a track before it ends (>= 1)
    double min_confidence = 6.0;  // tracker peak-to-sidelobe ratio below which a track is lost
    int track_side = 480;         // frames are tracked at most this long side (speed), in pixels
    float tolerance = -1.f;       // > 0 overrides the model's unknown threshold (as predict's)
};

// Throws UsageError("--<flag>", ...) (error.h) naming the bad option.
void validate(const TrackerOptions& o);

// The two things the tracker needs from the recogniser; FaceAnalyzer has both.
class FaceSensor {
public:
    virtual ~FaceSensor() = default;
    virtual std::vector<Detection> detect(const cv::Mat& bgr) = 0;
    virtual std::vector<Descriptor> describe(const cv::Mat& bgr, const std::vector<Box>& boxes) = 0;
};

struct TrackedFace {
    int id = 0;                 // 1, 2, ... in order of appearance
    Box box;                    // in frame pixels
    std::string label;          // the voted name, or "unknown"
    float distance = 0;         // the latest distance behind that name
    bool known = false;
    std::int64_t first_frame = 0;
};

struct TrackEvent {
    enum class Kind { appeared, label_changed, gone };
    Kind kind = Kind::appeared;
    TrackedFace face;            // the track as of this event
    std::string previous_label;  // label_changed only
};
const char* to_string(TrackEvent::Kind k);

struct TrackerCounters {
    std::int64_t frames = 0, detections = 0, descriptors = 0, tracks = 0, lost = 0;
};

class FaceTracks {
public:
    explicit FaceTracks(TrackerOptions options = {});
    ~FaceTracks();
    FaceTracks(const FaceTracks&) = delete;
    FaceTracks& operator=(const FaceTracks&) = delete;

    // Requires: bgr CV_8UC3, frames of one size, frame_index increasing.
    // Ensures: faces() is the named tracks in this frame (a new track is named,
    // and listed, on the frame it is first described); returns what changed:
    // gone events first, then appeared and label_changed.
    std::vector<TrackEvent> update(const cv::Mat& bgr, std::int64_t frame_index, FaceSensor& sensor,
                                   const Classifier& classifier);

    // Ends every track (the video ended): one gone event each.
    std::vector<TrackEvent> finish();

    // The model changed: forget every track's votes and describe all of them
    // again on the next update (label_changed events follow where names differ).
    void relabel();

    const std::vector<TrackedFace>& faces() const { return faces_; }
    const TrackerCounters& counters() const { return counters_; }
    const TrackerOptions& options() const { return options_; }

private:
    struct Track;
    void track_all(const cv::Mat& gray);
    void detect_and_match(const cv::Mat& bgr, const cv::Mat& gray, std::int64_t frame,
                          FaceSensor& sensor, std::vector<TrackEvent>& events);
    void describe_due(const cv::Mat& bgr, std::int64_t frame, FaceSensor& sensor, const Classifier& classifier,
                      std::vector<TrackEvent>& events);
    void refresh_faces();
    cv::Mat tracking_gray(const cv::Mat& bgr);

    TrackerOptions options_;
    std::vector<std::unique_ptr<Track>> tracks_;
    std::vector<TrackedFace> faces_;
    TrackerCounters counters_;
    std::int64_t last_detection_ = -1;
    bool detect_next_ = true;  // the first frame, and the one after a track is lost
    double track_scale_ = 1;   // tracking image pixels per frame pixel
    int next_id_ = 1;
};

// Intersection over union of two boxes (0 when either is empty).
double iou(const Box& a, const Box& b);

}  // namespace facepipe
