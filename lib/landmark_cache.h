// landmark_cache.h — dlib's 68-point shape predictor in a form that loads in
// milliseconds: the landmark cache.
//
// dlib's shape_predictor_68_face_landmarks.dat takes about a second to
// deserialise (dlib's portable number encoding, ~120,000 small allocations),
// which a one-shot `predict` paid on every run. The cache holds the same numbers
// as raw little-endian arrays (initial shape, each cascade level's feature-pixel
// anchors and deltas, each regression tree's splits and leaf values) inside a
// facepipe container (container.h, magic FPLMCACH; layout in docs/formats.md).
// Opening it maps the file read-only, verifies the container's checksum and
// every index, and predicts straight from the mapped arrays: no parsing, no copy
// of the leaves.
//
// LandmarkCache::predict runs dlib's own cascade (shape_predictor::operator())
// step for step: the same feature-pixel extraction and similarity transform
// (dlib's own functions, the same template instances), the same tree walk and
// the same float additions in the same order, so its landmarks are bit for bit
// dlib's. write_landmark_cache proves it for each file it writes before anyone
// uses it, and tests/test_landmark_cache.cpp on real faces.
//
// The cache is keyed by the SHA-256 of the .dat it was made from: a changed
// source (a new libdlib-data) makes it stale, and a stale, corrupt or missing
// cache is never used (align.h falls back to dlib's deserialisation).
#pragma once
#include <dlib/image_processing/full_object_detection.h>
#include <filesystem>
#include <memory>
#include <opencv2/core.hpp>
#include <string>

namespace facepipe {

// The cache's file name, in the models folder (models.h ModelFiles::landmark_cache).
inline constexpr const char* kLandmarkCacheFile = "shape_predictor_68_face_landmarks.fpcache";
inline constexpr std::uint32_t kLandmarkCacheVersion = 1;
// Set to a non-empty value other than "0", disables the cache (the benchmark's baseline).
inline constexpr const char* kNoLandmarkCacheEnv = "FACEPIPE_NO_LANDMARK_CACHE";

// The source .dat the cache was made from, as recorded in it.
struct LandmarkSource {
    std::string sha256;          // lower-case hex
    std::uint64_t size = 0;      // bytes
    std::int64_t mtime_ns = 0;   // modification time, ns since the epoch
};

struct LandmarkCacheReport {
    std::filesystem::path cache;
    std::string source_sha256;
    int images_checked = 0;   // generated test images, each with several boxes
    int shapes_checked = 0;   // landmark sets compared with dlib's (all equal)
};

class LandmarkCache {
public:
    // Maps and checks `cache` for the shape predictor `source`. Throws Error(cache, cause):
    // read_container's causes (cannot open, bad magic, truncated, version, checksum),
    // "corrupted: <what>" for a layout or index out of range, and
    // "stale: made from a shape predictor with sha256 X, <source> has Y" when the
    // source is not the file it was made from. The source's SHA-256 is read in full
    // unless its size and modification time are the recorded ones, or
    // `source_sha256` (when not empty) already gives it.
    static std::shared_ptr<const LandmarkCache> open(const std::filesystem::path& cache,
                                                     const std::filesystem::path& source,
                                                     const std::string& source_sha256 = "");
    ~LandmarkCache();

    // dlib's shape_predictor(cv_image<bgr_pixel>(bgr), box), bit for bit. Thread-safe.
    // Requires: bgr is CV_8UC3.
    dlib::full_object_detection predict(const cv::Mat& bgr, const dlib::rectangle& box) const;

    unsigned long num_parts() const;
    const LandmarkSource& source() const;

private:
    friend LandmarkCacheReport write_landmark_cache(const std::filesystem::path&, const std::filesystem::path&);
    struct Impl;
    explicit LandmarkCache(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// The SHA-256 of `source` as the cache at `cache` records it, when that record
// names source's present size and modification time (the rule LandmarkCache::open
// uses to skip reading the source); "" when it does not, or when `cache` is
// missing or not a landmark cache of this version. Reads the cache's header only,
// without verifying its checksum: for reports that must be quick (`facepipe
// --version`, models.h recall_checksums), never for computing.
std::string recorded_landmark_sha256(const std::filesystem::path& cache, const std::filesystem::path& source);

// True unless $FACEPIPE_NO_LANDMARK_CACHE disables the cache.
bool landmark_cache_enabled();

// Writes the cache for the shape predictor `source` to `cache` (atomically,
// mode 0644: a copy of a public model, not biometric data), then verifies it
// before returning: the mapped arrays, written back in dlib's format, must be
// byte for byte the source file, and LandmarkCache::predict must give exactly
// dlib's own landmarks (deserialised from the source) on generated images.
// Throws Error(source, ...) when the source is not a dlib shape predictor of
// regular, fully grown trees; Error(cache, ...) when the cache cannot be written
// or fails verification (the file is then removed).
LandmarkCacheReport write_landmark_cache(const std::filesystem::path& source,
                                         const std::filesystem::path& cache);

}  // namespace facepipe
