// bench_index — Classifier::predict (the code path predict and live use) with
// the gallery index (lib/gallery_index.h) against exact search, on synthetic
// galleries shaped like real ones: identities whose descriptors cluster around a
// centre, several per identity, at the distances dlib's face network gives
// (same person ~0.4 apart, different people ~0.95).
//
// Usage: bench_index ROWS [QUERIES] [EF_SEARCH,...] [VOTE]
//   e.g. bench_index 1000000 200 128,256,512 per-person
//        bench_index --train ROWS     (times the whole train(), index and leave-one-out)
// Prints one markdown table row per configuration: index build time, model.bin
// index section size, peak RSS, query time (median, p95, one query at a time)
// and three agreements with exact search, measured in the same run: recall@1
// (the index's nearest row is the true nearest row; in brackets over enrolled
// people's queries alone, without the 10% strangers), the predicted label
// (unknown included), and the whole prediction (label and distance, bit-equal).
// EF_SEARCH 0 = the default.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "classifier.h"
#include "train.h"

using namespace facepipe;

namespace {

constexpr int kPerIdentity = 10;

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double peak_rss_mb() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss / 1024.0;
}

// Centre spread: two centres are ~0.95 apart; sample spread: two photos of one person ~0.4.
const float kCentreSigma = 0.95f / std::sqrt(2.f * kDescriptorDim), kSampleSigma = 0.40f / std::sqrt(2.f * kDescriptorDim);

// A gallery of rows / 10 people, 10 photos each, and nq queries: 90% new photos
// of enrolled people, 10% strangers.
TrainedModel make_model(std::size_t rows, VoteMode vote, std::vector<Descriptor>& queries, std::size_t nq) {
    std::mt19937 rng(42);
    std::normal_distribution<float> centre(0.f, kCentreSigma), sample(0.f, kSampleSigma);
    const std::size_t people = (rows + kPerIdentity - 1) / kPerIdentity;
    std::vector<float> centres(people * kDescriptorDim);
    for (auto& v : centres) v = centre(rng);
    TrainedModel m;
    m.model_id = m.training_id = "synthetic";
    Gallery::Rows g;
    for (std::size_t p = 0; p < people; ++p) g.names.push_back("p" + std::to_string(p));
    g.source_paths.assign(1, "synthetic");
    g.labels.resize(rows);
    g.sources.assign(rows, 0);
    g.descriptors.resize(rows * kDescriptorDim);
    for (std::size_t i = 0; i < rows; ++i) {
        g.labels[i] = static_cast<std::int32_t>(i / kPerIdentity);
        for (int j = 0; j < kDescriptorDim; ++j)
            g.descriptors[i * kDescriptorDim + j] = centres[(i / kPerIdentity) * kDescriptorDim + j] + sample(rng);
    }
    m.gallery = Gallery(std::move(g), nullptr);
    m.vote.k = auto_k(rows);
    m.vote.vote = vote;
    m.threshold = kDefaultThreshold;
    std::uniform_int_distribution<std::size_t> pick(0, people - 1);
    queries.resize(nq);
    for (std::size_t q = 0; q < nq; ++q) {
        const bool stranger = q % 10 == 9;
        const std::size_t id = pick(rng);
        for (int j = 0; j < kDescriptorDim; ++j)
            queries[q][j] = (stranger ? centre(rng) : centres[id * kDescriptorDim + j]) + sample(rng);
    }
    return m;
}

struct Timed {
    std::vector<Prediction> out;
    double median_ms = 0, p95_ms = 0;
};

Timed run(const Classifier& c, const std::vector<Descriptor>& queries, bool exact) {
    Timed t;
    std::vector<double> ms;
    for (const auto& q : queries) {
        const auto t0 = Clock::now();
        t.out.push_back(c.predict(q, -1.f, Query{-1, -1, exact}));
        ms.push_back(ms_since(t0));
    }
    std::sort(ms.begin(), ms.end());
    t.median_ms = ms[ms.size() / 2];
    t.p95_ms = ms[ms.size() * 95 / 100];
    return t;
}

