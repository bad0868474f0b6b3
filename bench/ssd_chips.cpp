// ssd_chips.cpp — does dlib's 68-point landmark model, trained on HOG-shaped
// boxes, give the same chip (and so descriptor) from an SSD box as from the HOG
// box of the same face? And which box mapping SSD -> HOG geometry makes it so.
//
// Usage: facepipe_bench_ssd_chips MODELS_DIR PHOTO...
// Each detector searches as FaceAnalyzer does (a small image where nothing is
// found is padded and searched again). For every face both find (the SSD box
// with the highest IoU with a HOG box, IoU >= 0.3), the descriptors of chips:
//   hog: from the HOG box (what encode does today);
//   raw: from face-api's SSD box as it is (SsdOptions::hog_box_mapping = false);
//   map: from the SSD box through kSsdToHog (SsdFaceDetector's default);
//   cv:  from the SSD box through a mapping fitted on the other half of the
//        faces (2-fold cross-validation: is kSsdToHog's gain overfitted?).
// Prints the distances to the hog chip (median, 90th percentile, max, how
// many cross 0.4 and 0.6), and the mapping fitted on all faces (the medians of
//   dx = (hog centre x - ssd centre x) / ssd width,   dy = likewise / ssd height,
//   sw = hog width / ssd width,                      sh = hog height / ssd height),
// which docs/detectors.md and ssd_detector.h record; and the SSD's median time
// a photo. Not a test: a measurement
// (scripts/bench.sh or by hand).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "align.h"
#include "detect.h"
#include "embed.h"
#include "models.h"
#include "ssd_detector.h"

using namespace facepipe;

namespace {

double iou(const Box& a, const Box& b) {
    const int x0 = std::max(a.x, b.x), y0 = std::max(a.y, b.y);
    const int x1 = std::min(a.x + a.width, b.x + b.width), y1 = std::min(a.y + a.height, b.y + b.height);
    const double inter = std::max(0, x1 - x0) * static_cast<double>(std::max(0, y1 - y0));
    return inter / (a.area() + b.area() - inter);
}

double quantile(std::vector<double> v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[static_cast<size_t>(q * (v.size() - 1) + 0.5)];
}

void report(const char* name, const std::vector<double>& d) {
    const auto over = [&](double t) { return std::count_if(d.begin(), d.end(), [t](double x) { return x > t; }); };
    std::printf("| %s | %zu | %.4f | %.4f | %.4f | %ld | %ld |\n", name, d.size(), quantile(d, 0.5), quantile(d, 0.9),
                d.empty() ? 0.0 : *std::max_element(d.begin(), d.end()), over(0.4), over(0.6));
}

// What FaceAnalyzer::detect does (recognizer.cpp): a small image where nothing
// is found is padded by half its size and searched again; boxes come back in
// the image's coordinates.
template <class Detector>
std::vector<Detection> detect_with_retry(Detector& d, const cv::Mat& img) {
    auto found = d.detect(img);
    if (!found.empty() || std::max(img.cols, img.rows) > 400) return found;
    const int pad = std::max(img.cols, img.rows) / 2;
    cv::Mat padded;
    cv::copyMakeBorder(img, padded, pad, pad, pad, pad, cv::BORDER_CONSTANT, cv::Scalar::all(0));
    found = d.detect(padded);
    for (auto& f : found) f.box.x -= pad, f.box.y -= pad;
    return found;
}

Box apply(const BoxMapping& m, const Box& b) {
    const double w = b.width * m.sw, h = b.height * m.sh;
    const double cx = b.x + b.width / 2.0 + m.dx * b.width, cy = b.y + b.height / 2.0 + m.dy * b.height;
    const int x0 = static_cast<int>(std::lround(cx - w / 2)), y0 = static_cast<int>(std::lround(cy - h / 2));
    return {x0, y0, static_cast<int>(std::lround(cx + w / 2)) - x0, static_cast<int>(std::lround(cy + h / 2)) - y0};
}

struct Pair {
    int photo;
    Box hog, ssd;  // the raw SSD box
};

BoxMapping fit(const std::vector<Pair>& pairs, int skip_parity) {
    std::vector<double> dx, dy, sw, sh;
    for (size_t i = 0; i < pairs.size(); ++i) {
        if (static_cast<int>(i % 2) == skip_parity) continue;
        const Box &h = pairs[i].hog, &s = pairs[i].ssd;
        dx.push_back((h.x + h.width / 2.0 - (s.x + s.width / 2.0)) / s.width);
        dy.push_back((h.y + h.height / 2.0 - (s.y + s.height / 2.0)) / s.height);
        sw.push_back(static_cast<double>(h.width) / s.width);
        sh.push_back(static_cast<double>(h.height) / s.height);
    }
    return {quantile(dx, 0.5), quantile(dy, 0.5), quantile(sw, 0.5), quantile(sh, 0.5)};
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s MODELS_DIR PHOTO...\n", argv[0]);
        return 2;
    }
    ModelFiles files = locate_models(argv[1]);
    Aligner aligner(files.landmarks, files.landmark_cache, files.landmarks_sha256);
    Embedder embedder(files.recognition);
    FaceDetector hog;
    SsdOptions raw_options;
    raw_options.hog_box_mapping = false;
    SsdFaceDetector ssd(files.ssd, raw_options);

