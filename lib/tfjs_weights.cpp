#include "tfjs_weights.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "error.h"

namespace facepipe {
namespace {

// The shape's dimensions ([] is a scalar), each an integer >= 1 (a JSON number is read as one
// only when it is one: a float or huge value would otherwise be cast with
// undefined behaviour), and their product, at most kMaxTensorElements
// (checked at every step, so it cannot overflow).
long read_shape(const nlohmann::json& shape, std::vector<long>& out, const std::string& name,
                const std::string& manifest_path) {
    if (!shape.is_array()) throw Error(manifest_path, "implausible shape for " + name);
    long n = 1;
    for (const auto& d : shape) {
        // A positive JSON integer is unsigned, a negative one signed: either way in range before the cast.
        const bool integer_in_range = d.is_number_unsigned() ? d.get<std::uint64_t>() <= std::uint64_t(kMaxTensorElements)
                                                             : d.is_number_integer();
        const long v = integer_in_range ? d.get<long>() : 0;
        if (v < 1 || v > kMaxTensorElements / n) throw Error(manifest_path, "implausible shape for " + name);
        n *= v;
        out.push_back(v);
    }
    return n;
}

std::vector<Tensor> decode_tensors(const nlohmann::json& manifest, const std::string& blob,
                                   const std::string& manifest_path) {
    std::vector<Tensor> tensors;
    size_t offset = 0;
    for (const auto& group : manifest) {
        for (const auto& w : group.at("weights")) {
            Tensor t;
            t.name = w.at("name").get<std::string>();
            const long n = read_shape(w.at("shape"), t.shape, t.name, manifest_path);
            t.values.resize(static_cast<size_t>(n));
            if (w.contains("quantization")) {
                const auto& q = w.at("quantization");
                if (q.at("dtype") != "uint8") throw Error(manifest_path, t.name + ": only uint8 quantization is supported");
                const double scale = q.at("scale").get<double>(), min = q.at("min").get<double>();
                if (offset + n > blob.size()) throw Error(manifest_path, "weights file too short at " + t.name);
                for (long i = 0; i < n; ++i)
                    t.values[i] = static_cast<float>(static_cast<unsigned char>(blob[offset + i]) * scale + min);
                offset += n;
            } else {
                if (w.at("dtype") != "float32") throw Error(manifest_path, t.name + ": unsupported dtype");
                if (offset + 4 * n > blob.size()) throw Error(manifest_path, "weights file too short at " + t.name);
                std::memcpy(t.values.data(), blob.data() + offset, 4 * n);  // little-endian, as on x86/arm
                offset += 4 * n;
            }
            tensors.push_back(std::move(t));
        }
    }
    if (offset != blob.size())
        throw Error(manifest_path, "weights file has " + std::to_string(blob.size() - offset) + " unread bytes");
    return tensors;
}

}  // namespace

std::vector<Tensor> decode_tfjs_weights(const std::string& manifest_json, const std::string& weights,
                                        const std::string& manifest_path) {
    nlohmann::json manifest;
    try {
        manifest = nlohmann::json::parse(manifest_json);
    } catch (const nlohmann::json::exception& e) {
        throw Error(manifest_path, std::string("not a TF.js weights manifest: ") + e.what());
    }
    try {
        return decode_tensors(manifest, weights, manifest_path);
    } catch (const nlohmann::json::exception& e) {
        throw Error(manifest_path, std::string("unexpected manifest layout: ") + e.what());
    }
}

}  // namespace facepipe
