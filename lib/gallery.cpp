#include "gallery.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "container.h"
#include "error.h"
#include "text.h"

namespace facepipe {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
// Candidates asked of the index: enough that the rows a vote needs are almost
// always among them (bench/bench_index.cpp measures it), few enough to be cheap.
constexpr std::size_t kMinCandidates = 64;

// Prefers a over b: better score, then nearer nearest row, then lower label.
bool better(double score_a, float near_a, int a, double score_b, float near_b, int b) {
    if (score_a != score_b) return score_a < score_b;
    if (near_a != near_b) return near_a < near_b;
    return a < b;
}

// A person with no candidate row cannot win: with the index, the candidates
// hold all rows of every person they include, so each person's mean is exact.
Match decide_per_person(const Candidates& c, const Gallery& g, std::size_t m) {
    const std::size_t people = g.names().size();
    std::vector<float> best(people * m, kInf);  // per person, its m smallest distances, ascending
    c.for_each([&](std::size_t i, float d) {
        float* b = &best[static_cast<std::size_t>(g.label(i)) * m];
        if (d >= b[m - 1]) return;
        std::size_t j = m - 1;
        for (; j > 0 && b[j - 1] > d; --j) b[j] = b[j - 1];
        b[j] = d;
    });
    Match out;
    double out_mean = kInf;
    for (std::size_t p = 0; p < people; ++p) {
        const float* b = &best[p * m];
        if (b[0] == kInf) continue;  // no rows left for this person
        double sum = 0;
        std::size_t n = 0;
        for (; n < m && b[n] != kInf; ++n) sum += b[n];
        const double mean = sum / n;
        if (out.label < 0 || better(mean, b[0], int(p), out_mean, out.distance, out.label)) {
            out = {int(p), b[0]};
            out_mean = mean;
        }
    }
    return out;
}

Match decide_knn(const Candidates& c, const Gallery& g, std::size_t k_wanted) {
    std::vector<std::pair<float, std::int32_t>> cand;
    c.for_each([&](std::size_t i, float d) { cand.emplace_back(d, g.label(i)); });
    const std::size_t k = std::min(cand.size(), k_wanted);
    std::nth_element(cand.begin(), cand.begin() + k, cand.end());  // no-op when k == size
    std::map<int, std::pair<double, float>> votes;                 // label -> (weight, nearest)
    for (std::size_t i = 0; i < k; ++i) {
        auto& v = votes.try_emplace(cand[i].second, 0.0, kInf).first->second;
        v.first += 1.0 / std::max(cand[i].first, 1e-6f);
        v.second = std::min(v.second, cand[i].first);
    }
    Match out;
    double out_weight = 0;
    for (const auto& [label, v] : votes)  // heavier wins: compare negated weights
        if (out.label < 0 || better(-v.first, v.second, label, -out_weight, out.distance, out.label)) {
            out = {label, v.second};
            out_weight = v.first;
        }
    return out;
}

}  // namespace

const char* to_string(VoteMode m) { return m == VoteMode::knn ? "knn" : "per-person"; }

VoteMode parse_vote_mode(const std::string& text, const std::string& subject) {
    if (text == "per-person") return VoteMode::per_person;
    if (text == "knn") return VoteMode::knn;
    throw Error(subject, "unknown vote mode '" + text + "' (expected per-person or knn)");
}

std::string Gallery::problem(const Rows& r, const GalleryIndex* index) {
    const std::size_t rows = r.size();
    if (r.sources.size() != rows || r.descriptors.size() != rows * kDescriptorDim)
        return "gallery arrays have inconsistent lengths";
    std::set<std::string> unique;
    for (const auto& n : r.names) {
        if (n.empty() || n.size() > kMaxPayloadString || has_control_chars(n)) return "bad label name";
        if (!unique.insert(n).second) return "duplicate label name '" + n + "'";
    }
    for (std::size_t i = 0; i < rows; ++i) {
        if (r.labels[i] < 0 || std::size_t(r.labels[i]) >= r.names.size())
            return "row " + std::to_string(i) + " has label " + std::to_string(r.labels[i]) + " out of range";
        if (r.sources[i] < 0 || std::size_t(r.sources[i]) >= r.source_paths.size())
            return "row " + std::to_string(i) + " has source " + std::to_string(r.sources[i]) + " out of range";
    }
    if (!std::all_of(r.descriptors.begin(), r.descriptors.end(), [](float v) { return std::isfinite(v); }))
        return "descriptor has a non-finite value";
    if (index && index->rows() != rows)
        return "index holds " + std::to_string(index->rows()) + " rows, the gallery " + std::to_string(rows);
    return "";
}

