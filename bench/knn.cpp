// knn.cpp — how long one Classifier::predict (the code path predict and live
// use) takes against galleries of synthetic 128-d descriptors, for both votes.
// Brute force: every query measures its distance to every gallery row.
//
// Usage: facepipe_bench_knn [ROWS...]   (default 1000 10000 100000 1000000)
// Prints a markdown table on stdout (scripts/bench.sh pastes it).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "classifier.h"
#include "train.h"

using namespace facepipe;

namespace {

constexpr double kInteractiveMs = 50;  // above this per query, a user notices
constexpr int kQueries = 15;

// xorshift64*: fast enough to fill 128 M floats in well under a second.
struct Rng {
    std::uint64_t s;
    float next() {  // uniform in [-0.1, 0.1): descriptor-like magnitudes
        s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
        return static_cast<float>((s * 2685821657736338717ull) >> 40) / float(1 << 24) * 0.2f - 0.1f;
    }
};

// `rows` descriptors of rows / 10 people (10 photos each), each photo its own source.
TrainedModel gallery(std::size_t rows, Rng& rng) {
    TrainedModel m;
    m.model_id = "synthetic";
    m.training_id = "synthetic";
    Gallery::Rows g;
    const std::size_t people = std::max<std::size_t>(2, rows / 10);
    for (std::size_t p = 0; p < people; ++p) g.names.push_back("p" + std::to_string(p));
    g.source_paths.assign(1, "synthetic");  // sources only matter for leave-one-out
    g.labels.resize(rows);
    g.sources.assign(rows, 0);
    for (std::size_t i = 0; i < rows; ++i) g.labels[i] = static_cast<std::int32_t>(i % people);
    g.descriptors.resize(rows * kDescriptorDim);
    for (auto& v : g.descriptors) v = rng.next();
    m.vote.k = auto_k(rows);
    m.gallery = Gallery(std::move(g), nullptr);
    return m;
}

// Median milliseconds of one predict() over kQueries random queries.
double median_ms(const Classifier& c, Rng& rng) {
    std::vector<double> ms;
    for (int q = 0; q < kQueries; ++q) {
        Descriptor d;
        for (auto& v : d) v = rng.next();
        const auto t0 = std::chrono::steady_clock::now();
        volatile float sink = c.predict(d).distance;
        (void)sink;
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
    return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::size_t> sizes;
    for (int i = 1; i < argc; ++i) sizes.push_back(std::strtoull(argv[i], nullptr, 10));
    if (sizes.empty()) sizes = {1000, 10000, 100000, 1000000};
    Rng rng{0x9e3779b97f4a7c15ull};
    std::printf("| gallery rows | people | per-person ms/query | knn ms/query (k) | vs 1st row (per-person) |\n");
    std::printf("| ---: | ---: | ---: | ---: | ---: |\n");
    double base = 0, last_ms = 0;
    std::size_t first_slow = 0, last_rows = 0;
    for (std::size_t rows : sizes) {
        TrainedModel m = gallery(rows, rng);
        const std::size_t people = m.gallery.names().size();
        const int k = m.vote.k;
        m.vote.vote = VoteMode::per_person;
        const Classifier per_person(m);
        const double pp = median_ms(per_person, rng);
        m.vote.vote = VoteMode::knn;
        const Classifier knn(std::move(m));
        const double kn = median_ms(knn, rng);
        if (base == 0) base = pp;
        if (!first_slow && std::max(pp, kn) > kInteractiveMs) first_slow = rows;
        last_ms = pp, last_rows = rows;
        std::printf("| %zu | %zu | %.2f | %.2f (%d) | %.0fx |\n", rows, people, pp, kn, k, pp / base);
        std::fflush(stdout);
    }
    std::printf("\n");
    // Query time grows linearly with rows, so the largest size estimates where 50 ms falls.
    const double at_limit = last_rows * kInteractiveMs / std::max(last_ms, 1e-9);
    if (first_slow)
        std::printf("Brute force stops being interactive (> %.0f ms per query) at %zu rows here; "
                    "by linear scaling, near %.0fk rows with the per-person vote.\n",
                    kInteractiveMs, first_slow, at_limit / 1000);
    else
        std::printf("Every size stays interactive (<= %.0f ms per query); by linear scaling the per-person vote "
                    "reaches %.0f ms near %.0fk rows.\n",
                    kInteractiveMs, kInteractiveMs, at_limit / 1000);
    return 0;
}
