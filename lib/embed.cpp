#include "embed.h"

#include "error.h"
#include "face_net.h"

namespace facepipe {

struct Embedder::Impl {
    net::anet_type net;
};

Embedder::Embedder(const std::filesystem::path& file) : impl_(std::make_unique<Impl>()) {
    try {
        dlib::deserialize(file.string()) >> impl_->net;
    } catch (const std::exception& e) {
        throw ModelError(file.string(), std::string("not a dlib face recognition ResNet: ") + e.what());
    }
}

Embedder::Embedder(const Embedder& o) : impl_(std::make_unique<Impl>(*o.impl_)) {}
Embedder::~Embedder() = default;

std::vector<Descriptor> Embedder::compute(const std::vector<Chip>& chips) {
    std::vector<Descriptor> out;
    if (chips.empty()) return out;
    const auto raw = impl_->net(chips, 16);
    out.reserve(raw.size());
    for (const auto& m : raw) {
        Descriptor d{};
        for (int i = 0; i < kDescriptorDim; ++i) d[i] = m(i);
        out.push_back(d);
    }
    return out;
}

}  // namespace facepipe