Gallery::Gallery(Rows rows, std::shared_ptr<const GalleryIndex> index) : rows_(std::move(rows)), index_(std::move(index)) {
    const std::string why = problem(rows_, index_.get());
    if (!why.empty()) throw Error("gallery", "invalid: " + why);
    // Rows grouped by person (a counting sort, so each person's rows ascend).
    const std::size_t people = rows_.names.size();
    person_start_.assign(people + 1, 0);
    for (std::int32_t l : rows_.labels) ++person_start_[l + 1];
    for (std::size_t p = 0; p < people; ++p) person_start_[p + 1] += person_start_[p];
    person_rows_.resize(size());
    std::vector<std::uint32_t> next(person_start_.begin(), person_start_.end() - 1);
    for (std::size_t i = 0; i < size(); ++i) person_rows_[next[rows_.labels[i]]++] = std::uint32_t(i);
    per_source_.assign(rows_.source_paths.size(), 0);
    for (std::int32_t s : rows_.sources) ++per_source_[s];
}

std::string Gallery::search_description() const {
    if (!index_) return "exact";
    return "hnsw (M " + std::to_string(index_->m()) + ", efSearch " + std::to_string(index_->ef_search()) + ")";
}

void Gallery::candidates(const float* q, const VoteParams& vote, const Query& query, Candidates& out) const {
    out.query_ = query;
    out.labels_ = &rows_.labels;
    out.sources_ = &rows_.sources;
    out.dense_ = !index_ || query.exact;
    if (out.dense_) {
        out.all_.resize(size());
        for (std::size_t i = 0; i < size(); ++i) out.all_[i] = distance(q, descriptor(i));
        return;
    }
    // Left-out rows may fill the index's answer: ask for as many more.
    std::size_t spare = 0;
    if (query.without_source >= 0) spare += per_source_[query.without_source];
    if (query.without_label >= 0) spare += person_start_[query.without_label + 1] - person_start_[query.without_label];
    std::vector<std::int64_t> ids;
    out.some_.clear();
    if (vote.vote == VoteMode::knn) {
        index_->search(q, std::max<std::size_t>(vote.k, kMinCandidates) + spare, ids);
        for (std::int64_t i : ids)
            if (!out.left_out(std::size_t(i))) out.some_.emplace_back(std::uint32_t(i), distance(q, descriptor(i)));
        return;
    }
    index_->search(q, std::max<std::size_t>(kMinCandidates, 8 * std::size_t(vote.per_person_m)) + spare, ids);
    std::vector<std::int32_t> people;
    for (std::int64_t i : ids) people.push_back(rows_.labels[std::size_t(i)]);
    std::sort(people.begin(), people.end());
    people.erase(std::unique(people.begin(), people.end()), people.end());
    for (std::int32_t p : people) {
        const auto [begin, end] = person_rows(p);
        for (const std::uint32_t* r = begin; r != end; ++r)
            if (!out.left_out(*r)) out.some_.emplace_back(*r, distance(q, descriptor(*r)));
    }
}

Match Gallery::decide(const Candidates& c, const VoteParams& vote) const {
    if (vote.vote == VoteMode::knn) return decide_knn(c, *this, static_cast<std::size_t>(vote.k));
    return decide_per_person(c, *this, static_cast<std::size_t>(vote.per_person_m));
}

Match Gallery::match(const float* q, const VoteParams& vote, const Query& query) const {
    thread_local Candidates c;
    candidates(q, vote, query, c);
    return decide(c, vote);
}

Prediction Gallery::answer(const Match& m, float threshold) const {
    Prediction p;
    p.distance = m.distance;
    if (m.label >= 0 && m.distance <= threshold) {
        p.label = m.label;
        p.name = rows_.names[m.label];
    }
    return p;
}

float Gallery::nearest_of_person(const float* q, int p, int without_source) const {
    float best = kInf;
    const auto [begin, end] = person_rows(p);
    for (const std::uint32_t* r = begin; r != end; ++r)
        if (rows_.sources[*r] != without_source) best = std::min(best, distance(q, descriptor(*r)));
    return best;
}

}  // namespace facepipe
