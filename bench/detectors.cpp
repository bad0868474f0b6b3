// detectors.cpp — what each face detector (detect.h) finds, and how fast, for
// scripts/bench_detectors.sh (bench.sh's detectors section).
//
// Usage:
//   facepipe_bench_detectors count MODELS_DIR IMAGE...
//       One line per image: path, then the faces FaceAnalyzer::detect finds
//       (encode's and predict's path, with its padded retry of small crops) with
//       hog (upsample 1, max side 1280: their settings), hog with upsample 0,
//       and ssd (min score 0.5), tab-separated.
//   facepipe_bench_detectors video MODELS_DIR VIDEO
//       One line per frame: frame index, faces found with live's settings
//       (LiveOptions::live_analyzer_defaults) by hog and by ssd, tab-separated.
//   facepipe_bench_detectors speed MODELS_DIR IMAGE RUNS THREADS
//       One line per detector setting: name, median ms of RUNS detect() calls
//       (after one warm-up) on THREADS threads, faces found.
// Images are decoded with facepipe's own loader (image.h: EXIF orientation
// applied), as encode and predict decode them.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <opencv2/videoio.hpp>

#include "detect.h"
#include "error.h"
#include "image.h"
#include "live.h"
#include "recognizer.h"

using namespace facepipe;

namespace {

DetectorOptions hog(int upsample, int max_side, int threads = 1) {
    DetectorOptions o;
    o.upsample = upsample;
    o.max_side = max_side;
    o.threads = threads;
    return o;
}

DetectorOptions ssd(const std::filesystem::path& model, int threads = 1) {
    DetectorOptions o;
    o.kind = DetectorKind::ssd;
    o.ssd_model = model;
    o.threads = threads;
    return o;
}

AnalyzerOptions analyzer(DetectorOptions d, AnalyzerOptions a = {}) {
    a.detector = d;
    return a;
}

double median_ms(FaceDetector& d, const cv::Mat& img, int runs, std::size_t* faces) {
    *faces = d.detect(img).size();  // warm-up
    std::vector<double> ms;
    for (int r = 0; r < runs; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        d.detect(img);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return runs % 2 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) try {
    const std::string mode = argc > 2 ? argv[1] : "";
    if (mode == "count" && argc >= 4) {
        const auto models = LoadedModels::load(find_models(argv[2]));
        FaceAnalyzer h1(models, analyzer(hog(1, 1280))), h0(models, analyzer(hog(0, 1280))),
            s(models, analyzer(ssd(models->ssd_model())));
        for (int a = 3; a < argc; ++a) {
            const LoadedImage img = load_image(argv[a]);
            std::printf("%s\t%zu\t%zu\t%zu\n", argv[a], h1.detect(img.bgr).size(), h0.detect(img.bgr).size(),
                        s.detect(img.bgr).size());
        }
        return 0;
    }
    if (mode == "video" && argc == 4) {
        const auto models = LoadedModels::load(find_models(argv[2]));
        const AnalyzerOptions live = LiveOptions::live_analyzer_defaults();
        DetectorOptions so = live.detector;
        so.kind = DetectorKind::ssd;
        FaceAnalyzer h(models, live), s(models, analyzer(so, live));
        cv::VideoCapture cap(argv[3]);
        if (!cap.isOpened()) throw Error(argv[3], "cannot open the video");
        cv::Mat frame;
        for (int i = 0; cap.read(frame); ++i)
            std::printf("%d\t%zu\t%zu\n", i, h.detect(frame).size(), s.detect(frame).size());
        return 0;
    }
    if (mode == "speed" && argc == 6) {
        const std::filesystem::path ssd_model = find_models(argv[2]).ssd;
        const LoadedImage img = load_image(argv[3]);
        const int runs = std::max(1, std::atoi(argv[4])), threads = std::atoi(argv[5]);
        const std::pair<const char*, DetectorOptions> settings[] = {
            {"hog upsample 0", hog(0, 16384, threads)},
            {"hog upsample 1", hog(1, 16384, threads)},
            {"hog upsample 1, max side 1280", hog(1, 1280, threads)},
            {"ssd", ssd(ssd_model, threads)}};
        for (const auto& [name, o] : settings) {
            FaceDetector d(o);
            std::size_t faces = 0;
            const double ms = median_ms(d, img.bgr, runs, &faces);
            std::printf("%s\t%.1f\t%zu\n", name, ms, faces);
        }
        return 0;
    }
    std::fprintf(stderr,
                 "usage: %s count MODELS_DIR IMAGE... | video MODELS_DIR VIDEO | speed MODELS_DIR IMAGE RUNS THREADS\n",
                 argv[0]);
    return 2;
} catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
}
