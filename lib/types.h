// types.h — the values that flow between pipeline stages.
#pragma once
#include <array>
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

float distance(const Descriptor& a, const Descriptor& b);

}  // namespace facepipe
