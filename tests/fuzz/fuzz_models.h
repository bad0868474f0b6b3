// fuzz_models.h — the small trained model the model and labels harnesses and
// the seed writer share (tests/fuzz/).
#pragma once
#include <cmath>
#include <string>

#include "gallery_index.h"
#include "model_file.h"
#include "types.h"

namespace facepipe::fuzz {

// Three people, eight rows, deterministic descriptors. With `index`, an HNSW
// graph over the rows (FAISS builds it in parallel, so its bytes and the
// training id vary from run to run); without, the same bytes every time.
inline TrainedModel small_model(bool index) {
    Gallery::Rows rows;
    rows.names = {"Ada", "Bo", "Cy"};
    const int n = 8;
    for (int i = 0; i < n; ++i) {
        rows.source_paths.push_back(rows.names[i % 3] + "/" + std::to_string(i) + ".jpg");
        rows.labels.push_back(i % 3);
        rows.sources.push_back(i);
        for (std::size_t d = 0; d < kDescriptorDim; ++d)
            rows.descriptors.push_back(0.1f * float(i % 3) + 0.01f * std::sin(float(i * 131 + d)));
    }
    std::shared_ptr<const GalleryIndex> idx;
    if (index) idx = GalleryIndex::build(rows.descriptors.data(), rows.size(), 16);
    TrainedModel m;
    m.model_id = "fuzz-model";
    m.vote.k = 3;
    m.threshold = 0.5f;
    m.threshold_source = "fuzz";
    m.gallery = Gallery(std::move(rows), idx);
    m.training_id = training_id_of(m);
    return m;
}

}  // namespace facepipe::fuzz
