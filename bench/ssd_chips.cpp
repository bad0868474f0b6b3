// ssd_chips.cpp — does dlib's 68-point landmark model, trained on HOG-shaped
// boxes, give the same chip (and so descriptor) from an SSD box as from the HOG
// box of the same face? And which box mapping SSD -> HOG geometry makes it so.
//
// Usage: facepipe_bench_ssd_chips MODELS_DIR PHOTO...
// For every face both detectors find in a photo (the SSD box with the highest
// IoU with a HOG box, IoU >= 0.3), the descriptors of three chips:
//   hog: from the HOG box (what encode does today);
//   raw: from face-api's SSD box as it is (SsdOptions::hog_box_mapping = false);
//   map: from the SSD box through SsdFaceDetector's mapping (the default).
// Prints the distances hog-raw and hog-map (median, 90th percentile, max, how
// many cross 0.4 and 0.6), and the mapping fitted on these faces (the medians of
//   dx = (hog centre x - ssd centre x) / ssd width,   dy = likewise / ssd height,
//   sw = hog width / ssd width,                      sh = hog height / ssd height),
// which docs/detectors.md and ssd_detector.h record. Not a test: a measurement
// (scripts/bench.sh or by hand).
#include <algorithm>
#include <cstdio>
#include <opencv2/imgcodecs.hpp>
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
    SsdFaceDetector raw(files.ssd, raw_options), mapped(files.ssd);

    std::vector<double> d_raw, d_map, dx, dy, sw, sh;
    int photos = 0, hog_faces = 0, ssd_faces = 0;
    for (int a = 2; a < argc; ++a) {
        const cv::Mat img = cv::imread(argv[a]);
        if (img.empty()) continue;
        ++photos;
        const auto h = hog.detect(img);
        const auto s = raw.detect(img);
        const auto m = mapped.detect(img);
        hog_faces += h.size();
        ssd_faces += s.size();
        if (s.size() != m.size()) return std::fprintf(stderr, "%s: mapping changed the face count\n", argv[a]), 1;
        for (const Detection& hd : h) {
            size_t best = s.size();
            double best_iou = 0.3;
            for (size_t k = 0; k < s.size(); ++k)
                if (iou(hd.box, s[k].box) >= best_iou) best_iou = iou(hd.box, s[k].box), best = k;
            if (best == s.size()) continue;
            // detect() sorts by area; the mapping keeps the order only if it scales all alike: match again.
            size_t mbest = 0;
            for (size_t k = 1; k < m.size(); ++k)
                if (iou(hd.box, m[k].box) > iou(hd.box, m[mbest].box)) mbest = k;
            const Box& sb = s[best].box;
            dx.push_back((hd.box.x + hd.box.width / 2.0 - (sb.x + sb.width / 2.0)) / sb.width);
            dy.push_back((hd.box.y + hd.box.height / 2.0 - (sb.y + sb.height / 2.0)) / sb.height);
            sw.push_back(static_cast<double>(hd.box.width) / sb.width);
            sh.push_back(static_cast<double>(hd.box.height) / sb.height);
            const auto chips = std::vector<Chip>{Aligner::chip(img, aligner.landmarks(img, hd.box)),
                                                 Aligner::chip(img, aligner.landmarks(img, sb)),
                                                 Aligner::chip(img, aligner.landmarks(img, m[mbest].box))};
            const auto d = embedder.compute(chips);
            d_raw.push_back(distance(d[0], d[1]));
            d_map.push_back(distance(d[0], d[2]));
        }
    }
    std::printf("%d photos: %d HOG faces, %d SSD faces, %zu found by both\n\n", photos, hog_faces, ssd_faces,
                d_raw.size());
    std::printf("| chips compared | faces | median | p90 | max | > 0.4 | > 0.6 |\n|---|---|---|---|---|---|---|\n");
    report("HOG box vs raw SSD box", d_raw);
    report("HOG box vs mapped SSD box", d_map);
    std::printf("\nfitted mapping (medians): dx %.4f  dy %.4f  sw %.4f  sh %.4f\n", quantile(dx, 0.5),
                quantile(dy, 0.5), quantile(sw, 0.5), quantile(sh, 0.5));
    return 0;
}
