// Tests of lib/tfjs_weights.h: the TF.js manifest + weights decoder that
// `models import` runs on outside files. The hostile inputs are those the fuzz
// harness (tests/fuzz/fuzz_tfjs_weights.cpp) exercises; see docs/fuzzing.md.
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "error.h"
#include "tfjs_weights.h"

using namespace facepipe;

namespace {

std::string manifest_with_shape(const std::string& shape) {
    return R"([{"paths":["w.bin"],"weights":[{"name":"t","shape":)" + shape + R"(,"dtype":"float32"}]}])";
}

std::string floats(std::size_t n) {
    std::string out(4 * n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        const float v = 0.5f * float(i);
        std::memcpy(&out[4 * i], &v, 4);
    }
    return out;
}

}  // namespace

TEST_CASE("tfjs weights: float32 and uint8-quantized tensors decode in manifest order") {
    const std::string manifest =
        R"([{"weights":[{"name":"q","shape":[2,1],"dtype":"float32","quantization":{"dtype":"uint8","scale":0.5,"min":-1}},)"
        R"({"name":"f","shape":[3],"dtype":"float32"},{"name":"s","shape":[],"dtype":"float32"}]}])";
    const auto t = decode_tfjs_weights(manifest, std::string("\x00\x04", 2) + floats(4), "m.json");
    REQUIRE(t.size() == 3);
    CHECK(t[0].name == "q");
    CHECK(t[0].values == std::vector<float>{-1.f, 1.f});
    CHECK(t[1].shape == std::vector<long>{3});
    CHECK(t[1].values == std::vector<float>{0.f, 0.5f, 1.f});
    CHECK(t[2].values == std::vector<float>{1.5f});  // a scalar
    CHECK_THROWS_WITH_AS(decode_tfjs_weights(manifest, std::string("\x00\x04", 2) + floats(3), "m.json"),
                         doctest::Contains("weights file too short at s"), Error);
    CHECK_THROWS_WITH_AS(decode_tfjs_weights(manifest, std::string("\x00\x04", 2) + floats(5), "m.json"),
                         doctest::Contains("4 unread bytes"), Error);
    CHECK_THROWS_WITH_AS(decode_tfjs_weights("[{", "", "m.json"), doctest::Contains("not a TF.js weights manifest"),
                         Error);
    CHECK_THROWS_WITH_AS(decode_tfjs_weights("[{\"weights\":3}]", "", "m.json"),
                         doctest::Contains("unexpected manifest layout"), Error);
}

// Found by fuzzing: the element count was the plain product of the dimensions,
// read with nlohmann's conversion to long. Negative dimensions multiplied to a
// positive count, a float was truncated, a huge product overflowed (undefined
// behaviour; here it wrapped to 4), and 1e300 was cast to long (undefined too).
TEST_CASE("tfjs weights: a shape with a dimension that is not an integer >= 1, or too many elements, is refused") {
    for (const std::string shape : {"[-1,-2]", "[2.5,2]", "[4611686018427387905,4]", "[1e300]", "[0]", "[\"4\"]",
                              "[67108864,2]", "[18446744073709551615]", "{\"a\":4}"}) {
        CAPTURE(shape);
        CHECK_THROWS_WITH_AS(decode_tfjs_weights(manifest_with_shape(shape), floats(4), "m.json"),
                             "m.json: implausible shape for t", Error);
    }
    CHECK(decode_tfjs_weights(manifest_with_shape("[2,2]"), floats(4), "m.json").at(0).values.size() == 4);
}
