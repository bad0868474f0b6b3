// detect.cpp — how long FaceDetector::detect takes on one image with 1 thread
// and with more (DetectorOptions::threads), and that they find the same faces.
//
// Usage: facepipe_bench_detect IMAGE UPSAMPLE MAX_SIDE RUNS THREADS...
// Prints one markdown table row per thread count on stdout (scripts/bench.sh
// pastes them): threads, the detection image's size, median ms over RUNS
// (after one warm-up), speed-up against the first thread count, faces found.
// Exits 1 if any thread count finds other boxes or scores than the first.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>

#include "detect.h"

using namespace facepipe;

int main(int argc, char** argv) {
    if (argc < 6) {
        std::fprintf(stderr, "usage: %s IMAGE UPSAMPLE MAX_SIDE RUNS THREADS...\n", argv[0]);
        return 2;
    }
    const cv::Mat img = cv::imread(argv[1]);
    if (img.empty()) {
        std::fprintf(stderr, "%s: cannot read the image\n", argv[1]);
        return 2;
    }
    const int runs = std::max(1, std::atoi(argv[4]));
    double base_ms = 0;
    std::vector<Detection> first;
    for (int a = 5; a < argc; ++a) {
        DetectorOptions o;
        o.upsample = std::atoi(argv[2]);
        o.max_side = std::atoi(argv[3]);
        o.threads = std::atoi(argv[a]);
        FaceDetector detector(o);
        std::vector<Detection> found = detector.detect(img);  // warm-up
        std::vector<double> ms;
        for (int r = 0; r < runs; ++r) {
            const auto t0 = std::chrono::steady_clock::now();
            found = detector.detect(img);
            ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
        std::sort(ms.begin(), ms.end());
        const double median = runs % 2 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2;
        if (a == 5) base_ms = median, first = found;
        bool same = found.size() == first.size();
        for (std::size_t i = 0; same && i < found.size(); ++i)
            same = found[i].box == first[i].box && found[i].score == first[i].score;
        if (!same) {
            std::fprintf(stderr, "threads %d found other faces than threads %s\n", o.threads, argv[5]);
            return 1;
        }
        const double s = detector.scale_for(img.cols, img.rows);
        std::printf("| %d | %dx%d | %.0f | %.2fx | %zu |\n", o.threads, static_cast<int>(img.cols * s + 0.5),
                    static_cast<int>(img.rows * s + 0.5), median, base_ms / median, found.size());
    }
    return 0;
}
