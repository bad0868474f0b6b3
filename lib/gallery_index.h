// gallery_index.h — the approximate nearest-neighbour index (FAISS IVF-Flat)
// that large galleries search instead of scanning every row.
//
// Why IVF-Flat and not HNSW: measured on synthetic clustered galleries
// (scripts/bench_index.sh), HNSW M=32 took 295 s to build at 100k rows (hours
// at 1M), IVF builds in seconds to minutes and its recall is tuned at query time
// by nprobe, which is stored with it.
//
// The index only proposes candidate rows. The classifier recomputes their
// distances with its own exact code and runs its usual vote on them, so a
// prediction equals the exact search's whenever the rows the vote needs are
// among the candidates (classifier.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace faiss {
struct IndexIVFFlat;
}

namespace facepipe {

// How train chooses the search: auto (by gallery size), exact or ivf.
enum class IndexChoice : std::uint8_t { automatic = 0, exact = 1, ivf = 2 };

// "auto" / "exact" / "ivf" (the CLI spelling).
const char* to_string(IndexChoice c);
// Accepts "auto", "exact" and "ivf"; throws Error(subject, ...) otherwise.
IndexChoice parse_index_choice(const std::string& text, const std::string& subject = "--index");

// Galleries with at least this many rows get an index under IndexChoice::automatic.
// Measured (scripts/bench_index.sh): at 10k rows the index is slower than
// exact search (0.47 against 0.37 ms), at 50k 3x faster (0.76 against 2.4 ms).
// Below 50k exact search costs under 2.5 ms and loses no recall, so it stays.
inline constexpr std::size_t kAutoIndexRows = 50000;

// ensures: true when a gallery of `rows` rows should carry an index.
bool wants_index(IndexChoice choice, std::size_t rows);

class GalleryIndex {
public:
    // Builds an IVF-Flat index over `rows` contiguous 128-d descriptors:
    // nlist = clamp(4 * sqrt(rows), 1, rows / 39) lists, k-means trained on at most 64 * nlist
    // evenly spaced rows; nprobe 0 means default_nprobe(nlist), otherwise it is
    // clamped to [1, nlist]. Uses all cores (OpenMP).
    // requires: rows >= 1, descriptors finite.
    static std::shared_ptr<const GalleryIndex> build(const float* descriptors, std::size_t rows,
                                                     std::uint32_t nprobe = 0);

    // Reads what serialize() wrote. Validates everything before use: FAISS's own
    // parse (any exception it throws), kind IVF-Flat with L2 metric, d == 128,
    // trained, ntotal == rows, 1 <= nprobe <= nlist, and every list id a distinct
    // row in [0, rows). Throws Error(subject, "corrupted: index ...") otherwise.
    static std::shared_ptr<const GalleryIndex> deserialize(const std::string& bytes, std::uint32_t nprobe,
                                                           std::size_t rows, const std::string& subject);

    ~GalleryIndex();
    GalleryIndex(const GalleryIndex&) = delete;
    GalleryIndex& operator=(const GalleryIndex&) = delete;

    // FAISS's own serialization (faiss::write_index); nprobe is stored beside it.
    std::string serialize() const;

    // ensures: out = the ids (ascending distance) of up to `k` rows the index
    //          finds nearest to q (fewer when the probed lists hold fewer rows).
    //          Thread-safe: the index is never modified after build/deserialize.
    void search(const float* q, std::size_t k, std::vector<std::int64_t>& out) const;

    std::size_t nlist() const;
    std::uint32_t nprobe() const { return nprobe_; }
    std::size_t rows() const;

    // The nprobe a freshly built index uses: nlist / 64, at least 32 (at most
    // nlist). Measured by scripts/bench_index.sh on clustered galleries: at 1M
    // rows (nlist 4000) nprobe 64 gave 3.6 ms per query and the same label as
    // exact search for every query, recall@1 99.4% for enrolled people's faces;
    // nprobe 128 took 6.6 ms, over the 5 ms target. Each doubling of nprobe
    // doubles the query time.
    static std::uint32_t default_nprobe(std::size_t nlist);

private:
    GalleryIndex() = default;
    std::unique_ptr<faiss::IndexIVFFlat> ivf_;  // owns its quantizer (own_fields)
    std::uint32_t nprobe_ = 1;
};

}  // namespace facepipe
