// tfjs_weights.h — reads a TF.js weights manifest (JSON) and its weights binary
// into named float tensors: the outside bytes `facepipe models import` reads
// (model_import.h). Its own module so that the parser can be fuzzed without
// dlib's networks (tests/fuzz/).
#pragma once
#include <string>
#include <vector>

namespace facepipe {

struct Tensor {
    std::string name;
    std::vector<long> shape;
    std::vector<float> values;  // row-major, as many as the shape holds
};

// The most elements one tensor may have (2^26: 256 MB of floats).
inline constexpr long kMaxTensorElements = 1L << 26;

// decode_tfjs_weights(manifest_json, weights, manifest_path)
//   requires: nothing (any bytes are acceptable input).
//   ensures:  every tensor of the manifest's groups, in manifest order, read
//             from `weights` one after the other: uint8-quantized ones
//             dequantized (q * scale + min), float32 ones copied (little-endian).
//             A shape is an array of integers >= 1 ([] a scalar) whose product (the
//             element count) is at most kMaxTensorElements; the weights hold
//             exactly the bytes the tensors need.
//   throws:   Error(manifest_path, cause) for any malformed manifest ("not a
//             TF.js weights manifest: ...", "unexpected manifest layout: ...",
//             "implausible shape for <name>", ...) or weights of the wrong length
//             ("weights file too short at <name>", "weights file has N unread bytes").
std::vector<Tensor> decode_tfjs_weights(const std::string& manifest_json, const std::string& weights,
                                        const std::string& manifest_path);

}  // namespace facepipe
