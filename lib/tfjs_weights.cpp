#include "tfjs_weights.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "error.h"

namespace facepipe {
namespace {

long element_count(const std::vector<long>& shape) {
    long n = 1;
    for (long d : shape) n *= d;
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
            t.shape = w.at("shape").get<std::vector<long>>();
            const long n = element_count(t.shape);
            if (n <= 0 || n > kMaxTensorElements) throw Error(manifest_path, "implausible shape for " + t.name);
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