// train() on the gallery as encodings: each person's 10 rows are 2 original
// photos with 4 augmented copies each, as `augment` makes them.
int time_train(std::size_t rows) {
    std::vector<Descriptor> unused;
    const TrainedModel g = make_model(rows, VoteMode::per_person, unused, 0);
    EncodingsFile enc;
    enc.model_id = "synthetic";
    enc.records.resize(rows);
    for (std::size_t i = 0; i < rows; ++i) {
        EncodingRecord& r = enc.records[i];
        r.person = g.gallery.names()[g.gallery.label(i)];
        r.source = r.person + "/" + std::to_string(i % kPerIdentity / 5) + ".jpg";
        r.path = i % 5 == 0 ? r.source : r.person + "/augmented/" + std::to_string(i % kPerIdentity) + ".jpg";
        if (i % 5 != 0) r.augmentation = "flip";
        r.faces_found = 1;
        r.box = {0, 0, 100, 100};
        std::copy_n(g.gallery.descriptor(i), kDescriptorDim, r.descriptor.begin());
    }
    for (IndexChoice choice : {IndexChoice::hnsw, IndexChoice::exact}) {
        if (choice == IndexChoice::exact && rows > 200000) {
            std::printf("| %zu | exact | not run: a full scan per original photo (%zu of them) |\n", rows, rows / 5);
            continue;
        }
        TrainOptions o;
        o.index = choice;
        TrainReport r;
        const auto t0 = Clock::now();
        const TrainedModel m = train(enc, o, &r);
        std::printf("| %zu | %s | %.0f s (index %.0f s) | %.1f%% / %.1f%% | %.3f | %.0f |\n", rows,
                    r.search.c_str(), ms_since(t0) / 1000, r.index_build_seconds, 100 * r.loo_per_person.accuracy(),
                    100 * r.loo_knn.accuracy(), r.threshold.threshold, peak_rss_mb());
        std::fflush(stdout);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::string(argv[1]) == "--train") return time_train(std::stoul(argv[2]));
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_index ROWS [QUERIES] [EF_SEARCH,...] [per-person|knn]\n");
        return 2;
    }
    const std::size_t rows = std::stoul(argv[1]), nq = argc > 2 ? std::stoul(argv[2]) : 200;
    std::vector<std::uint32_t> efs;
    {
        std::stringstream list(argc > 3 ? argv[3] : "0");
        for (std::string item; std::getline(list, item, ',');) efs.push_back(std::stoul(item));
    }
    const VoteMode vote = parse_vote_mode(argc > 4 ? argv[4] : "per-person");
    std::vector<Descriptor> queries;
    TrainedModel m = make_model(rows, vote, queries, nq);

    const double base_rss = peak_rss_mb();
    const Classifier exact(m);
    const Timed base = run(exact, queries, true);
    std::printf("| %zu | %s | exact | - | - | %.0f | %.2f | %.2f | 1.0x | 100%% (100%%) | - | 100%% | 100%% |\n", rows,
                to_string(vote), base_rss, base.median_ms, base.p95_ms);
    // The true nearest row of each query, for recall@1.
    // Plain scalar loops, so that recall does not trust the kernel under test.
    const auto distance = [&](std::size_t q, std::size_t i) {
        float sum = 0;
        for (int j = 0; j < kDescriptorDim; ++j) {
            const float t = queries[q][j] - m.gallery.descriptor(i)[j];
            sum += t * t;
        }
        return std::sqrt(sum);
    };
    std::vector<std::int64_t> nearest(nq);
    std::vector<float> nearest_distance(nq, 1e30f);
    for (std::size_t q = 0; q < nq; ++q)
        for (std::size_t i = 0; i < rows; ++i)
            if (const float d = distance(q, i); d < nearest_distance[q]) nearest_distance[q] = d, nearest[q] = std::int64_t(i);
    std::fflush(stdout);

    auto t0 = Clock::now();
    const auto built = GalleryIndex::build(m.gallery.descriptor(0), rows);
    const double build_s = ms_since(t0) / 1000;
    GalleryIndex::Layout layout = built->layout();
    const double index_mb = (layout.levels.size() + layout.neighbours.size()) * 4 / 1e6;
    for (std::uint32_t ef : efs) {
        // Rebuilding from the layout is how a model with another efSearch would
        // load; it also checks the round trip.
        layout.ef_search = ef ? ef : built->ef_search();
        TrainedModel with_index = m;
        with_index.gallery = Gallery(m.gallery.rows(), GalleryIndex::from_layout(layout, m.gallery.descriptor(0), rows, "bench"));
        const Classifier indexed(std::move(with_index));
        const Timed t = run(indexed, queries, false);
        std::size_t same = 0, same_label = 0, found = 0, enrolled_found = 0;
        // How much farther than the true nearest a missed query's row is: strangers, enrolled.
        float worst_miss[2] = {0, 0};
        std::vector<std::int64_t> ids;
        for (std::size_t q = 0; q < nq; ++q) {
            same_label += t.out[q].label == base.out[q].label;
            same += t.out[q].label == base.out[q].label && t.out[q].distance == base.out[q].distance;
            indexed.gallery().index()->search(queries[q].data(), 1, ids);
            const bool hit = !ids.empty() && ids[0] == nearest[q];
            found += hit;
            enrolled_found += hit && q % 10 != 9;
            if (!hit && !ids.empty() && ids[0] >= 0) {
                float& worst = worst_miss[q % 10 != 9];
                worst = std::max(worst, distance(q, std::size_t(ids[0])) / nearest_distance[q] - 1);
            }
        }
        char miss[48] = "-";
        if (found < nq)
            std::snprintf(miss, sizeof miss, "+%.2f%% (+%.2f%%)", 100.0 * std::max(worst_miss[0], worst_miss[1]),
                          100.0 * worst_miss[1]);
        std::printf("| %zu | %s | %s | %.1f | %.0f | %.0f | %.2f | %.2f | %.1fx | %.1f%% (%.1f%%) | %s | %.1f%% | %.1f%% |\n",
                    rows, to_string(vote), indexed.search().c_str(), build_s, index_mb, peak_rss_mb(),
                    t.median_ms, t.p95_ms, base.median_ms / t.median_ms, 100.0 * found / nq,
                    100.0 * enrolled_found / (nq - nq / 10), miss, 100.0 * same_label / nq, 100.0 * same / nq);
        std::fflush(stdout);
    }
    return 0;
}
