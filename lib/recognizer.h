// recognizer.h — THE path from a picture to face descriptors.
//
//   image -> faces (detect.h) -> landmarks + 150x150 chip (align.h)
//         -> 128-d descriptor (embed.h)
//
// encode, predict and live all call FaceAnalyzer::analyze, so training and
// recognition can never differ in detector settings, chip size or padding.
#pragma once
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "align.h"
#include "detect.h"
#include "embed.h"
#include "image.h"
#include "models.h"
#include "types.h"

namespace facepipe {

// FaceChoice (types.h) is which face of a photo with several comes first from
// analyze(), and so which one a caller keeping one face (max_faces = 1) gets.

// "largest" / "centre" (the CLI spelling).
const char* to_string(FaceChoice c);
// Accepts "largest" and "centre"; throws Error(subject, ...) otherwise.
FaceChoice parse_face_choice(const std::string& text, const std::string& subject = "--face");

struct AnalyzerOptions {
    DetectorOptions detector;
    FaceChoice choice = FaceChoice::largest;
    // A tight crop (a face filling the frame, like a 150x150 chip) gives HOG no
    // margin to see the face outline. When nothing is found in an image no larger
    // than this, it is padded on every side by half its size and searched again.
    int pad_retry_max_side = 400;
};

struct Face {
    Box box;                 // in the analysed image's pixels, clipped to it
    double score = 0;        // detector confidence
    Descriptor descriptor{};
};

// Milliseconds spent per stage, summed over calls (for the benchmark and reports).
struct StageTimes {
    double detect_ms = 0, landmarks_ms = 0, descriptor_ms = 0;
    StageTimes& operator+=(const StageTimes& o);
};

// The loaded, read-only models, shared by every thread's analyzer.
// load() returns at once and reads (and, if not done yet, checksums) the files
// on background threads, so that decoding and face detection overlap with it
// (loading is a large share of a one-photo predict: see docs/benchmarks.md;
// the landmark model comes from its cache when there is a valid one,
// landmark_cache.h); the accessors wait, and rethrow a ModelError.
class LoadedModels {
public:
    static std::shared_ptr<const LoadedModels> load(const ModelFiles& files);
    const ModelFiles& files() const { return files_.get(); }  // verified
    const Aligner& aligner() const { return *aligner_.get(); }
    const Embedder& embedder_prototype() const { return *embedder_.get(); }  // copied per analyzer
    // The SSD detector's file (models.h ModelFiles::ssd; it may not exist):
    // FaceAnalyzer hands it to an ssd detector. Does not wait.
    const std::filesystem::path& ssd_model() const { return ssd_model_; }
    void wait() const { aligner(); embedder_prototype(); }

private:
    std::shared_future<ModelFiles> files_;
    std::shared_future<std::shared_ptr<const Aligner>> aligner_;
    std::shared_future<std::shared_ptr<const Embedder>> embedder_;
    std::filesystem::path ssd_model_;
};

// A gallery's faces (model.bin) and the faces asked of it should come from one
// detector: each places its boxes its own way, and the chips follow the boxes.
// Asking with the other one still works, at some cost in accuracy
// (docs/detectors.md), so predict, live and serve warn rather than refuse.
// ensures: "" when used == gallery, else the warning's text (one line, naming
//          both and the flag that fixes it).
std::string detector_mismatch(DetectorKind gallery, DetectorKind used);

// Not thread-safe: one per thread, all sharing one LoadedModels.
class FaceAnalyzer {
public:
    FaceAnalyzer(std::shared_ptr<const LoadedModels> models, AnalyzerOptions options = {});

    // Requires: bgr is CV_8UC3. Ensures: one Face per detected face, largest
    // first (nearest the centre first with FaceChoice::centre). `max_faces` > 0
    // embeds only the first max_faces faces (encode keeps one); `faces_found`,
    // if given, receives the number detected.
    std::vector<Face> analyze(const cv::Mat& bgr, int max_faces = 0, int* faces_found = nullptr);

    // The same for a loaded file: boxes are mapped back to the full image when
    // load_image had to decode it reduced.
    std::vector<Face> analyze(const LoadedImage& image, int max_faces = 0, int* faces_found = nullptr);

    // The two halves of analyze, for callers that track faces between
    // detections (live): faces in bgr, largest first, boxes in bgr's pixels
    // (they may reach past its edges); and one descriptor per box.
    std::vector<Detection> detect(const cv::Mat& bgr);
    std::vector<Descriptor> describe(const cv::Mat& bgr, const std::vector<Box>& boxes);

    const StageTimes& times() const { return times_; }
    std::string model_id() const { return models_->files().model_id(); }

private:
    std::shared_ptr<const LoadedModels> models_;
    AnalyzerOptions options_;
    FaceDetector detector_;
    std::optional<Embedder> embedder_;  // this thread's copy, made on first use
    StageTimes times_;
};

}  // namespace facepipe
