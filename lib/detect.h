// detect.h — finding faces: dlib's HOG frontal face detector.
//
// The detector sees faces of roughly 80x80 pixels and up. To find smaller faces
// the image is upsampled; to keep large photos fast it is downscaled. Both are
// one scale factor, chosen per image: s = min(2^upsample, max_side / long side).
// Boxes always come back in the coordinates of the image passed in.
#pragma once
#include <opencv2/core.hpp>
#include <memory>
#include <vector>

#include "types.h"

namespace facepipe {

struct DetectorOptions {
    int upsample = 1;          // times to double a small image before detecting (0-3)
    int max_side = 1280;       // cap on the detection image's long side, in pixels
    double adjust_threshold = 0.0;  // added to dlib's score threshold; > 0 = stricter
    // Threads one detect() call shares the HOG pyramid's levels among (0 = all
    // cores). The detections (boxes, scores, order) do not depend on it. Callers
    // that already run one image per core keep 1.
    int threads = 1;
};

struct Detection {
    Box box;          // in the input image's pixels; may extend past its edges
    double score = 0; // HOG detection confidence (higher = surer)
};

// Not thread-safe: give each thread its own detector (copies are cheap). With
// options.threads > 1, detect() itself runs on that many threads (started per
// call) and returns exactly what one thread finds.
class FaceDetector {
public:
    explicit FaceDetector(DetectorOptions options = {});
    FaceDetector(const FaceDetector&);
    FaceDetector& operator=(const FaceDetector&) = delete;
    ~FaceDetector();

    // Requires: bgr is CV_8UC3 and not empty. Ensures: detections sorted by
    // decreasing box area (so the first is the largest face).
    std::vector<Detection> detect(const cv::Mat& bgr);

    // The detection scale used for an image of this size (see above).
    double scale_for(int width, int height) const;
    const DetectorOptions& options() const { return options_; }

private:
    struct Impl;
    DetectorOptions options_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace facepipe
