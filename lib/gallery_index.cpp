#include "gallery_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <faiss/invlists/InvertedLists.h>

#include <algorithm>
#include <cmath>
#include <exception>

#include "error.h"
#include "types.h"

namespace facepipe {

const char* to_string(IndexChoice c) {
    switch (c) {
        case IndexChoice::exact: return "exact";
        case IndexChoice::ivf: return "ivf";
        default: return "auto";
    }
}

IndexChoice parse_index_choice(const std::string& text, const std::string& subject) {
    if (text == "auto") return IndexChoice::automatic;
    if (text == "exact") return IndexChoice::exact;
    if (text == "ivf") return IndexChoice::ivf;
    throw Error(subject, "unknown index '" + text + "' (expected auto, exact or ivf)");
}

bool wants_index(IndexChoice choice, std::size_t rows) {
    if (choice == IndexChoice::automatic) return rows >= kAutoIndexRows;
    return choice == IndexChoice::ivf;
}

std::uint32_t GalleryIndex::default_nprobe(std::size_t nlist) {
    return static_cast<std::uint32_t>(std::min<std::size_t>(nlist, std::max<std::size_t>(32, nlist / 64)));
}

GalleryIndex::~GalleryIndex() = default;

std::size_t GalleryIndex::nlist() const { return ivf_->nlist; }
std::size_t GalleryIndex::rows() const { return static_cast<std::size_t>(ivf_->ntotal); }

std::shared_ptr<const GalleryIndex> GalleryIndex::build(const float* x, std::size_t rows, std::uint32_t nprobe) {
    // FAISS warns below 39 training points per centroid: k-means is then poorly
    // determined. 4 * sqrt(rows) lists keeps both the centroid scan and the
    // probed lists short (about sqrt(rows) / 4 rows each).
    const std::size_t by_sqrt = static_cast<std::size_t>(4 * std::sqrt(static_cast<double>(rows)));
    const std::size_t nlist = std::max<std::size_t>(1, std::min(by_sqrt, rows / 39));
    // k-means cost grows with points * lists; 64 points per list is enough for
    // stable centroids. Evenly spaced rows, not the first ones: a gallery is
    // ordered by person, so a prefix would miss most identities.
    const std::size_t sample = std::min(rows, 64 * nlist);
    std::vector<float> train;
    const float* train_x = x;
    if (sample < rows) {
        train.resize(sample * kDescriptorDim);
        for (std::size_t i = 0; i < sample; ++i) {
            const std::size_t r = i * rows / sample;
            std::copy_n(x + r * kDescriptorDim, kDescriptorDim, &train[i * kDescriptorDim]);
        }
        train_x = train.data();
    }
    std::shared_ptr<GalleryIndex> g(new GalleryIndex);
    auto* quantizer = new faiss::IndexFlatL2(kDescriptorDim);
    g->ivf_ = std::make_unique<faiss::IndexIVFFlat>(quantizer, kDescriptorDim, nlist, faiss::METRIC_L2);
    g->ivf_->own_fields = true;
    g->ivf_->cp.seed = 1234;  // the same gallery gives the same index
    g->ivf_->train(static_cast<faiss::Index::idx_t>(sample), train_x);
    g->ivf_->add(static_cast<faiss::Index::idx_t>(rows), x);
    g->nprobe_ = nprobe == 0 ? default_nprobe(nlist)
                             : static_cast<std::uint32_t>(std::min<std::size_t>(nprobe, nlist));
    g->ivf_->nprobe = g->nprobe_;
    return g;
}

std::string GalleryIndex::serialize() const {
    faiss::VectorIOWriter w;
    faiss::write_index(ivf_.get(), &w);
    return std::string(w.data.begin(), w.data.end());
}

std::shared_ptr<const GalleryIndex> GalleryIndex::deserialize(const std::string& bytes, std::uint32_t nprobe,
                                                              std::size_t rows, const std::string& subject) {
    auto bad = [&](const std::string& what) { return Error(subject, "corrupted: index " + what); };
    std::unique_ptr<faiss::Index> index;
    try {
        faiss::VectorIOReader r;
        r.data.assign(bytes.begin(), bytes.end());
        index.reset(faiss::read_index(&r));
    } catch (const std::exception& e) {
        // faiss::FaissException, std::bad_alloc from a forged size, ...: all mean a bad file.
        std::string what = e.what();
        what = what.substr(0, std::min<std::size_t>(what.find('\n'), 200));
        throw bad("cannot be read (" + what + ")");
    }
    auto* ivf = dynamic_cast<faiss::IndexIVFFlat*>(index.get());
    if (!ivf) throw bad("is not an IVF-Flat index");
    std::unique_ptr<faiss::IndexIVFFlat> owned(ivf);
    index.release();
    if (ivf->d != kDescriptorDim) throw bad("has dimension " + std::to_string(ivf->d) + ", expected 128");
    if (ivf->metric_type != faiss::METRIC_L2) throw bad("does not use L2 distance");
    if (!ivf->is_trained) throw bad("is not trained");
    if (ivf->ntotal < 0 || static_cast<std::size_t>(ivf->ntotal) != rows)
        throw bad("holds " + std::to_string(ivf->ntotal) + " rows, the gallery has " + std::to_string(rows));
    auto* quantizer = dynamic_cast<const faiss::IndexFlat*>(ivf->quantizer);
    if (!quantizer || quantizer->d != kDescriptorDim || quantizer->metric_type != faiss::METRIC_L2 ||
        quantizer->ntotal < 0 || static_cast<std::size_t>(quantizer->ntotal) != ivf->nlist)
        throw bad("has a malformed coarse quantizer");
    // Only in-memory lists: anything else (on-disk lists) would read other files.
    auto* lists = dynamic_cast<const faiss::ArrayInvertedLists*>(ivf->invlists);
    if (!lists || lists->nlist != ivf->nlist || lists->code_size != kDescriptorDim * sizeof(float))
        throw bad("has malformed inverted lists");
    // Every id must name a distinct gallery row: the classifier indexes its arrays with them.
    std::vector<bool> seen(rows, false);
    std::size_t total = 0;
    for (std::size_t l = 0; l < lists->nlist; ++l) {
        const std::size_t n = lists->list_size(l);
        if (lists->codes[l].size() != n * lists->code_size) throw bad("has a list of inconsistent length");
        const auto* ids = lists->get_ids(l);
        for (std::size_t i = 0; i < n; ++i) {
            if (ids[i] < 0 || static_cast<std::size_t>(ids[i]) >= rows || seen[ids[i]])
                throw bad("has a row id out of range or repeated");
            seen[ids[i]] = true;
        }
        total += n;
    }
    if (total != rows) throw bad("lists hold " + std::to_string(total) + " rows, expected " + std::to_string(rows));
    if (nprobe < 1 || nprobe > ivf->nlist)
        throw bad("nprobe " + std::to_string(nprobe) + " is not in [1, " + std::to_string(ivf->nlist) + "]");
    std::shared_ptr<GalleryIndex> g(new GalleryIndex);
    g->ivf_ = std::move(owned);
    g->ivf_->own_fields = true;
    g->nprobe_ = nprobe;
    g->ivf_->nprobe = nprobe;
    return g;
}

void GalleryIndex::search(const float* q, std::size_t k, std::vector<std::int64_t>& out) const {
    k = std::max<std::size_t>(1, std::min(k, rows()));
    std::vector<float> dist(k);
    out.resize(k);
    ivf_->search(1, q, static_cast<faiss::Index::idx_t>(k), dist.data(), out.data());
    // FAISS pads with -1 when the probed lists hold fewer than k rows.
    out.erase(std::remove(out.begin(), out.end(), std::int64_t{-1}), out.end());
}

}  // namespace facepipe
