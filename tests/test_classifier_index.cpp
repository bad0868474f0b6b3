// Tests of the gallery index (lib/gallery_index.h) as the classifier uses it:
// answers against exact search, the model.bin v3 index section (an HNSW graph) and its
// validation, and how train chooses the search.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "classifier.h"
#include "train.h"
#include "container.h"
#include "error.h"
#include "eval.h"
#include "testutil.h"

using namespace facepipe;

namespace {

doctest::Contains contains(const std::string& s) { return doctest::Contains(s.c_str()); }

constexpr int kPerIdentity = 10;
// Like real descriptors (and bench/bench_index.cpp): centres of different people
// ~0.95 apart, two photos of one person ~0.4 apart.
const float kCentreSigma = 0.95f / std::sqrt(2.f * kDescriptorDim);
const float kSampleSigma = 0.40f / std::sqrt(2.f * kDescriptorDim);

struct Synthetic {
    EncodingsFile enc;
    std::vector<Descriptor> queries;  // 90% new photos of enrolled people, 10% strangers
};

Synthetic clustered(int people, int queries, unsigned seed = 7) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> centre(0.f, kCentreSigma), sample(0.f, kSampleSigma);
    std::vector<Descriptor> centres(people);
    for (auto& c : centres)
        for (auto& v : c) v = centre(rng);
    Synthetic s;
    s.enc.model_id = "synthetic";
    for (int p = 0; p < people; ++p)
        for (int i = 0; i < kPerIdentity; ++i) {
            EncodingRecord r;
            r.person = "p" + std::to_string(1000 + p);
            r.path = r.source = r.person + "/" + std::to_string(i) + ".jpg";
            r.faces_found = 1;
            r.box = {0, 0, 100, 100};
            for (int j = 0; j < kDescriptorDim; ++j) r.descriptor[j] = centres[p][j] + sample(rng);
            s.enc.records.push_back(r);
        }
    std::uniform_int_distribution<int> pick(0, people - 1);
    for (int q = 0; q < queries; ++q) {
        Descriptor d;
        const bool stranger = q % 10 == 9;
        const int p = pick(rng);
        for (int j = 0; j < kDescriptorDim; ++j) d[j] = (stranger ? centre(rng) : centres[p][j]) + sample(rng);
        s.queries.push_back(d);
    }
    return s;
}

TrainOptions forced(IndexChoice index, VoteMode vote = VoteMode::per_person) {
    TrainOptions o;
    o.index = index;
    o.vote = vote;
    o.threshold = 0.5f;  // fixed: calibration is not under test here
    o.k = 5;             // few enough that all k nearest rows are usually candidates
    return o;
}

bool same(const Prediction& a, const Prediction& b) {
    return a.label == b.label && a.name == b.name && a.distance == b.distance;
}

// model.bin's payload split around its index section (see classifier.cpp):
// head (everything before the kind byte), then the section, then tail (the
// training id).
struct Split {
    std::string head, tail;
};

Split split_v3(const std::string& payload, const TrainedModel& m) {
    const std::size_t tail = 8 + m.training_id.size();
    const std::size_t section = 1 + 4 * 4 + 8 + m.gallery.size() * 4 + 8 + m.gallery.index()->layout().neighbours.size() * 4;
    REQUIRE(payload.size() > tail + section);
    const std::size_t at = payload.size() - tail - section;
    return {payload.substr(0, at), payload.substr(payload.size() - tail)};
}

// The payload with this index section, written as classifier.cpp writes it.
std::string join_v3(const Split& s, const GalleryIndex::Layout& l, std::uint8_t kind = 2) {
    PayloadWriter w;
    w.u8(kind);
    w.u32(l.m);
    w.u32(l.ef_search);
    w.i32(l.entry_point);
    w.i32(l.max_level);
    w.count(l.levels.size());
    for (std::int32_t v : l.levels) w.i32(v);
    w.count(l.neighbours.size());
    for (std::int32_t v : l.neighbours) w.i32(v);
    return s.head + w.bytes().substr(1) + s.tail;  // minus cereal's leading endianness byte
}

}  // namespace

