// detect.h — finding faces: one FaceDetector over two kinds of detector.
//
// hog: dlib's HOG frontal face detector. It sees upright, near-frontal faces of
// roughly 80x80 pixels and up. To find smaller faces the image is upsampled; to
// keep large photos fast it is downscaled. Both are one scale factor, chosen per
// image: s = min(2^upsample, max_side / long side).
// ssd: face-api's SSD MobileNet v1 on OpenCV's dnn (ssd_detector.h), which also
// finds turned, small and partly hidden faces; upsample and max_side do not
// apply (the network sees a fixed-size copy of the image).
// Boxes always come back in the coordinates of the image passed in. Everything
// above (FaceAnalyzer, recognizer.h) is the same for both kinds.
#pragma once
#include <opencv2/core.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "types.h"

namespace facepipe {

// The kind's CLI spelling: to_string(DetectorKind) in types.h.
// Accepts "hog" and "ssd"; throws Error(subject, ...) otherwise.
DetectorKind parse_detector_kind(const std::string& text, const std::string& subject = "--detector");

// The score threshold a kind uses when none is given: 0 for hog (dlib's own
// threshold: a face is kept when its confidence, the SVM score minus dlib's
// threshold, is >= 0), 0.5 for ssd (face-api's default minConfidence).
double default_min_score(DetectorKind k);

struct DetectorOptions {
    DetectorKind kind = DetectorKind::hog;
    // Faces scoring below this are dropped (Detection::score's scale); none =
    // default_min_score(kind). For hog it is added to dlib's threshold, so > 0
    // finds fewer, surer faces and < 0 more.
    std::optional<double> min_score;
    int upsample = 1;          // hog: times to double a small image before detecting (0-3)
    int max_side = 1280;       // hog: cap on the detection image's long side, in pixels
    // Threads one detect() call uses (0 = all cores): hog shares its pyramid's
    // levels among them, ssd gives them to OpenCV's dnn. The detections (boxes,
    // scores, order) do not depend on it for hog. Callers that already run one
    // image per core keep 1.
    int threads = 1;
    // ssd: the converted network (models.h ModelFiles); FaceAnalyzer sets it
    // from the loaded models. Unused by hog.
    std::filesystem::path ssd_model;

    double effective_min_score() const { return min_score.value_or(default_min_score(kind)); }
};

struct Detection {
    Box box;          // in the input image's pixels; may extend past its edges
    // hog: dlib's detection confidence (>= min_score; higher = surer);
    // ssd: the network's face probability, in [min_score, 1].
    double score = 0;
};

// Not thread-safe: give each thread its own detector. Copies are cheap for hog;
// an ssd copy shares the weights and builds its own network from them, while a
// detector constructed from options reads and checks the model file itself.
// With options.threads > 1, detect()
// itself runs on that many threads (started per call); for hog it returns
// exactly what one thread finds.
class FaceDetector {
public:
    // Throws ModelError when kind is ssd and ssd_model is empty or unusable.
    explicit FaceDetector(DetectorOptions options = {});
    FaceDetector(const FaceDetector&);
    FaceDetector& operator=(const FaceDetector&) = delete;
    ~FaceDetector();

    // Requires: bgr is CV_8UC3 and not empty. Ensures: detections sorted by
    // decreasing box area (so the first is the largest face).
    std::vector<Detection> detect(const cv::Mat& bgr);

    // hog: the detection scale used for an image of this size (see above).
    double scale_for(int width, int height) const;
    const DetectorOptions& options() const { return options_; }

private:
    struct Impl;
    DetectorOptions options_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace facepipe
