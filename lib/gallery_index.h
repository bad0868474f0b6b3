// gallery_index.h — the approximate nearest-neighbour index (FAISS HNSW) that
// large galleries search instead of scanning every row.
//
// Why HNSW and not IVF (measured by scripts/bench_index.sh on synthetic
// clustered galleries): IVF finds an enrolled person's nearest row easily, but a
// stranger's nearest row lies far from every list centre. At 1M rows IVF found
// it for 77% of strangers only after scanning 13% of the gallery (31 ms), while
// HNSW's graph walk reaches it touching a few thousand rows.
//
// Why a storage of our own: Debian's libfaiss is built without SIMD, and its
// distance kernel is a serial loop that made every FAISS search and build ~8x
// slower than it needs to be. The index's storage therefore computes distances
// with facepipe's own kernel (types.h: squared_distance); FAISS still owns the
// graph, its construction and its search.
//
// The index only proposes candidate rows. The classifier recomputes their
// distances with the same kernel and runs its usual vote on them, so a
// prediction equals the exact search's whenever the rows the vote needs are
// among the candidates (classifier.h).
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

// Galleries with at least this many rows get an index under IndexChoice::automatic.
// Measured (scripts/bench_index.sh): below it exact search costs under ~2.5 ms
// a query and loses nothing, while the index costs minutes of train time.
inline constexpr std::size_t kAutoIndexRows = 50000;

// ensures: true when a gallery of `rows` rows should carry an index.
bool wants_index(IndexChoice choice, std::size_t rows);

class GalleryIndex {
public:
    // Links per node (2M on the bottom layer) and the construction beam:
    // measured at 100k rows, M 16 lost enrolled people's nearest rows (99.7%
    // recall@1 at any efSearch) where M 32 reached 100%. At 1M rows,
    // efConstruction 100 left an enrolled row unreachable at any efSearch and
    // found 96.5% of exact nearest rows at efSearch 128 (200 queries); 200
    // found 99.5% (100% enrolled) for twice the build time (25-27 min, 2 cores).
    static constexpr std::uint32_t kM = 32, kEfConstruction = 200;
    // The search beam a freshly built index uses (train --ef-search changes it).
    // Measured (scripts/bench_index.sh, 1M rows, 1000 queries): 256 finds the
    // exact nearest row for 99.3% of queries in 3.7 ms median; 128 answers in
    // 2.0 ms but finds 98.5%, missing strangers (every label still agreed).
    static constexpr std::uint32_t kDefaultEfSearch = 256;

    // Builds an HNSW graph over `rows` contiguous 128-d descriptors on all
    // cores (OpenMP). Parallel insertion makes the graph, and so model.bin's
    // training id, vary from run to run; one thread would take twice as long
    // (measured 98 s against 41 s at 100k rows). ef_search 0 = kDefaultEfSearch.
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
