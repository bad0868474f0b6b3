// ssd_detector.h — finding faces with a CNN: face-api's SSD MobileNet v1
// (trained on WIDER FACE), run by OpenCV's dnn module.
//
// Beside dlib's HOG detector (detect.h), which finds upright, near-frontal faces
// of about 80 px and more, this one also finds turned, small and partly hidden
// faces. The network, its anchors, box decoding and non-maximum suppression are
// face-api's (npm @vladmandic/face-api 1.7.15, src/ssdMobilenetv1/), reproduced
// step for step so that boxes and scores match face-api's own JavaScript forward
// pass (tests/test_ssd_detector.cpp, tests/js/face_api_ssd.js):
//   1. the image (RGB) is padded with black at the right or bottom to a square
//      and resized to 512x512 with TF's legacy bilinear resize (no half-pixel
//      offset, tf.image.resizeBilinear(alignCorners=false));
//   2. x / 127.5 - 1, then MobileNet v1 (14 conv blocks, ReLU6, TF "same"
//      padding) and 8 extra conv layers; 6 box predictors on feature maps of
//      32, 16, 8, 4, 2, 1 cells (3, 6, 6, 6, 6, 6 anchors a cell: 5118 anchors);
//   3. the score of an anchor is sigmoid(class logit 1); its box is decoded
//      from the anchor (ymin, xmin, ymax, xmax, stored in the model) with the
//      scales 10, 10, 5, 5 of TF's object-detection API;
//   4. greedy NMS as face-api's nonMaxSuppression (score > min_score, IoU >
//      iou_threshold suppresses, at most max_results), then each box clipped to
//      the padded square and mapped to the image as face-api does (relative
//      coordinate * 512 / round(side * 512 / long side)).
//
// The converted model is one facepipe file (ssd_model.h: a versioned, checksummed
// container of named float tensors), not an OpenCV-loadable one: OpenCV 4.6 reads
// TF only from a binary protobuf graph, which face-api does not ship and which we
// could not write without protobuf; a container is what every other facepipe file
// is, refused cleanly when damaged, and fuzzed (tests/fuzz/fuzz_ssd_model.cpp).
// The graph is built in code (cv::dnn::Net::addLayer with the weights as blobs);
// depthwise batch norm is folded into the convolutions at load.
#pragma once
#include <filesystem>
#include <memory>
#include <opencv2/core.hpp>
#include <vector>

#include "detect.h"

namespace facepipe {

struct SsdOptions {
    double min_score = 0.5;      // keep boxes scoring above this (face-api's minConfidence), in (0, 1)
    double iou_threshold = 0.5;  // NMS: a box overlapping a kept one by more than this IoU is dropped
    int max_results = 100;       // at most this many faces per image (face-api's maxResults)
    // Threads OpenCV's dnn may use in detect() (0 = all cores). OpenCV's thread
    // count is process-wide: detect() sets it (cv::setNumThreads) when it differs.
    // The detections do not depend on it.
    int threads = 1;
    // Reshape each box as dlib's HOG detector would have drawn it (kSsdToHog
    // below), so that dlib's landmark model, trained on HOG boxes, sees what it
    // was trained on. detect_relative() never maps: it is face-api's result.
    bool hog_box_mapping = true;
};

// The box mapping SSD -> HOG geometry: for an SSD box (centre cx, cy, size w, h),
// the HOG-shaped box has centre (cx + dx * w, cy + dy * h) and size (sw * w, sh * h).
// See docs/detectors.md for how the constants were fitted (bench/ssd_chips.cpp).
struct BoxMapping {
    double dx, dy, sw, sh;
};
inline constexpr BoxMapping kSsdToHog{0.0, 0.0, 1.0, 1.0};

// The side of the square image the network sees.
inline constexpr int kSsdInputSize = 512;

// Not thread-safe: copies share the (read-only) weights but each has its own
// network, so give each thread its own copy.
class SsdFaceDetector {
public:
    // Reads and checks the converted model (ssd_model.h) and builds the network.
    // Throws ModelError naming the file when the converted model is missing or
    // damaged (with what to run: `facepipe models import`).
    explicit SsdFaceDetector(const std::filesystem::path& model_file, SsdOptions options = {});
    SsdFaceDetector(const SsdFaceDetector&);
    SsdFaceDetector& operator=(const SsdFaceDetector&) = delete;
    ~SsdFaceDetector();

    // Requires: bgr is CV_8UC3 and not empty (else std::invalid_argument).
    // Ensures: boxes in the input image's pixels, mapped to HOG's geometry
    // unless !hog_box_mapping (they may extend past the image's edges), score = the network's face probability
    // in (min_score, 1], at most max_results, sorted by decreasing box area (so
    // the first is the largest face, like FaceDetector). The same image gives
    // the same detections every time, whatever the threads setting.
    std::vector<Detection> detect(const cv::Mat& bgr);

    const SsdOptions& options() const { return options_; }

    // face-api's own result for one image, before rounding to pixels: each box
    // relative to the image (x, y, width, height as fractions of its width and
    // height, face-api's FaceDetection.relativeBox), in NMS order (decreasing
    // score). detect() is this, in pixels, sorted by area. For the parity test.
    struct Face {
        cv::Rect2d relative;
        double score = 0;
    };
    std::vector<Face> detect_relative(const cv::Mat& bgr);

private:
    struct Impl;
    SsdOptions options_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace facepipe