TEST_CASE("--index parsing and the automatic choice by gallery size") {
    CHECK(parse_index_choice("auto") == IndexChoice::automatic);
    CHECK(parse_index_choice("exact") == IndexChoice::exact);
    CHECK(parse_index_choice("hnsw") == IndexChoice::hnsw);
    CHECK_THROWS_WITH_AS(parse_index_choice("ivf"), contains("--index: unknown index 'ivf'"), Error);
    CHECK(std::string(to_string(IndexChoice::automatic)) == "auto");
    CHECK_FALSE(wants_index(IndexChoice::automatic, kAutoIndexRows - 1));
    CHECK(wants_index(IndexChoice::automatic, kAutoIndexRows));
    CHECK_FALSE(wants_index(IndexChoice::exact, 10 * kAutoIndexRows));
    CHECK(wants_index(IndexChoice::hnsw, 1));

    const Synthetic s = clustered(40, 0);
    TrainReport r;
    const TrainedModel small = train(s.enc, forced(IndexChoice::automatic), &r);
    CHECK(small.gallery.index() == nullptr);
    CHECK(small.gallery.search_description() == "exact");
    CHECK(format_train_report(r).find("Search: exact\n") != std::string::npos);
    const TrainedModel forced_hnsw = train(s.enc, forced(IndexChoice::hnsw), &r);
    REQUIRE(forced_hnsw.gallery.index() != nullptr);
    CHECK(forced_hnsw.gallery.index()->rows() == 400);
    CHECK(Classifier(forced_hnsw).search() == "hnsw (M 32, efSearch 256)");
    CHECK(format_train_report(r).find("Search: hnsw (M 32, efSearch 256)") != std::string::npos);

    TrainOptions beam = forced(IndexChoice::hnsw);
    beam.ef_search = 40;
    CHECK(train(s.enc, beam, &r).gallery.index()->ef_search() == 40);
    beam.ef_search = 65537;
    CHECK_THROWS_WITH_AS(train(s.enc, beam, &r), contains("efSearch must be at most 65536"), Error);
}

TEST_CASE("indexed predictions equal exact search's where the needed rows are candidates") {
    const Synthetic s = clustered(300, 400);  // 3000 rows
    for (VoteMode vote : {VoteMode::per_person, VoteMode::knn}) {
        CAPTURE(to_string(vote));
        const Classifier c(train(s.enc, forced(IndexChoice::hnsw, vote), nullptr));
        const Gallery& g = c.gallery();
        REQUIRE(g.index() != nullptr);
        const int k = c.vote().k;
        int equal = 0, equal_label = 0, needed_found = 0, known = 0;
        for (const auto& q : s.queries) {
            const Prediction approx = c.predict(q), exact = c.predict(q, -1.f, Query{-1, -1, true});
            equal += same(approx, exact);
            equal_label += approx.label == exact.label;
            known += exact.label >= 0;
            // Were the rows the vote needs among the index's candidates? (the
            // same search predict() makes: classifier.h)
            std::vector<std::int64_t> ids;
            std::vector<float> d(g.size());
            for (std::size_t i = 0; i < g.size(); ++i) {
                float sum = 0;
                for (int j = 0; j < kDescriptorDim; ++j) {
                    const float t = q[j] - g.descriptor(i)[j];
                    sum += t * t;
                }
                d[i] = std::sqrt(sum);
            }
            bool found;
            if (vote == VoteMode::knn) {
                g.index()->search(q.data(), std::max<std::size_t>(k, 64), ids);
                std::vector<std::size_t> order(g.size());
                for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
                std::partial_sort(order.begin(), order.begin() + k, order.end(),
                                  [&](std::size_t a, std::size_t b) { return d[a] < d[b]; });
                const std::set<std::int64_t> got(ids.begin(), ids.end());
                found = std::all_of(order.begin(), order.begin() + k,
                                    [&](std::size_t r) { return got.count(std::int64_t(r)) > 0; });
            } else {
                g.index()->search(q.data(), 64, ids);
                // The exact winner (label even when beyond the threshold).
                const Prediction loose = c.predict(q, 2.f, Query{-1, -1, true});
                found = std::any_of(ids.begin(), ids.end(), [&](std::int64_t r) { return g.label(r) == loose.label; });
            }
            if (found) {
                ++needed_found;
                CHECK(same(approx, exact));
            }
        }
        CHECK(known > 300);  // the geometry gives mostly recognised queries
        // The decision agrees almost always; the whole prediction (distance
        // included) a little less: a stranger's nearest row is far from every
        // centre, the hardest row for the index to find, yet the answer is
        // unknown either way.
        CHECK(equal_label >= int(0.99 * s.queries.size()));
        CHECK(equal >= int(0.95 * s.queries.size()));
        CHECK(needed_found >= int(0.95 * s.queries.size()));
    }
}

