// embed.h — from aligned chips to 128-d descriptors with dlib's face ResNet.
//
// Loads dlib_face_recognition_resnet_model_v1.dat (official or converted by
// `facepipe models import`) with dlib's own deserialize, so both kinds of file
// go through exactly the same code.
#pragma once
#include <filesystem>
#include <memory>
#include <vector>

#include "align.h"
#include "types.h"

namespace facepipe {

// Not thread-safe (the net keeps its activations): one Embedder per thread.
// Copying makes an independent net with the same weights.
class Embedder {
public:
    // Throws Error(path, cause) when the file is not a dlib face ResNet.
    explicit Embedder(const std::filesystem::path& model_file);
    Embedder(const Embedder&);
    Embedder& operator=(const Embedder&) = delete;
    ~Embedder();

    // One descriptor per chip, in order.
    std::vector<Descriptor> compute(const std::vector<Chip>& chips);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace facepipe
