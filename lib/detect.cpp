#include "detect.h"

#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/opencv/cv_image.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <future>
#include <mutex>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <thread>

#include "error.h"
#include "hog_detector.h"
#include "ssd_detector.h"
#include "threads.h"

namespace facepipe {
namespace {

using Hog = dlib::frontal_face_detector;
using Scanner = Hog::image_scanner_type;
using Pyramid = Scanner::pyramid_type;
using Dets = std::vector<std::pair<double, dlib::rectangle>>;

// What dlib's object_detector::operator()(img, dets, adjust_threshold) computes,
// with the pyramid's levels shared among `threads` threads. Per level the same
// steps run on the same data as in dlib (scan_fhog_pyramid::load, then
// detect_from_fhog_pyramid for each weight vector), and the per-level results are
// put back in level order before dlib's own sorts and non-max suppression, so
// boxes, scores and their order are exactly the serial ones.
// The parallel path's buffers, kept from one call to the next as dlib's scanner
// keeps its pyramid: frames of one size then allocate (and page in) nothing.
struct LevelBuffers {
    dlib::array2d<unsigned char> image;      // pyr applied l times (unused at level 0)
    dlib::array<dlib::array2d<float>> feats;  // the level's fhog planes
    dlib::array2d<float> saliency;
};

std::vector<dlib::rect_detection> detect_levels_parallel(const Hog& hog, const dlib::cv_image<unsigned char>& img,
                                                         double adjust_threshold, int threads,
                                                         std::vector<std::unique_ptr<LevelBuffers>>& buffers) {
    const Scanner& scanner = hog.get_scanner();
    const auto& fe = scanner.get_feature_extractor();
    const long win_w = static_cast<long>(scanner.get_fhog_window_width());
    const long win_h = static_cast<long>(scanner.get_fhog_window_height());
    const long pad = static_cast<long>(scanner.get_padding());
    const int cell = static_cast<int>(scanner.get_cell_size());
    const unsigned long weights = hog.num_detectors();

    // The number of levels, as impl::create_fhog_pyramid counts them.
    Pyramid pyr;
    unsigned long levels = 0;
    dlib::rectangle rect = dlib::get_rect(img);
    do {
        rect = pyr.rect_down(rect);
        ++levels;
    } while (rect.width() >= scanner.get_min_pyramid_layer_width() &&
             rect.height() >= scanner.get_min_pyramid_layer_height() && levels < scanner.get_max_pyramid_levels());

    // Level l's image: the input for level 0, else pyr applied l times, made one
    // after the other (as in dlib) by the calling thread while the others start on
    // the levels already there.
    while (buffers.size() < levels) buffers.push_back(std::make_unique<LevelBuffers>());
    std::vector<std::promise<void>> made(levels);
    std::vector<std::shared_future<void>> ready;
    for (auto& m : made) ready.push_back(m.get_future().share());
    made[0].set_value();

    std::vector<std::vector<Dets>> found(levels, std::vector<Dets>(weights));  // [level][weight]
    std::atomic<unsigned long> next{0};
    std::mutex failure_mu;
    std::exception_ptr failure;
    auto scan_levels = [&] {
        try {
            for (unsigned long l; (l = next++) < levels;) {
                ready[l].get();  // rethrows when making the image failed
                auto& feats = buffers[l]->feats;
                auto& saliency = buffers[l]->saliency;
                if (l == 0) fe(img, feats, cell, win_h, win_w);
                else fe(buffers[l]->image, feats, cell, win_h, win_w);
                for (unsigned long i = 0; i < weights; ++i) {
                    const auto& pw = hog.get_processed_w(i);
                    const double thresh = pw.w(scanner.get_num_dimensions()) + adjust_threshold;
                    // The body of impl::detect_from_fhog_pyramid's loop, for level l.
                    const dlib::rectangle area = dlib::impl::apply_filters_to_fhog(pw.get_detect_argument(), feats, saliency);
                    for (long r = area.top(); r <= area.bottom(); ++r)
                        for (long c = area.left(); c <= area.right(); ++c)
                            if (saliency[r][c] >= thresh) {
                                const dlib::rectangle box = fe.feats_to_image(
                                    dlib::centered_rect(dlib::point(c, r), win_w - 2 * pad, win_h - 2 * pad), cell, win_h,
                                    win_w);
                                found[l][i].emplace_back(saliency[r][c], pyr.rect_up(box, l));
                            }
                }
            }
        } catch (...) {
            next = levels;  // the others stop after their current level
            std::lock_guard lock(failure_mu);
            if (!failure) failure = std::current_exception();
        }
    };
    std::vector<std::thread> helpers;
    for (int t = 1; t < threads && static_cast<unsigned long>(t) < levels; ++t) helpers.emplace_back(scan_levels);
    unsigned long l = 1;
    try {
        for (; l < levels; ++l) {
            if (l == 1) pyr(img, buffers[1]->image);
            else pyr(buffers[l - 1]->image, buffers[l]->image);
            made[l].set_value();
        }
    } catch (...) {
        for (; l < levels; ++l) made[l].set_exception(std::current_exception());
    }
    scan_levels();
    for (auto& h : helpers) h.join();
    if (failure) std::rethrow_exception(failure);

    // object_detector::operator(): each weight vector's detections, sorted as
    // detect_from_fhog_pyramid sorts them, then all of them by confidence, then
    // non-max suppression.
    std::vector<dlib::rect_detection> accum;
    for (unsigned long i = 0; i < weights; ++i) {
        Dets dets;
        for (std::size_t l = 0; l < levels; ++l) dets.insert(dets.end(), found[l][i].begin(), found[l][i].end());
        std::sort(dets.rbegin(), dets.rend(), dlib::impl::compare_pair_rect);
        const double thresh = hog.get_processed_w(i).w(scanner.get_num_dimensions());
        for (const auto& [score, rect] : dets) accum.push_back(dlib::rect_detection{score - thresh, i, rect});
    }
    if (weights > 1) std::sort(accum.rbegin(), accum.rend());
    std::vector<dlib::rect_detection> out;
    const dlib::test_box_overlap& overlaps = hog.get_overlap_tester();
    for (const auto& d : accum) {
        const bool suppressed = std::any_of(out.begin(), out.end(), [&](const dlib::rect_detection& k) { return overlaps(k.rect, d.rect); });
        if (!suppressed) out.push_back(d);
    }
    return out;
}

}  // namespace

DetectorKind parse_detector_kind(const std::string& text, const std::string& subject) {
    if (text == "hog") return DetectorKind::hog;
    if (text == "ssd") return DetectorKind::ssd;
    throw Error(subject, "unknown detector '" + text + "' (expected hog or ssd)");
}

double default_min_score(DetectorKind k) { return k == DetectorKind::ssd ? 0.5 : 0.0; }

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

// One of the two detectors: hog (dlib's, copied from the process's one) or ssd.
struct FaceDetector::Impl {
    explicit Impl(const DetectorOptions& o) {
        if (o.kind != DetectorKind::ssd) {
            hog = frontal_face_detector();
            return;
        }
        if (o.ssd_model.empty()) throw ModelError("--detector ssd", "no SSD model file given");
        SsdOptions so;
        so.min_score = o.effective_min_score();
        so.threads = o.threads;
        ssd.emplace(o.ssd_model, so);
    }
    Impl(const Impl& o) : hog(o.hog), ssd(o.ssd) {}  // a copy shares no buffers (ssd: its weights only)
    Hog hog;
    std::vector<std::unique_ptr<LevelBuffers>> buffers;  // hog's parallel path's, per pyramid level
    std::optional<SsdFaceDetector> ssd;
};

FaceDetector::FaceDetector(DetectorOptions options) : options_(options), impl_(std::make_unique<Impl>(options_)) {}
FaceDetector::FaceDetector(const FaceDetector& o) : options_(o.options_), impl_(std::make_unique<Impl>(*o.impl_)) {}
FaceDetector::~FaceDetector() = default;

double FaceDetector::scale_for(int width, int height) const {
    const int long_side = std::max(width, height);
    const double up = std::pow(2.0, std::clamp(options_.upsample, 0, 3));
    const double cap = options_.max_side > 0 ? static_cast<double>(options_.max_side) / long_side : up;
    return std::min(up, cap);
}

std::vector<Detection> FaceDetector::detect(const cv::Mat& bgr) {
    if (impl_->ssd) return impl_->ssd->detect(bgr);  // its own scale (a 512x512 copy) and order (by area)
    const double s = scale_for(bgr.cols, bgr.rows);
    cv::Mat work = bgr;
    if (std::abs(s - 1.0) > 1e-9)
        cv::resize(bgr, work, cv::Size(), s, s, s < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
    // HOG runs on one channel; converting once here is cheaper than dlib doing it per scale.
    cv::Mat gray;
    cv::cvtColor(work, gray, cv::COLOR_BGR2GRAY);
    std::vector<dlib::rect_detection> found;
    const dlib::cv_image<unsigned char> img(gray);
    if (const int threads = resolve_threads(options_.threads); threads > 1)
        found = detect_levels_parallel(impl_->hog, img, options_.effective_min_score(), threads, impl_->buffers);
    else
        impl_->hog(img, found, options_.effective_min_score());

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
