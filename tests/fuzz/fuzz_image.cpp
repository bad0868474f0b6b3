// Fuzzes the image loader every stage uses (decode_image, lib/image.h: format
// sniffing, the header size checks before decoding, EXIF orientation, the
// conversions to 8-bit BGR; load_image is read_file + decode_image). The pixel
// limit is lowered to 4 MP so that one input costs milliseconds, not seconds:
// the same code paths as the default 60 MP, with smaller numbers.
#include <cstdint>
#include <string>

#include "error.h"
#include "fuzz_util.h"
#include "image.h"

using namespace facepipe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ImageLimits limits;
    limits.max_pixels = 4'000'000;
    try {
        const LoadedImage img = decode_image(std::string(fuzz::view(data, size)), "fuzz.img", limits);
        // ensures: 8-bit BGR, within the limit, its full size consistent with the scale
        if (img.bgr.empty() || img.bgr.type() != CV_8UC3) __builtin_trap();
        if (std::uint64_t(img.bgr.cols) * img.bgr.rows > limits.max_pixels) __builtin_trap();
        if (img.width <= 0 || img.height <= 0 || img.scale < 1.0) __builtin_trap();
    } catch (const Error&) {
    }
    return 0;
}