TEST_CASE("a v3 model with its index round-trips, and v1 and v2 models without an index still load") {
    test::TempDir dir;
    const auto model = (dir / "model.bin").string(), labels = (dir / "labels.bin").string();
    const Synthetic s = clustered(100, 50);
    const TrainedModel trained = train(s.enc, forced(IndexChoice::hnsw), nullptr);
    save_model(trained, model, labels);
    const Container file = read_container(model, std::string_view("FPMODEL\0", 8), "model", 3);
    CHECK(file.version == 3);
    // The index section is the graph alone, not a second copy of the rows.
    CHECK(file.payload == join_v3(split_v3(file.payload, trained), trained.gallery.index()->layout()));
    const Classifier before(trained), after = Classifier::load(model, labels);
    REQUIRE(after.gallery().index() != nullptr);
    CHECK(after.search() == before.search());
    CHECK(after.gallery().index()->ef_search() == trained.gallery.index()->ef_search());
    for (const auto& q : s.queries) {
        CHECK(same(after.predict(q), before.predict(q)));
        std::vector<std::int64_t> a, b;
        trained.gallery.index()->search(q.data(), 64, a);
        after.gallery().index()->search(q.data(), 64, b);
        CHECK(a == b);  // the rebuilt graph searches exactly as the built one
    }

    // Versions 1 and 2: the same payload without the index section, and with
    // an empty one (an exact model).
    TrainedModel plain = trained;
    plain.gallery = Gallery(trained.gallery.rows(), nullptr);
    save_model(plain, model, labels);
    std::string payload = read_container(model, std::string_view("FPMODEL\0", 8), "model", 3).payload;
    const std::size_t kind_at = payload.size() - (8 + trained.training_id.size()) - 1;
    REQUIRE(payload[kind_at] == 0);
    write_container(model, std::string_view("FPMODEL\0", 8), 2, payload);
    const Classifier v2 = Classifier::load(model, labels);
    CHECK(v2.search() == "exact");
    payload.erase(kind_at, 1);
    write_container(model, std::string_view("FPMODEL\0", 8), 1, payload);
    const Classifier v1 = Classifier::load(model, labels);
    CHECK(v1.search() == "exact");
    for (const auto& q : s.queries) {
        CHECK(same(v1.predict(q), before.predict(q, -1.f, Query{-1, -1, true})));
        CHECK(same(v2.predict(q), before.predict(q, -1.f, Query{-1, -1, true})));
    }
}

