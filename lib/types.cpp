#include "types.h"

#include <cmath>

namespace facepipe {

float distance(const Descriptor& a, const Descriptor& b) {
    float sum = 0.f;
    for (int i = 0; i < kDescriptorDim; ++i) {
        const float d = a[i] - b[i];
        sum += d * d;
    }
    return std::sqrt(sum);
}

}  // namespace facepipe
