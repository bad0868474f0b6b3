#include "align.h"

#include <dlib/image_processing/shape_predictor.h>
#include <dlib/image_transforms/interpolation.h>
#include <dlib/opencv/cv_image.h>
#include <dlib/serialize.h>

#include "error.h"

namespace facepipe {

struct Aligner::Impl {
    dlib::shape_predictor predictor;
};

Aligner::Aligner(const std::filesystem::path& file) : impl_(std::make_unique<Impl>()) {
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
    return impl_->predictor(dlib::cv_image<dlib::bgr_pixel>(bgr), r);
}

Chip Aligner::chip(const cv::Mat& bgr, const dlib::full_object_detection& shape) {
    Chip out;
    dlib::extract_image_chip(dlib::cv_image<dlib::bgr_pixel>(bgr),
                             dlib::get_face_chip_details(shape, kChipSize, kChipPadding), out);
    return out;
}

}  // namespace facepipe
