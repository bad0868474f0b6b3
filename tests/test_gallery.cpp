// Tests of lib/gallery.h: one candidate path and one decision, with rows or
// people left out as a question's parameter rather than a copy of the gallery.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <random>

#include "error.h"
#include "gallery.h"

using namespace facepipe;

namespace {

// people x per_person rows around random centres; each row its own source photo.
Gallery::Rows clustered_rows(int people, int per_person, unsigned seed = 3) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> centre(0.f, 0.06f), sample(0.f, 0.025f);
    Gallery::Rows g;
    for (int p = 0; p < people; ++p) {
        g.names.push_back("p" + std::to_string(100 + p));
        std::vector<float> c(kDescriptorDim);
        for (auto& v : c) v = centre(rng);
        for (int i = 0; i < per_person; ++i) {
            g.labels.push_back(p);
            g.sources.push_back(static_cast<std::int32_t>(g.source_paths.size()));
            g.source_paths.push_back(g.names.back() + "/" + std::to_string(i) + ".jpg");
            for (float v : c) g.descriptors.push_back(v + sample(rng));
        }
    }
    return g;
}

// The rows for which keep(row) holds, names and source paths unchanged (so labels agree).
Gallery::Rows only(const Gallery::Rows& g, const std::function<bool(std::size_t)>& keep) {
    Gallery::Rows out;
    out.names = g.names;
    out.source_paths = g.source_paths;
    for (std::size_t i = 0; i < g.size(); ++i) {
        if (!keep(i)) continue;
        out.labels.push_back(g.labels[i]);
        out.sources.push_back(g.sources[i]);
        out.descriptors.insert(out.descriptors.end(), &g.descriptors[i * kDescriptorDim],
                               &g.descriptors[(i + 1) * kDescriptorDim]);
    }
    return out;
}

bool same(const Match& a, const Match& b) { return a.label == b.label && a.distance == b.distance; }

}  // namespace

TEST_CASE("leaving a person or a photo out answers as a gallery without those rows") {
    const Gallery::Rows rows = clustered_rows(6, 4);
    const Gallery g(rows, nullptr);
    for (VoteParams vote : {VoteParams{VoteMode::per_person, 5, 3}, VoteParams{VoteMode::knn, 5, 3}}) {
        CAPTURE(to_string(vote.vote));
        for (std::size_t row = 0; row < rows.size(); ++row) {
            const float* q = g.descriptor(row);
            const int label = g.label(row), source = g.source(row);
            const Gallery without_person(only(rows, [&](std::size_t i) { return rows.labels[i] != label; }), nullptr);
            const Match stranger = g.match(q, vote, Query{-1, label, false});
            CHECK(stranger.label != label);
            CHECK(same(stranger, without_person.match(q, vote)));
            const Gallery without_photo(only(rows, [&](std::size_t i) { return rows.sources[i] != source; }), nullptr);
            CHECK(same(g.match(q, vote, Query{source, -1, false}), without_photo.match(q, vote)));
        }
    }
}

TEST_CASE("an index is asked for as many more rows as a question leaves out") {
    // One person with 100 rows around q, far from everyone else, fills every
    // one of the index's 64 candidates. Left out, they must still leave the
    // next person to be found, as an exact search finds them.
    Gallery::Rows rows = clustered_rows(3, 4);
    const std::vector<float> q(kDescriptorDim, 0.3f);
    rows.names.push_back("crowd");
    for (int i = 0; i < 100; ++i) {
        rows.labels.push_back(3);
        rows.sources.push_back(static_cast<std::int32_t>(rows.source_paths.size()));
        rows.source_paths.push_back("crowd/" + std::to_string(i) + ".jpg");
        for (float v : q) rows.descriptors.push_back(v + 1e-4f * float(i % 7));
    }
    const Gallery g(rows, GalleryIndex::build(rows.descriptors.data(), rows.size()));
    for (VoteParams vote : {VoteParams{VoteMode::per_person, 5, 3}, VoteParams{VoteMode::knn, 5, 3}}) {
        CAPTURE(to_string(vote.vote));
        Candidates c;
        g.candidates(q.data(), vote, Query{}, c);
        CHECK_FALSE(c.complete());
        const Query without_crowd{-1, 3, false};
        const Match indexed = g.match(q.data(), vote, without_crowd);
        const Match exact = g.match(q.data(), vote, Query{-1, 3, true});
        CHECK(exact.label >= 0);
        CHECK(exact.label != 3);
        CHECK(same(indexed, exact));
        g.candidates(q.data(), vote, without_crowd, c);
        c.for_each([&](std::size_t row, float) { CHECK(g.label(row) != 3); });
    }
}

TEST_CASE("the threshold turns a match into a person or unknown") {
    const Gallery g(clustered_rows(2, 2), nullptr);
    const Prediction known = g.answer(Match{1, 0.4f}, 0.5f);
    CHECK(known.label == 1);
    CHECK(known.name == "p101");
    CHECK(known.distance == 0.4f);
    const Prediction far = g.answer(Match{1, 0.6f}, 0.5f);
    CHECK(far.label == -1);
    CHECK(far.name == "unknown");
    CHECK(far.distance == 0.6f);
    CHECK(g.answer(Match{}, 2.f).name == "unknown");  // nothing left to match
}

TEST_CASE("a gallery checks its rows and groups them per person") {
    Gallery::Rows rows = clustered_rows(3, 2);
    const Gallery g(rows, nullptr);
    const auto [begin, end] = g.person_rows(1);
    CHECK(std::vector<std::uint32_t>(begin, end) == std::vector<std::uint32_t>{2, 3});
    CHECK(g.source_rows(4) == 1);
    CHECK(g.nearest_of_person(g.descriptor(2), 1) == 0.f);
    CHECK(g.nearest_of_person(g.descriptor(2), 1, g.source(2)) > 0.f);
    CHECK(g.search_description() == "exact");

    rows.labels[3] = 7;
    CHECK(Gallery::problem(rows, nullptr) == "row 3 has label 7 out of range");
    CHECK_THROWS_WITH_AS(Gallery(rows, nullptr), "gallery: invalid: row 3 has label 7 out of range", Error);
    rows.labels[3] = 1;
    rows.names[2] = rows.names[0];
    CHECK(Gallery::problem(rows, nullptr) == "duplicate label name 'p100'");
    rows.names[2] = "p102";
    rows.descriptors[5] = std::nanf("");
    CHECK(Gallery::problem(rows, nullptr) == "descriptor has a non-finite value");
}