TEST_CASE("a bad index inside a correctly checksummed model.bin is refused") {
    test::TempDir dir;
    const auto model = (dir / "model.bin").string(), labels = (dir / "labels.bin").string();
    const Synthetic s = clustered(100, 0);
    const TrainedModel trained = train(s.enc, forced(IndexChoice::hnsw), nullptr);
    save_model(trained, model, labels);
    const std::string payload = read_container(model, std::string_view("FPMODEL\0", 8), "model", 3).payload;
    const Split split = split_v3(payload, trained);
    const GalleryIndex::Layout good = trained.gallery.index()->layout();
    REQUIRE(join_v3(split, good) == payload);
    const auto rows = std::to_string(trained.gallery.size());

    auto refused = [&](const std::string& bad_payload, const std::string& why) {
        write_container(model, std::string_view("FPMODEL\0", 8), 3, bad_payload);
        CHECK_THROWS_WITH_AS(Classifier::load(model, labels), contains(model + ": " + why), Error);
    };
    auto with = [&](auto change) {
        GalleryIndex::Layout l = good;
        change(l);
        return join_v3(split, l);
    };
    refused(with([](auto& l) { l.m = 1; }), "corrupted: index has M 1, not in [2, 256]");
    refused(with([](auto& l) { l.ef_search = 0; }), "corrupted: index has efSearch 0, not in [1, 65536]");
    refused(with([](auto& l) { l.levels.pop_back(); }), "corrupted: index has levels for 999 rows, the gallery has " + rows);
    refused(with([](auto& l) { l.levels[3] = 0; }), "corrupted: index gives row 3 level 0, not in [1, ");
    refused(with([](auto& l) { l.levels[3] = 1000; }), "corrupted: index gives row 3 level 1000");
    refused(with([](auto& l) { l.neighbours.pop_back(); }), "corrupted: index has ");
    refused(with([](auto& l) { l.neighbours[10] = 1000; }), "corrupted: index links to a row out of range");
    refused(with([](auto& l) { l.neighbours[10] = -2; }), "corrupted: index links to a row out of range");
    refused(with([](auto& l) { l.entry_point = -1; }), "corrupted: index has a bad entry point");
    refused(with([](auto& l) { l.entry_point = 1000; }), "corrupted: index has a bad entry point");
    refused(with([](auto& l) { ++l.max_level; }), "corrupted: index has a bad entry point");
    // A forged count the payload cannot hold, an unknown kind, and version 2's FAISS kind.
    std::string forged = payload;
    forged[split.head.size() + 17 + 7] = char(0x40);  // the high byte of the level count
    refused(forged, "corrupted");
    refused(join_v3(split, good, 7), "corrupted: unknown index kind 7");
    refused(join_v3(split, good, 1), "its index was written by an earlier facepipe in a format no longer read; re-run train");
    // The untouched file still loads.
    write_container(model, std::string_view("FPMODEL\0", 8), 3, payload);
    CHECK(Classifier::load(model, labels).gallery().index() != nullptr);
}

TEST_CASE("a gallery whose index does not cover its rows is invalid") {
    const Synthetic s = clustered(20, 0);
    const TrainedModel m = train(s.enc, forced(IndexChoice::exact), nullptr);
    auto short_index = GalleryIndex::build(m.gallery.descriptor(0), m.gallery.size() - 3);
    CHECK_THROWS_WITH_AS(Gallery(m.gallery.rows(), short_index),
                         contains("gallery: invalid: index holds 197 rows, the gallery 200"), Error);
}

TEST_CASE("train's leave-one-out report with the index agrees with the exact one") {
    const Synthetic s = clustered(200, 0);
    TrainOptions o = forced(IndexChoice::exact);
    o.threshold = 0.f;  // calibrated: from impostor scores, which the index now provides
    TrainReport exact, indexed;
    const TrainedModel a = train(s.enc, o, &exact);
    o.index = IndexChoice::hnsw;
    const TrainedModel b = train(s.enc, o, &indexed);
    REQUIRE(b.gallery.index() != nullptr);
    CHECK(indexed.loo_per_person.evaluated == exact.loo_per_person.evaluated);
    CHECK(indexed.loo_per_person.evaluated == 2000);
    CHECK(std::abs(indexed.loo_per_person.correct - exact.loo_per_person.correct) <= 20);
    CHECK(std::abs(indexed.loo_knn.correct - exact.loo_knn.correct) <= 20);
    CHECK(indexed.genuine_rejected == exact.genuine_rejected);  // genuine scores stay exact
    CHECK(indexed.threshold.scores == exact.threshold.scores);
    CHECK(b.threshold == doctest::Approx(a.threshold).epsilon(0.02));
}

TEST_CASE("eval's identification works on a model trained with the index") {
    // Open-set removes each person in turn; the full gallery's index must not
    // be carried into the smaller model (it would no longer match its rows).
    const Synthetic s = clustered(30, 0);
    const IdentificationScore with = score_identification(s.enc, forced(IndexChoice::hnsw), {0.5f}, 0.01);
    const IdentificationScore without = score_identification(s.enc, forced(IndexChoice::exact), {0.5f}, 0.01);
    CHECK(with.strangers == 300);
    CHECK(with.closed_correct == without.closed_correct);  // eval searches exactly either way
}
