#include "align.h"

#include <dlib/image_processing/shape_predictor.h>
#include <dlib/image_transforms/interpolation.h>
#include <dlib/opencv/cv_image.h>
#include <dlib/serialize.h>

#include <spdlog/spdlog.h>

#include "error.h"
#include "landmark_cache.h"

namespace facepipe {

struct Aligner::Impl {
    std::shared_ptr<const LandmarkCache> cache;  // when set, used instead of predictor
    dlib::shape_predictor predictor;
};

Aligner::Aligner(const std::filesystem::path& file, const std::filesystem::path& cache_file,
                 const std::string& source_sha256)
    : impl_(std::make_unique<Impl>()) {
    std::error_code ec;
    if (!cache_file.empty() && landmark_cache_enabled()) {
        if (!std::filesystem::exists(cache_file, ec)) {
            spdlog::info("no landmark cache {}: loading {} with dlib (slower; `facepipe models import` writes one)",
                         printable(cache_file.string()), printable(file.string()));
        } else {
            try {
                impl_->cache = LandmarkCache::open(cache_file, file, source_sha256);
                if (impl_->cache->num_parts() == 68) return;
                spdlog::warn("{}: not a 68-point model; loading {} with dlib", printable(cache_file.string()),
                             printable(file.string()));
                impl_->cache.reset();
            } catch (const Error& e) {
                spdlog::warn("{} (not used; loading {} with dlib)", e.what(), printable(file.string()));
            }
        }
    }
    try {
        dlib::deserialize(file.string()) >> impl_->predictor;
    } catch (const std::exception& e) {
        throw ModelError(file.string(), std::string("cannot load shape predictor: ") + e.what());
    }
    if (impl_->predictor.num_parts() != 68)
        throw ModelError(file.string(), "expected a 68-point shape predictor, found " +
                                       std::to_string(impl_->predictor.num_parts()) + " points");
}

Aligner::~Aligner() = default;

dlib::full_object_detection Aligner::landmarks(const cv::Mat& bgr, const Box& b) const {
    const dlib::rectangle r(b.x, b.y, b.x + b.width - 1, b.y + b.height - 1);
    if (impl_->cache) return impl_->cache->predict(bgr, r);
    return impl_->predictor(dlib::cv_image<dlib::bgr_pixel>(bgr), r);
}

bool Aligner::cached() const { return impl_->cache != nullptr; }
std::string Aligner::source_sha256() const { return impl_->cache ? impl_->cache->source().sha256 : ""; }

Chip Aligner::chip(const cv::Mat& bgr, const dlib::full_object_detection& shape) {
    Chip out;
    dlib::extract_image_chip(dlib::cv_image<dlib::bgr_pixel>(bgr),
                             dlib::get_face_chip_details(shape, kChipSize, kChipPadding), out);
    return out;
}

}  // namespace facepipe
