// image.h — the one way facepipe turns a file into pixels.
//
// Every stage (augment, encode, enroll, identify) loads photos through here, so
// that they all agree on orientation, colour layout, limits and error messages.
#pragma once
#include <opencv2/core.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

namespace facepipe {

// Guards against hostile or mistaken inputs (decompression bombs, a 2 GB TIFF).
struct ImageLimits {
    std::uint64_t max_file_bytes = 256ull << 20;  // 256 MiB of encoded bytes
    std::uint64_t max_pixels = 60'000'000;        // decoded pixels (~180 MB as BGR)
    // A JPEG over max_pixels is decoded reduced, unless its header claims more
    // than this: then it is refused like any other format over the limit.
    std::uint64_t max_jpeg_pixels = 1'000'000'000;
};

struct LoadedImage {
    cv::Mat bgr;           // CV_8UC3, EXIF orientation already applied (upright)
    int width = 0;         // of the full upright image, before any reduction
    int height = 0;
    double scale = 1.0;    // full-size coords = decoded coords * scale; 1 unless reduced
    std::string sha256;    // lower-case hex SHA-256 of the file bytes
};

// decode_image(bytes, name_for_errors, limits, sha256)
//   requires: nothing (any bytes are acceptable input); sha256, when given, is
//             the caller's hex SHA-256 of `bytes` (callers that keyed a cache on
//             it need not pay for hashing twice); "" = compute it.
//   ensures:  returns the image as 8-bit BGR, upright per its EXIF orientation.
//             16-bit, grey, RGBA (alpha dropped) and CMYK inputs are converted.
//             The format is decided by the content, never by the name.
//             Formats: JPEG, PNG, WebP, TIFF (and BigTIFF), BMP, PNM (P1-P6);
//             anything else (even what OpenCV could decode) is "not a
//             recognised image format". The size is read from the header
//             BEFORE decoding, for every format, so a bomb never allocates.
//             If width*height > limits.max_pixels: a JPEG of at most
//             limits.max_jpeg_pixels is decoded at 1/2, 1/4 or 1/8 size (the
//             smallest reduction that fits) and scale says so; anything else
//             is refused.
//   throws:   Error(name_for_errors, cause) with a one-line cause, e.g.
//             "empty file", "not a recognised image format", "truncated JPEG",
//             "truncated PNG", "truncated TIFF", "corrupt BMP (no image size)"; LimitError (error.h) when over `limits`, e.g.
//             "image is 20000x20000 (400 MP), over the 60 MP limit".
LoadedImage decode_image(const std::string& bytes, const std::string& name_for_errors,
                         const ImageLimits& limits = {}, std::string sha256 = {});

// load_image(path, limits)
//   ensures: reads the file once (at most limits.max_file_bytes) and returns
//            decode_image(bytes, path, limits). Any path the OS accepts works
//            (spaces, non-ASCII UTF-8).
//   throws:  Error(path, cause) when the file cannot be read or decoded
//            (LimitError when over `limits`).
LoadedImage load_image(const std::string& path, const ImageLimits& limits = {});

// "<w>x<h> (<N> MP), over the <M> MP limit": how a size over max_pixels is
// described in LimitError causes (images here, video frames in video.h).
std::string size_over_limit(std::uint64_t width, std::uint64_t height, std::uint64_t max_pixels);

// True when the extension is one facepipe treats as a photo in folder walks:
// jpg jpeg png bmp webp tif tiff pgm ppm (case-insensitive). Says nothing about
// the content, which decode_image judges on its own.
bool looks_like_image_path(const std::filesystem::path& path);

}  // namespace facepipe
