// align.h — from a face box to the aligned 150x150 chip the network expects.
//
// dlib's 68-point shape predictor finds the landmarks inside the box, and
// get_face_chip_details(shape, 150, 0.25) maps them onto the canonical face
// layout the ResNet was trained on. Any difference here between training and
// recognition silently costs accuracy, so this is the only place chips are made.
#pragma once
#include <dlib/image_processing/full_object_detection.h>
#include <dlib/matrix.h>
#include <dlib/pixel.h>
#include <filesystem>
#include <memory>
#include <string>
#include <opencv2/core.hpp>

#include "types.h"

namespace facepipe {

using Chip = dlib::matrix<dlib::rgb_pixel>;  // 150x150 RGB

// The chip geometry dlib's face ResNet was trained on: get_face_chip_details(shape, 150, 0.25).
constexpr unsigned long kChipSize = 150;
constexpr double kChipPadding = 0.25;

// Thread-safe once constructed: shape prediction is a const operation.
class Aligner {
public:
    // Loads dlib's shape predictor from `shape_predictor_file`; when `cache_file`
    // is given, exists and is enabled (landmark_cache.h), from that instead: the
    // same landmarks, loaded in milliseconds. A cache that cannot be used
    // (corrupt, stale, wrong version) is logged and skipped: the .dat is loaded.
    // `source_sha256`, when known, spares the cache's staleness check a read.
    // Throws ModelError(path, cause) when the shape predictor cannot be loaded.
    explicit Aligner(const std::filesystem::path& shape_predictor_file,
                     const std::filesystem::path& cache_file = {}, const std::string& source_sha256 = "");
    ~Aligner();

    // Requires: bgr is CV_8UC3. The box may extend past the image edges.
    dlib::full_object_detection landmarks(const cv::Mat& bgr, const Box& box) const;

    // The aligned chip for these landmarks, cut from the same image.
    static Chip chip(const cv::Mat& bgr, const dlib::full_object_detection& shape);

    // True when the landmarks come from the cache.
    bool cached() const;
    // The SHA-256 of the shape predictor .dat as the cache recorded it ("" when
    // not cached): checked against the file (size and modification time as
    // recorded, else its content) before the cache was accepted.
    std::string source_sha256() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace facepipe
