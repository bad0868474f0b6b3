// Fuzzes the converted SSD face detector file (read_ssd_model, lib/ssd_model.h),
// which SsdFaceDetector loads before building its network. Input: byte 0 picks
// the mode, the rest is
//   0  a whole file (container header checks)
//   1  a payload, wrapped in a valid container (magic FPSSDMV1, version 1), to
//      reach the tensor parser past the checksum
// A file that parses must hold exactly the network's tensors, all finite.
#include <cmath>
#include <cstdint>
#include <string>

#include "error.h"
#include "fuzz_util.h"
#include "ssd_model.h"

using namespace facepipe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::string_view body = fuzz::view(data + 1, size - 1);
    const std::string bytes = data[0] % 2 ? fuzz::container_bytes(std::string_view(kSsdModelMagic, 8), kSsdModelVersion, body)
                                          : std::string(body);
    const std::string path = fuzz::write_temp(kSsdModelFile, bytes);
    try {
        const auto tensors = read_ssd_model(path);
        const auto& specs = ssd_tensor_specs();
        if (tensors.size() != specs.size()) __builtin_trap();
        for (std::size_t i = 0; i < tensors.size(); ++i) {
            if (tensors[i].name != specs[i].name || tensors[i].shape != specs[i].shape) __builtin_trap();
            for (float v : tensors[i].values)
                if (!std::isfinite(v)) __builtin_trap();
        }
    } catch (const Error&) {
    }
    return 0;
}
