#include "gallery_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/impl/DistanceComputer.h>

#include <algorithm>
#include <cmath>

#include "error.h"
#include "types.h"

namespace facepipe {
namespace {

// FAISS's distance interface over the stored rows, with facepipe's kernel.
class RowDistances final : public faiss::DistanceComputer {
public:
    explicit RowDistances(const float* rows) : rows_(rows) {}
    void set_query(const float* q) override { q_ = q; }
    float operator()(idx_t i) override { return squared_distance(q_, rows_ + i * kDescriptorDim); }
    float symmetric_dis(idx_t i, idx_t j) override {
        return squared_distance(rows_ + i * kDescriptorDim, rows_ + j * kDescriptorDim);
    }

private:
    const float* rows_;
    const float* q_ = nullptr;
};

// The HNSW storage: FAISS's flat L2 rows, measured with RowDistances (see
// gallery_index.h for why).
struct Rows final : faiss::IndexFlatL2 {
    Rows() : faiss::IndexFlatL2(kDescriptorDim) {}
    faiss::DistanceComputer* get_distance_computer() const override { return new RowDistances(get_xb()); }
};

std::unique_ptr<faiss::IndexHNSW> empty_index(const float* x, std::size_t rows, std::uint32_t m) {
    auto* storage = new Rows;
    auto index = std::make_unique<faiss::IndexHNSW>(storage, static_cast<int>(m));
    index->own_fields = true;
    storage->add(static_cast<faiss::Index::idx_t>(rows), x);
    return index;
}

}  // namespace

const char* to_string(IndexChoice c) {
    switch (c) {
        case IndexChoice::exact: return "exact";
        case IndexChoice::hnsw: return "hnsw";
        default: return "auto";
    }
}

IndexChoice parse_index_choice(const std::string& text, const std::string& subject) {
    if (text == "auto") return IndexChoice::automatic;
    if (text == "exact") return IndexChoice::exact;
    if (text == "hnsw") return IndexChoice::hnsw;
    throw Error(subject, "unknown index '" + text + "' (expected auto, exact or hnsw)");
}

bool wants_index(IndexChoice choice, std::size_t rows) {
    if (choice == IndexChoice::automatic) return rows >= kAutoIndexRows;
    return choice == IndexChoice::hnsw;
}

GalleryIndex::~GalleryIndex() = default;

std::uint32_t GalleryIndex::m() const { return static_cast<std::uint32_t>(hnsw_->hnsw.nb_neighbors(1)); }
std::size_t GalleryIndex::rows() const { return static_cast<std::size_t>(hnsw_->ntotal); }

std::shared_ptr<const GalleryIndex> GalleryIndex::build(const float* x, std::size_t rows, std::uint32_t ef_search) {
    std::shared_ptr<GalleryIndex> g(new GalleryIndex);
    g->hnsw_ = empty_index(x, 0, kM);
    g->hnsw_->hnsw.efConstruction = kEfConstruction;
    g->hnsw_->add(static_cast<faiss::Index::idx_t>(rows), x);  // adds the rows to the storage too
    g->ef_search_ = ef_search == 0 ? kDefaultEfSearch : ef_search;
    g->hnsw_->hnsw.efSearch = static_cast<int>(g->ef_search_);
    return g;
}

GalleryIndex::Layout GalleryIndex::layout() const {
    const faiss::HNSW& h = hnsw_->hnsw;
    Layout out;
    out.m = m();
    out.ef_search = ef_search_;
    out.entry_point = h.entry_point;
    out.max_level = h.max_level;
    out.levels.assign(h.levels.begin(), h.levels.end());
    out.neighbours.assign(h.neighbors.begin(), h.neighbors.end());
    return out;
}

std::shared_ptr<const GalleryIndex> GalleryIndex::from_layout(const Layout& l, const float* x, std::size_t rows,
                                                              const std::string& subject) {
    auto bad = [&](const std::string& what) { return Error(subject, "corrupted: index " + what); };
    if (l.m < 2 || l.m > 256) throw bad("has M " + std::to_string(l.m) + ", not in [2, 256]");
    if (l.ef_search < 1 || l.ef_search > 65536)
        throw bad("has efSearch " + std::to_string(l.ef_search) + ", not in [1, 65536]");
    if (l.levels.size() != rows)
        throw bad("has levels for " + std::to_string(l.levels.size()) + " rows, the gallery has " +
                  std::to_string(rows));
    // The layer sizes FAISS derives from M; each row's slots follow from its level.
    const faiss::HNSW shape(static_cast<int>(l.m));
    const auto layers = static_cast<std::int32_t>(shape.cum_nneighbor_per_level.size()) - 1;
    std::size_t slots = 0;
    for (std::size_t i = 0; i < rows; ++i) {
        if (l.levels[i] < 1 || l.levels[i] > layers)
            throw bad("gives row " + std::to_string(i) + " level " + std::to_string(l.levels[i]) + ", not in [1, " +
                      std::to_string(layers) + "]");
        slots += static_cast<std::size_t>(shape.cum_nb_neighbors(l.levels[i]));
    }
    if (l.neighbours.size() != slots)
        throw bad("has " + std::to_string(l.neighbours.size()) + " neighbour slots, its levels need " +
                  std::to_string(slots));
    const auto n = static_cast<std::int64_t>(rows);
    if (std::any_of(l.neighbours.begin(), l.neighbours.end(), [&](std::int32_t v) { return v < -1 || v >= n; }))
        throw bad("links to a row out of range");
    if (l.entry_point < 0 || l.entry_point >= n || l.max_level != l.levels[l.entry_point] - 1 ||
        std::any_of(l.levels.begin(), l.levels.end(), [&](std::int32_t v) { return v > l.max_level + 1; }))
        throw bad("has a bad entry point");

    std::shared_ptr<GalleryIndex> g(new GalleryIndex);
    g->hnsw_ = empty_index(x, rows, l.m);
    faiss::HNSW& h = g->hnsw_->hnsw;
    h.levels.assign(l.levels.begin(), l.levels.end());
    h.offsets.assign(1, 0);
    for (std::int32_t level : l.levels) h.offsets.push_back(h.offsets.back() + shape.cum_nb_neighbors(level));
    h.neighbors.assign(l.neighbours.begin(), l.neighbours.end());
    h.entry_point = l.entry_point;
    h.max_level = l.max_level;
    g->hnsw_->ntotal = n;
    g->ef_search_ = l.ef_search;
    h.efSearch = static_cast<int>(l.ef_search);
    return g;
}

void GalleryIndex::search(const float* q, std::size_t k, std::vector<std::int64_t>& out) const {
    k = std::max<std::size_t>(1, std::min(k, rows()));
    std::vector<float> dist(k);
    out.resize(k);
    // FAISS searches with a beam of max(k, hnsw.efSearch), set once at build or
    // load (1.7.3 ignores SearchParametersHNSW::efSearch).
    hnsw_->search(1, q, static_cast<faiss::Index::idx_t>(k), dist.data(), out.data());
    // FAISS pads with -1 when it found fewer than k rows.
    out.erase(std::remove(out.begin(), out.end(), std::int64_t{-1}), out.end());
}

}  // namespace facepipe
