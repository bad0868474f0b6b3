// unknown_collect.h — `--collect-unknown`: keeping the faces predict, live and
// serve label unknown in an UnknownStore (unknown_store.h), for `cluster` and
// `name` to turn into people later (issue 18; docs/unknown.md "Collecting").
//
//   labelled photo / frame -> unknown faces -> quality gates -> crop with margin
//   -> the crop must give a face again (as `encode` will look at it) -> store
//
// What is kept of a face: its crop (the box grown by `margin` of its size on
// every side, clipped to the image), the descriptor it was labelled with (for
// a track: the crop's), the source and frame time, the box, the distance to the
// nearest enrolled person and that name, and the detector score.
//
// Photos (predict, serve's recognize endpoints): each unknown face once per photo.
// A face already in the store from a photo with the same content (SHA-256 of the
// file) and the same box is not kept again: a second run on the same photos, or
// a copy of one under another name, adds nothing.
// Streams (live, serve's live page; StreamCollector): a track labelled unknown is
// sampled at most once per `track_spacing_s` of stream time; its `per_track`
// sharpest samples are kept when the track ends, still unknown, sharpest
// first. A track that got a name meanwhile is not kept. A face with the same
// source, frame time and box as one in the store (live run again on the same
// file) is not kept again.
//
// Quality gates (a face failing one is counted, not kept):
//   size      the box's shorter side >= min_face_px
//   score     detector score >= min_score
//   sharpness variance of the Laplacian of the face (the box, grey, resized to
//             150x150 as a chip) >= min_sharpness: a blurred face has little
//             high-frequency energy
//   re-found  the crop, analysed as `encode` will analyse it (default
//             AnalyzerOptions), gives at least one face
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <set>
#include <string>
#include <vector>

#include "classifier.h"
#include "predict.h"
#include "recognizer.h"
#include "tracker.h"
#include "unknown_store.h"

namespace facepipe {

struct CollectOptions {
    std::filesystem::path dir;                 // the store; empty = not collecting
    std::size_t max_faces = kDefaultCollectMax;  // --collect-max
    // Defaults measured on ../shared/data (docs/unknown.md "Collecting").
    int min_face_px = 40;
    double min_score = 0.0;
    double min_sharpness = 15.0;
    double margin = 0.5;          // of the box's size, added on every side of the crop
    int per_track = 3;            // faces kept per track
    double track_spacing_s = 1.0; // stream time between two samples of a track
    bool enabled() const { return !dir.empty(); }
};

// Throws UsageError("--collect-...", ...) for an option out of range.
void validate(const CollectOptions& o);

// Why faces were not kept, for the summary lines.
struct CollectCounters {
    std::int64_t kept = 0;
    std::int64_t known = 0;       // faces (or tracks) that had a name: never kept
    std::int64_t small = 0, low_score = 0, blurred = 0, not_refound = 0;
    std::int64_t duplicates = 0;  // already in the store (same photo content or frame, same box)
    std::int64_t failed = 0;      // a crop or record could not be written (logged)
    CollectCounters& operator+=(const CollectCounters& o);
};

// The one line `predict`, `live` and `serve` log when they end:
// "kept 3 unknown faces in unknown/ (left out: 2 small, 1 blurred, ...)".
std::string format_collect_summary(const CollectCounters& c, const std::filesystem::path& dir);

// Variance of the Laplacian of the box's face as a 150x150 grey chip (the
// sharpness gate's measure). requires: box within bgr, non-empty.
double face_sharpness(const cv::Mat& bgr, const Box& box);

// The box grown by margin*size on every side, clipped to an image of width x height.
Box crop_box(const Box& box, double margin, int width, int height);

// Thread-safe: serve's workers share one. Owns the store and one FaceAnalyzer
// (encode's options) for the re-found check.
class UnknownCollector {
public:
    // Opens the store (UnknownStore's errors) and reads the keys (photo content
    // or source and time, and box) of the faces already in it. Throws UsageError for options out of range.
    UnknownCollector(CollectOptions options, std::shared_ptr<const LoadedModels> models);
    ~UnknownCollector();

    // A photo's labelled faces: `bgr` the decoded photo (maybe reduced: full-size
    // coordinates = bgr's * scale; boxes in r.faces are full-size), sha256 the hex
    // SHA-256 of its file's bytes. Keeps its unknown faces that pass the gates;
    // returns how many.
    int collect_photo(const ImageLabels& r, const cv::Mat& bgr, double scale, const std::string& sha256,
                      const Classifier& classifier);

    // One candidate: `crop` is the face with its margin, cut at `crop_at` (in
    // the source's full-size pixels; the crop may be smaller by `scale`), face.box
    // in the same pixels. Applies the gates; returns true when kept.
    // `describe_crop`: take the score and descriptor from the crop's re-found
    // face (tracks carry neither) instead of face.score and face.descriptor.
    bool keep(UnknownFace face, const cv::Mat& crop, const Box& crop_at, double scale, bool describe_crop,
              const Classifier& classifier);

    CollectCounters counters() const;
    void count(const CollectCounters& c);
    const CollectOptions& options() const { return o_; }
    UnknownStore& store() { return *store_; }

private:
    CollectOptions o_;
    std::unique_ptr<UnknownStore> store_;
    mutable std::mutex mu_;  // the analyzer, keys and counters
    FaceAnalyzer analyzer_;
    std::set<std::string> keys_;
    CollectCounters counters_;
};

// One stream's tracks (live's video, a serve live-page tab). Not thread-safe:
// one per stream, called from the stream's loop.
class StreamCollector {
public:
    StreamCollector(UnknownCollector& collector, std::string source);
    ~StreamCollector();  // does not keep what is pending: call finish()

    // After each processed frame: `faces` the named tracks in it, `events` what
    // changed (a gone track is kept now, if it stayed unknown).
    void frame(const cv::Mat& bgr, double time_s, const std::vector<TrackedFace>& faces,
               const std::vector<TrackEvent>& events, const Classifier& classifier);
    // The stream ended: keeps every pending track.
    void finish(const Classifier& classifier);

private:
    struct Sample {
        double sharpness = 0;
        double time_s = 0;
        Box box;       // in the frame
        Box crop_at;   // where crop was cut from the frame
        cv::Mat crop;  // the face with its margin (a copy)
        float distance = 0;
    };
    struct Pending {
        std::vector<Sample> best;  // at most per_track, sharpest first
        double last_sample_s = -1e300;
        bool unknown = true;
    };
    void flush(int track, const Classifier& classifier);

    UnknownCollector& c_;
    std::string source_;
    std::map<int, Pending> tracks_;
};

}  // namespace facepipe
