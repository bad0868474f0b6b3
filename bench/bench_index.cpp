// bench_index — exact brute-force search against FAISS approximate indexes (HNSW,
// IVF) on synthetic galleries shaped like real ones: identities whose descriptors
// cluster around a centre, several per identity, at the distances dlib's face
// network gives (same person ~0.4 apart, different people ~0.95).
//
// Usage: bench_index ROWS [QUERIES] [KINDS]   e.g. bench_index 1000000 500 hnsw,ivf
// Prints one markdown table row per configuration: build time, index bytes, peak
// RSS, query time (median, p95, single thread) and recall@1 against the exact
// search, which is the baseline measured in the same run.
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr int kDim = 128;
constexpr int kPerIdentity = 10;

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double peak_rss_mb() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss / 1024.0;
}

// Centre spread: two centres are ~0.95 apart; sample spread: two photos of one person ~0.4.
const float kCentreSigma = 0.95f / std::sqrt(2.f * kDim), kSampleSigma = 0.40f / std::sqrt(2.f * kDim);

struct Data {
    std::vector<float> gallery, queries;
    std::size_t rows = 0, nq = 0;
};

Data make_data(std::size_t rows, std::size_t nq) {
    std::mt19937 rng(42);
    std::normal_distribution<float> centre(0.f, kCentreSigma), sample(0.f, kSampleSigma);
    const std::size_t identities = (rows + kPerIdentity - 1) / kPerIdentity;
    std::vector<float> centres(identities * kDim);
    for (auto& v : centres) v = centre(rng);
    Data d;
    d.rows = rows;
    d.nq = nq;
    d.gallery.resize(rows * kDim);
    for (std::size_t i = 0; i < rows; ++i)
        for (int j = 0; j < kDim; ++j) d.gallery[i * kDim + j] = centres[(i / kPerIdentity) * kDim + j] + sample(rng);
    // Queries: 90% new photos of enrolled identities, 10% strangers.
    d.queries.resize(nq * kDim);
    std::uniform_int_distribution<std::size_t> pick(0, identities - 1);
    for (std::size_t q = 0; q < nq; ++q) {
        const bool stranger = q % 10 == 9;
        const std::size_t id = pick(rng);
        for (int j = 0; j < kDim; ++j)
            d.queries[q * kDim + j] = (stranger ? centre(rng) : centres[id * kDim + j]) + sample(rng);
    }
    return d;
}

struct Row {
    std::string name;
    double build_s = 0, bytes = 0, rss_mb = 0, median_ms = 0, p95_ms = 0, recall = 0;
};

// Single-query searches, one at a time on one thread: the way predict and live ask.
Row run(const std::string& name, faiss::Index& index, const Data& d, const std::vector<faiss::Index::idx_t>& truth,
        double build_s) {
    Row r{name, build_s};
    std::vector<double> times;
    std::size_t hits = 0;
    for (std::size_t q = 0; q < d.nq; ++q) {
        float dist;
        faiss::Index::idx_t id;
        const auto t0 = Clock::now();
        index.search(1, &d.queries[q * kDim], 1, &dist, &id);
        times.push_back(ms_since(t0));
        if (!truth.empty() && id == truth[q]) ++hits;
    }
    std::sort(times.begin(), times.end());
    r.median_ms = times[times.size() / 2];
    r.p95_ms = times[times.size() * 95 / 100];
    r.recall = truth.empty() ? 1.0 : double(hits) / d.nq;
    faiss::VectorIOWriter w;
    faiss::write_index(&index, &w);
    r.bytes = double(w.data.size());
    r.rss_mb = peak_rss_mb();
    return r;
}

void print(const Row& r, std::size_t rows, const Row& base) {
    std::printf("| %zu | %s | %.1f | %.0f | %.0f | %.3f | %.3f | %.1fx | %.2f%% |\n", rows, r.name.c_str(), r.build_s,
                r.bytes / 1e6, r.rss_mb, r.median_ms, r.p95_ms, base.median_ms / r.median_ms, 100 * r.recall);
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_index ROWS [QUERIES] [hnsw,ivf]\n");
        return 2;
    }
    const std::size_t rows = std::stoul(argv[1]), nq = argc > 2 ? std::stoul(argv[2]) : 500;
    const std::string kinds = argc > 3 ? argv[3] : "hnsw,ivf";
    const Data d = make_data(rows, nq);

    // Baseline: exact brute force (IndexFlatL2 scans every row, as classifier.cpp does).
    faiss::IndexFlatL2 flat(kDim);
    auto t0 = Clock::now();
    flat.add(rows, d.gallery.data());
    const double flat_build = ms_since(t0) / 1000;
    std::vector<faiss::Index::idx_t> truth(nq);
    std::vector<float> tdist(nq);
    omp_set_num_threads(1);
    const Row base = run("exact", flat, d, {}, flat_build);
    flat.search(nq, d.queries.data(), 1, tdist.data(), truth.data());
    print(base, rows, base);

    const int build_threads = omp_get_num_procs();
    if (kinds.find("hnsw") != std::string::npos) {
        omp_set_num_threads(build_threads);
        faiss::IndexHNSWFlat hnsw(kDim, 32);
        hnsw.hnsw.efConstruction = 80;
        t0 = Clock::now();
        hnsw.add(rows, d.gallery.data());
        const double build = ms_since(t0) / 1000;
        omp_set_num_threads(1);
        for (int ef : {32, 64, 128}) {
            hnsw.hnsw.efSearch = ef;
            print(run("hnsw M=32 efC=80 efS=" + std::to_string(ef), hnsw, d, truth, build), rows, base);
        }
    }
    if (kinds.find("ivf") != std::string::npos) {
        omp_set_num_threads(build_threads);
        const std::size_t nlist = std::max<std::size_t>(16, std::size_t(4 * std::sqrt(double(rows))));
        faiss::IndexFlatL2 quantizer(kDim);
        faiss::IndexIVFFlat ivf(&quantizer, kDim, nlist);
        t0 = Clock::now();
        ivf.train(std::min<std::size_t>(rows, 64 * nlist), d.gallery.data());
        ivf.add(rows, d.gallery.data());
        const double build = ms_since(t0) / 1000;
        omp_set_num_threads(1);
        for (int nprobe : {8, 32}) {
            ivf.nprobe = nprobe;
            print(run("ivf nlist=" + std::to_string(nlist) + " nprobe=" + std::to_string(nprobe), ivf, d, truth, build),
                  rows, base);
        }
    }
    return 0;
}
