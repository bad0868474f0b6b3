#include "recognizer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <opencv2/core.hpp>

namespace facepipe {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

Box clip(const Box& b, int offset, int width, int height) {
    const int x0 = std::clamp(b.x - offset, 0, width), y0 = std::clamp(b.y - offset, 0, height);
    const int x1 = std::clamp(b.x - offset + b.width, 0, width), y1 = std::clamp(b.y - offset + b.height, 0, height);
    return Box{x0, y0, x1 - x0, y1 - y0};
}

}  // namespace

StageTimes& StageTimes::operator+=(const StageTimes& o) {
    detect_ms += o.detect_ms;
    landmarks_ms += o.landmarks_ms;
    descriptor_ms += o.descriptor_ms;
    return *this;
}

std::shared_ptr<const LoadedModels> LoadedModels::load(const ModelFiles& files) {
    auto m = std::shared_ptr<LoadedModels>(new LoadedModels());
    m->files_ = files;
    const auto t0 = Clock::now();
    m->aligner_ = std::async(std::launch::async, [path = files.landmarks, t0] {
        auto a = std::make_shared<const Aligner>(path);
        spdlog::debug("landmark model loaded after {:.0f} ms", ms_since(t0));
        return a;
    });
    m->embedder_ = std::async(std::launch::async, [path = files.recognition, t0] {
        auto e = std::make_shared<const Embedder>(path);
        spdlog::debug("face ResNet loaded after {:.0f} ms", ms_since(t0));
        return e;
    });
    return m;
}

FaceAnalyzer::FaceAnalyzer(std::shared_ptr<const LoadedModels> models, AnalyzerOptions options)
    : models_(std::move(models)),
      options_(options),
      detector_(options.detector),
      model_id_(models_->files().model_id()) {}

std::vector<Detection> FaceAnalyzer::find_faces(const cv::Mat& bgr, cv::Mat& work, int& offset) {
    work = bgr;
    offset = 0;
    auto dets = detector_.detect(bgr);
    if (!dets.empty() || std::max(bgr.cols, bgr.rows) > options_.pad_retry_max_side) return dets;
    offset = std::max(bgr.cols, bgr.rows) / 2;
    cv::copyMakeBorder(bgr, work, offset, offset, offset, offset, cv::BORDER_CONSTANT, cv::Scalar::all(0));
    return detector_.detect(work);
}

std::vector<Face> FaceAnalyzer::analyze(const cv::Mat& bgr, int max_faces, int* faces_found) {
    auto t0 = Clock::now();
    cv::Mat work;
    int offset = 0;
    auto dets = find_faces(bgr, work, offset);
    times_.detect_ms += ms_since(t0);
    if (faces_found) *faces_found = static_cast<int>(dets.size());
    if (max_faces > 0 && static_cast<int>(dets.size()) > max_faces) dets.resize(max_faces);

    t0 = Clock::now();
    std::vector<Chip> chips;
    chips.reserve(dets.size());
    for (const auto& d : dets) chips.push_back(Aligner::chip(work, models_->aligner().landmarks(work, d.box)));
    times_.landmarks_ms += ms_since(t0);

    t0 = Clock::now();
    if (!embedder_ && !chips.empty()) embedder_.emplace(models_->embedder_prototype());
    const auto descriptors = chips.empty() ? std::vector<Descriptor>{} : embedder_->compute(chips);
    times_.descriptor_ms += ms_since(t0);

    std::vector<Face> faces(dets.size());
    for (size_t i = 0; i < dets.size(); ++i) {
        faces[i].box = clip(dets[i].box, offset, bgr.cols, bgr.rows);
        faces[i].score = dets[i].score;
        faces[i].descriptor = descriptors[i];
    }
    return faces;
}

}  // namespace facepipe

namespace facepipe {

std::vector<Face> FaceAnalyzer::analyze(const LoadedImage& image, int max_faces, int* faces_found) {
    auto faces = analyze(image.bgr, max_faces, faces_found);
    if (image.scale != 1.0)
        for (auto& f : faces) {
            f.box = Box{static_cast<int>(f.box.x * image.scale), static_cast<int>(f.box.y * image.scale),
                        static_cast<int>(f.box.width * image.scale), static_cast<int>(f.box.height * image.scale)};
        }
    return faces;
}

}  // namespace facepipe
