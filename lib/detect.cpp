#include "detect.h"

#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/opencv/cv_image.h>

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "hog_detector.h"

namespace facepipe {

// dlib's frontal face detector, serialised at build time (cmake/make_hog_detector.cpp).
extern const unsigned char kHogDetector[];
extern const std::size_t kHogDetectorSize;

const dlib::frontal_face_detector& frontal_face_detector() {
    static const dlib::frontal_face_detector d = [] {
        std::istringstream in(std::string(reinterpret_cast<const char*>(kHogDetector), kHogDetectorSize), std::ios::binary);
        dlib::frontal_face_detector det;
        dlib::deserialize(det, in);
        return det;
    }();
    return d;
}

struct FaceDetector::Impl {
    dlib::frontal_face_detector hog = frontal_face_detector();
};

FaceDetector::FaceDetector(DetectorOptions options) : options_(options), impl_(std::make_unique<Impl>()) {}
FaceDetector::FaceDetector(const FaceDetector& o) : options_(o.options_), impl_(std::make_unique<Impl>(*o.impl_)) {}
FaceDetector::~FaceDetector() = default;

double FaceDetector::scale_for(int width, int height) const {
    const int long_side = std::max(width, height);
    const double up = std::pow(2.0, std::clamp(options_.upsample, 0, 3));
    const double cap = options_.max_side > 0 ? static_cast<double>(options_.max_side) / long_side : up;
    return std::min(up, cap);
}

std::vector<Detection> FaceDetector::detect(const cv::Mat& bgr) {
    const double s = scale_for(bgr.cols, bgr.rows);
    cv::Mat work = bgr;
    if (std::abs(s - 1.0) > 1e-9)
        cv::resize(bgr, work, cv::Size(), s, s, s < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
    // HOG runs on one channel; converting once here is cheaper than dlib doing it per scale.
    cv::Mat gray;
    cv::cvtColor(work, gray, cv::COLOR_BGR2GRAY);
    std::vector<dlib::rect_detection> found;
    impl_->hog(dlib::cv_image<unsigned char>(gray), found, options_.adjust_threshold);

    std::vector<Detection> out;
    out.reserve(found.size());
    for (const auto& d : found) {
        const auto& r = d.rect;
        Detection det;
        det.box.x = static_cast<int>(std::lround(r.left() / s));
        det.box.y = static_cast<int>(std::lround(r.top() / s));
        det.box.width = static_cast<int>(std::lround(r.width() / s));
        det.box.height = static_cast<int>(std::lround(r.height() / s));
        det.score = d.detection_confidence;
        out.push_back(det);
    }
    std::stable_sort(out.begin(), out.end(), [](const Detection& a, const Detection& b) { return a.box.area() > b.box.area(); });
    return out;
}

}  // namespace facepipe
