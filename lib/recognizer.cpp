#include "recognizer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <opencv2/core.hpp>

#include "error.h"
#include "landmark_cache.h"

namespace facepipe {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

Box clip(const Box& b, int width, int height) {
    const int x0 = std::clamp(b.x, 0, width), y0 = std::clamp(b.y, 0, height);
    const int x1 = std::clamp(b.x + b.width, 0, width), y1 = std::clamp(b.y + b.height, 0, height);
    return Box{x0, y0, x1 - x0, y1 - y0};
}

// Squared distance from a box's centre to the image centre, in doubled pixel units (exact integers).
long long centre_offset2(const Box& b, int width, int height) {
    const long long dx = 2LL * b.x + b.width - width, dy = 2LL * b.y + b.height - height;
    return dx * dx + dy * dy;
}

}  // namespace

const char* to_string(FaceChoice c) { return c == FaceChoice::centre ? "centre" : "largest"; }

FaceChoice parse_face_choice(const std::string& text, const std::string& subject) {
    if (text == "largest") return FaceChoice::largest;
    if (text == "centre") return FaceChoice::centre;
    throw Error(subject, "unknown face choice '" + text + "' (expected centre or largest)");
}

std::string detector_mismatch(DetectorKind gallery, DetectorKind used) {
    if (gallery == used) return "";
    return std::string("its faces were found by the ") + to_string(gallery) + " detector, these by " +
           to_string(used) + "; pass --detector " + to_string(gallery) + " for the same chips";
}

StageTimes& StageTimes::operator+=(const StageTimes& o) {
    detect_ms += o.detect_ms;
    landmarks_ms += o.landmarks_ms;
    descriptor_ms += o.descriptor_ms;
    return *this;
}

std::shared_ptr<const LoadedModels> LoadedModels::load(const ModelFiles& files) {
    auto m = std::shared_ptr<LoadedModels>(new LoadedModels());
    m->ssd_model_ = files.ssd;
    const auto t0 = Clock::now();
    m->aligner_ = std::async(std::launch::async, [files, t0] {
        auto a = std::make_shared<const Aligner>(files.landmarks, files.landmark_cache, files.landmarks_sha256);
        spdlog::debug("landmark model loaded{} after {:.0f} ms", a->cached() ? " from its cache" : "", ms_since(t0));
        return a;
    });
    // With a landmark cache, the landmark model's checksum is the one the cache
    // recorded and the Aligner checked (landmark_cache.h): 95 MB less to read.
    std::error_code ec;
    const bool cache = landmark_cache_enabled() && !files.landmark_cache.empty() &&
                       std::filesystem::exists(files.landmark_cache, ec);
    m->files_ = std::async(std::launch::async, [files = ModelFiles(files), t0, cache, aligner = m->aligner_]() mutable {
        if (files.recognition_sha256.empty()) {
            if (cache && files.landmarks_sha256.empty()) files.landmarks_sha256 = aligner.get()->source_sha256();
            verify_models(files);
        }
        spdlog::debug("model checksums verified after {:.0f} ms", ms_since(t0));
        return files;
    });
    m->embedder_ = std::async(std::launch::async, [path = files.recognition, t0] {
        auto e = std::make_shared<const Embedder>(path);
        spdlog::debug("face ResNet loaded after {:.0f} ms", ms_since(t0));
        return e;
    });
    return m;
}

namespace {
// The options with the loaded models' SSD file, when the ssd detector is asked for without one.
AnalyzerOptions with_ssd_model(AnalyzerOptions o, const LoadedModels& models) {
    if (o.detector.kind == DetectorKind::ssd && o.detector.ssd_model.empty()) o.detector.ssd_model = models.ssd_model();
    return o;
}
}  // namespace

FaceAnalyzer::FaceAnalyzer(std::shared_ptr<const LoadedModels> models, AnalyzerOptions options)
    : models_(std::move(models)),
      options_(with_ssd_model(std::move(options), *models_)),
      detector_(options_.detector) {}

std::vector<Detection> FaceAnalyzer::detect(const cv::Mat& bgr) {
    const auto t0 = Clock::now();
    auto dets = detector_.detect(bgr);
    if (dets.empty() && std::max(bgr.cols, bgr.rows) <= options_.pad_retry_max_side) {
        const int pad = std::max(bgr.cols, bgr.rows) / 2;
        cv::Mat padded;
        cv::copyMakeBorder(bgr, padded, pad, pad, pad, pad, cv::BORDER_CONSTANT, cv::Scalar::all(0));
        dets = detector_.detect(padded);
        // Back to bgr's coordinates: the box may now reach past its edges, which
        // landmarks and chips handle (dlib reads pixels outside the image as 0,
        // exactly what the black padding held).
        for (auto& d : dets) d.box.x -= pad, d.box.y -= pad;
    }
    times_.detect_ms += ms_since(t0);
    return dets;
}

std::vector<Descriptor> FaceAnalyzer::describe(const cv::Mat& bgr, const std::vector<Box>& boxes) {
    if (boxes.empty()) return {};
    auto t0 = Clock::now();
    std::vector<Chip> chips;
    chips.reserve(boxes.size());
    for (const auto& b : boxes) chips.push_back(Aligner::chip(bgr, models_->aligner().landmarks(bgr, b)));
    times_.landmarks_ms += ms_since(t0);

    t0 = Clock::now();
    if (!embedder_) embedder_.emplace(models_->embedder_prototype());
    auto descriptors = embedder_->compute(chips);
    times_.descriptor_ms += ms_since(t0);
    return descriptors;
}

std::vector<Face> FaceAnalyzer::analyze(const cv::Mat& bgr, int max_faces, int* faces_found) {
    auto dets = detect(bgr);  // largest first
    if (options_.choice == FaceChoice::centre)
        std::stable_sort(dets.begin(), dets.end(), [&](const Detection& a, const Detection& b) {
            return centre_offset2(a.box, bgr.cols, bgr.rows) < centre_offset2(b.box, bgr.cols, bgr.rows);
        });
    if (faces_found) *faces_found = static_cast<int>(dets.size());
    if (max_faces > 0 && static_cast<int>(dets.size()) > max_faces) dets.resize(max_faces);
    std::vector<Box> boxes;
    for (const auto& d : dets) boxes.push_back(d.box);
    const auto descriptors = describe(bgr, boxes);

    std::vector<Face> faces(dets.size());
    for (size_t i = 0; i < dets.size(); ++i) {
        faces[i].box = clip(dets[i].box, bgr.cols, bgr.rows);
        faces[i].score = dets[i].score;
        faces[i].descriptor = descriptors[i];
    }
    return faces;
}

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