    std::vector<cv::Mat> photos;
    std::vector<Pair> pairs;
    int hog_faces = 0, ssd_faces = 0;
    std::vector<double> ssd_ms;  // per photo, 1 thread, padded retries included
    for (int a = 2; a < argc; ++a) {
        const cv::Mat img = cv::imread(argv[a]);
        if (img.empty()) continue;
        photos.push_back(img);
        const auto h = detect_with_retry(hog, img);
        const auto t0 = std::chrono::steady_clock::now();
        const auto s = detect_with_retry(ssd, img);
        ssd_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        hog_faces += h.size();
        ssd_faces += s.size();
        for (const Detection& hd : h) {
            size_t best = s.size();
            double best_iou = 0.3;
            for (size_t k = 0; k < s.size(); ++k)
                if (iou(hd.box, s[k].box) >= best_iou) best_iou = iou(hd.box, s[k].box), best = k;
            if (best < s.size()) pairs.push_back({static_cast<int>(photos.size()) - 1, hd.box, s[best].box});
        }
    }
    // Cross-validated: each face's mapping fitted on the other half of the faces.
    const BoxMapping half[2] = {fit(pairs, 0), fit(pairs, 1)}, all = fit(pairs, -1);
    std::vector<double> d_raw, d_map, d_cv;
    for (size_t i = 0; i < pairs.size(); ++i) {
        const cv::Mat& img = photos[pairs[i].photo];
        auto chip = [&](const Box& b) { return Aligner::chip(img, aligner.landmarks(img, b)); };
        const auto d = embedder.compute({chip(pairs[i].hog), chip(pairs[i].ssd), chip(apply(kSsdToHog, pairs[i].ssd)),
                                         chip(apply(half[i % 2], pairs[i].ssd))});
        d_raw.push_back(distance(d[0], d[1]));
        d_map.push_back(distance(d[0], d[2]));
        d_cv.push_back(distance(d[0], d[3]));
    }
    std::printf("%zu photos: %d HOG faces, %d SSD faces, %zu found by both\n\n", photos.size(), hog_faces, ssd_faces,
                pairs.size());
    std::printf("SSD detect, 1 thread: median %.0f ms a photo (the network always sees 512x512)\n\n",
                quantile(ssd_ms, 0.5));
    std::printf("| chips compared | faces | median | p90 | max | > 0.4 | > 0.6 |\n|---|---|---|---|---|---|---|\n");
    report("HOG box vs raw SSD box", d_raw);
    report("HOG box vs SSD box mapped by kSsdToHog", d_map);
    report("HOG box vs SSD box mapped, fitted on the other half", d_cv);
    std::printf("\nkSsdToHog: dx %.4f  dy %.4f  sw %.4f  sh %.4f\n", kSsdToHog.dx, kSsdToHog.dy, kSsdToHog.sw,
                kSsdToHog.sh);
    std::printf("fitted on these faces (medians): dx %.4f  dy %.4f  sw %.4f  sh %.4f\n", all.dx, all.dy, all.sw, all.sh);
    return 0;
}
