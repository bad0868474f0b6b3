// Fuzzes the TF.js weights manifest and weights binary that `facepipe models
// import` reads (decode_tfjs_weights, lib/tfjs_weights.h; import_face_api_model
// reads the two files and hands their bytes to it). Input: the manifest JSON,
// a NUL byte, then the weights bytes (JSON text has no NUL).
#include <cstdint>
#include <string>

#include "error.h"
#include "fuzz_util.h"
#include "tfjs_weights.h"

using namespace facepipe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in = fuzz::view(data, size);
    const auto nul = in.find('\0');
    const std::string manifest(in.substr(0, nul));
    const std::string weights(nul == std::string_view::npos ? std::string_view() : in.substr(nul + 1));
    try {
        const auto tensors = decode_tfjs_weights(manifest, weights, "manifest.json");
        for (const auto& t : tensors)
            if (t.values.empty() || t.values.size() > std::size_t(kMaxTensorElements)) __builtin_trap();
    } catch (const Error&) {
    }
    return 0;
}
