// gallery_index.h — the approximate nearest-neighbour index (FAISS HNSW) that
// large galleries search instead of scanning every row.
//
// Why HNSW and not IVF (scripts/bench_index.sh; figures in docs/benchmarks.md):
// IVF finds an enrolled person's nearest row easily, but a stranger's nearest
// row lies far from every list centre, so IVF must scan a large share of the
// gallery to find it, while HNSW's graph walk reaches it touching few rows.
//
// Why a storage of our own: Debian's libfaiss is built without SIMD, and its
// distance kernel is a serial loop. The index's storage therefore computes
// distances with facepipe's own kernel (types.h: squared_distance); FAISS still
// owns the graph, its construction and its search.
//
// The index only proposes candidate rows. The gallery recomputes their
// distances with the same kernel and runs its usual vote on them (gallery.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace faiss {
struct IndexHNSW;
}

namespace facepipe {

// How train chooses the search: auto (by gallery size), exact or hnsw.
enum class IndexChoice : std::uint8_t { automatic = 0, exact = 1, hnsw = 2 };

// "auto" / "exact" / "hnsw" (the CLI spelling).
const char* to_string(IndexChoice c);
// Accepts "auto", "exact" and "hnsw"; throws Error(subject, ...) otherwise.
IndexChoice parse_index_choice(const std::string& text, const std::string& subject = "--index");

// Galleries with at least this many rows get an index under IndexChoice::automatic:
// below it exact search is about as fast per query and loses nothing, while
// building the index adds to train's time (docs/scaling.md).
inline constexpr std::size_t kAutoIndexRows = 50000;

// ensures: true when a gallery of `rows` rows should carry an index.
bool wants_index(IndexChoice choice, std::size_t rows);

class GalleryIndex {
public:
    // Links per node (2M on the bottom layer) and the construction beam, chosen
    // by recall@1 against exact search (docs/scaling.md): a smaller M lost
    // enrolled people's nearest rows at any efSearch, and efConstruction 100
    // left rows unreachable at 1M rows that 200 reaches, for twice the build.
    static constexpr std::uint32_t kM = 32, kEfConstruction = 200;
    // The search beam a freshly built index uses (train --ef-search changes it):
    // the smallest beam measured to find the exact nearest row for at least 99%
    // of queries at 1M rows (docs/scaling.md).
    static constexpr std::uint32_t kDefaultEfSearch = 256;

    // Builds an HNSW graph over `rows` contiguous 128-d descriptors on all
    // cores (OpenMP). Parallel insertion makes the graph, and so model.bin's
    // training id, vary from run to run. ef_search 0 = kDefaultEfSearch.
    // requires: rows >= 1, descriptors finite.
    static std::shared_ptr<const GalleryIndex> build(const float* descriptors, std::size_t rows,
                                                     std::uint32_t ef_search = 0);

    // What model.bin stores of an index: the graph. The rows themselves are the
    // gallery's, already in the file, so they are not stored twice, and
    // loading never hands file bytes to FAISS's own parser.
    struct Layout {
        std::uint32_t m = kM, ef_search = kDefaultEfSearch;
        std::int32_t entry_point = -1, max_level = -1;
        std::vector<std::int32_t> levels;     // per row: its number of layers (>= 1)
        std::vector<std::int32_t> neighbours; // per row, per layer, FAISS's fixed-size slots (-1 = empty)
    };
    Layout layout() const;

    // Rebuilds the index from a stored layout over the gallery's `rows` rows.
    // Validates everything first: 2 <= m <= 256, 1 <= ef_search <= 65536, one
    // level per row within the layers m allows, the entry point a row on the top
    // layer, the neighbour slots exactly as many as the levels need, each -1 or
    // a row. Throws Error(subject, "corrupted: index ...") otherwise.
    static std::shared_ptr<const GalleryIndex> from_layout(const Layout& layout, const float* descriptors,
                                                           std::size_t rows, const std::string& subject);

    ~GalleryIndex();
    GalleryIndex(const GalleryIndex&) = delete;
    GalleryIndex& operator=(const GalleryIndex&) = delete;

    // ensures: out = the ids (ascending distance) of up to `k` rows the index
    //          finds nearest to q, with a beam of max(k, ef_search()).
    //          Thread-safe: the index is never modified after build/from_layout.
    void search(const float* q, std::size_t k, std::vector<std::int64_t>& out) const;

    std::uint32_t m() const;
    std::uint32_t ef_search() const { return ef_search_; }
    std::size_t rows() const;

private:
    GalleryIndex() = default;
    std::unique_ptr<faiss::IndexHNSW> hnsw_;  // owns its storage (own_fields)
    std::uint32_t ef_search_ = kDefaultEfSearch;
};

}  // namespace facepipe
