// types.h — the values that flow between pipeline stages.
#pragma once
#include <array>
#include <cmath>
#include <cstdint>
#include <string>

namespace facepipe {

// dlib's ResNet maps an aligned 150x150 chip to a point in R^128; two chips of
// the same person are expected to lie within ~0.6 of each other (Euclidean).
constexpr int kDescriptorDim = 128;
using Descriptor = std::array<float, kDescriptorDim>;

// A face box in the pixel coordinates of the original (EXIF-upright) image.
struct Box {
    int x = 0, y = 0, width = 0, height = 0;
    long long area() const { return static_cast<long long>(width) * height; }
    bool operator==(const Box& o) const {
        return x == o.x && y == o.y && width == o.width && height == o.height;
    }
};

// Which face of a photo with several a caller keeping one gets (FaceAnalyzer,
// recognizer.h); encodings.bin records it for the photos it applied to.
//   largest: the largest box (encode's default: the subject is usually nearest).
//   centre:  the box whose centre is nearest the image centre (LFW's convention:
//            its photos are cropped around the subject); ties go to the larger.
enum class FaceChoice : std::uint8_t { largest = 0, centre = 1 };

// Which detector found the faces (detect.h): dlib's HOG or face-api's SSD
// MobileNet v1. encodings.bin and model.bin record it (the values are stored).
enum class DetectorKind : std::uint8_t { hog = 0, ssd = 1 };
// "hog", "ssd": the CLI spelling (detect.h parse_detector_kind reads it back).
inline const char* to_string(DetectorKind k) { return k == DetectorKind::ssd ? "ssd" : "hog"; }

// Squared Euclidean distance between two 128-d descriptors, the one kernel every
// search uses (exact scans, the gallery index, eval). Eight independent partial
// sums: a single running sum is a serial chain the compiler may not reorder
// (no -ffast-math), while eight lanes map onto SIMD registers (the speed-up is
// in docs/benchmarks.md, among the measurements bench.sh does not repeat). The
// order of operations is fixed, so every caller gets bit-equal results.
inline float squared_distance(const float* a, const float* b) {
    constexpr int kLanes = 8;
    static_assert(kDescriptorDim % kLanes == 0);
    float acc[kLanes] = {};
    for (int j = 0; j < kDescriptorDim; j += kLanes)
        for (int l = 0; l < kLanes; ++l) {
            const float d = a[j + l] - b[j + l];
            acc[l] += d * d;
        }
    float s = 0.f;
    for (float v : acc) s += v;
    return s;
}

inline float distance(const float* a, const float* b) { return std::sqrt(squared_distance(a, b)); }
inline float distance(const Descriptor& a, const Descriptor& b) { return distance(a.data(), b.data()); }

}  // namespace facepipe
