#include "classifier.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "container.h"
#include "error.h"
#include "hash.h"

namespace facepipe {
namespace {

constexpr char kModelMagic[] = "FPMODEL\0";  // 7 letters + NUL = 8 bytes
constexpr char kLabelsMagic[] = "FPLABELS";
// Version 2 added the index section (FAISS's own serialization of an IVF
// index); version 1 files are read as exact-search models. Version 3 stores an
// HNSW graph as GalleryIndex::Layout: without a second copy of the rows, and
// without handing file bytes to FAISS's parser.
constexpr std::uint32_t kModelVersion = 3;
constexpr std::uint32_t kLabelsVersion = 1;
constexpr std::size_t kRowBytes = 4 + 4 + kDescriptorDim * sizeof(float);
constexpr float kInf = std::numeric_limits<float>::infinity();
// Index section kinds: 1 (version 2 only, FAISS's IVF) is no longer read.
constexpr std::uint8_t kIndexNone = 0, kIndexFaissIvf = 1, kIndexHnsw = 2;
// Candidates asked of the index: enough that the rows a vote needs are almost
// always among them (measured by bench/bench_index.cpp), few enough to be cheap.
constexpr std::size_t kMinCandidates = 64;

std::string_view model_magic() { return std::string_view(kModelMagic, 8); }
std::string_view labels_magic() { return std::string_view(kLabelsMagic, 8); }

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

// ---- search -------------------------------------------------------------------

// Distance from q to every gallery row.
void distances(const float* q, const TrainedModel& m, std::vector<float>& out) {
    const std::size_t n = m.rows();
    out.resize(n);
    const float* row = m.descriptors.data();
    for (std::size_t i = 0; i < n; ++i, row += kDescriptorDim) out[i] = distance(q, row);
}

// The rows a vote looks at, with their exact distances: all rows (exact search)
// or the index's candidates. Rows from source `exclude` are skipped (-1: none).
struct Candidates {
    const std::vector<float>* all = nullptr;  // distance of every row, or
    const std::vector<std::pair<std::uint32_t, float>>* some = nullptr;  // (row, distance)
    int exclude = -1;

    template <class F>
    void each(const TrainedModel& m, F f) const {
        if (all) {
            for (std::size_t i = 0; i < all->size(); ++i)
                if (m.sources[i] != exclude) f(i, (*all)[i]);
        } else {
            for (const auto& [i, d] : *some)
                if (m.sources[i] != exclude) f(std::size_t(i), d);
        }
    }
    std::size_t size() const { return all ? all->size() : some->size(); }
};

struct Decision {
    int label = -1;
    float nearest = kInf;  // distance to the chosen person's nearest row
};

// Prefers a over b: better score, then nearer nearest row, then lower label.
bool better(double score_a, float near_a, int a, double score_b, float near_b, int b) {
    if (score_a != score_b) return score_a < score_b;
    if (near_a != near_b) return near_a < near_b;
    return a < b;
}

// A person with no candidate row cannot win: with the index, the candidates
// hold all rows of every person they include, so each person's mean is exact.
Decision decide_per_person(const Candidates& c, const TrainedModel& m) {
    const std::size_t people = m.names.size(), mm = static_cast<std::size_t>(m.per_person_m);
    std::vector<float> best(people * mm, kInf);  // per person, its mm smallest distances, ascending
    c.each(m, [&](std::size_t i, float d) {
        float* b = &best[static_cast<std::size_t>(m.labels[i]) * mm];
        if (d >= b[mm - 1]) return;
        std::size_t j = mm - 1;
        for (; j > 0 && b[j - 1] > d; --j) b[j] = b[j - 1];
        b[j] = d;
    });
    Decision out;
    double out_mean = kInf;
    for (std::size_t p = 0; p < people; ++p) {
        const float* b = &best[p * mm];
        if (b[0] == kInf) continue;  // no rows left for this person
        double sum = 0;
        std::size_t n = 0;
        for (; n < mm && b[n] != kInf; ++n) sum += b[n];
        const double mean = sum / n;
        if (out.label < 0 || better(mean, b[0], int(p), out_mean, out.nearest, out.label)) {
            out = {int(p), b[0]};
            out_mean = mean;
        }
    }
    return out;
}

Decision decide_knn(const Candidates& c, const TrainedModel& m) {
    std::vector<std::pair<float, std::int32_t>> cand;
    cand.reserve(c.size());
    c.each(m, [&](std::size_t i, float d) { cand.emplace_back(d, m.labels[i]); });
    const std::size_t k = std::min(cand.size(), static_cast<std::size_t>(m.k));
    std::nth_element(cand.begin(), cand.begin() + k, cand.end());  // no-op when k == size
    std::map<int, std::pair<double, float>> votes;                 // label -> (weight, nearest)
    for (std::size_t i = 0; i < k; ++i) {
        auto& v = votes.try_emplace(cand[i].second, 0.0, kInf).first->second;
        v.first += 1.0 / std::max(cand[i].first, 1e-6f);
        v.second = std::min(v.second, cand[i].first);
    }
    Decision out;
    double out_weight = 0;
    for (const auto& [label, v] : votes)  // heavier wins: compare negated weights
        if (out.label < 0 || better(-v.first, v.second, label, -out_weight, out.nearest, out.label)) {
            out = {label, v.second};
            out_weight = v.first;
        }
    return out;
}

Decision decide(const Candidates& c, const TrainedModel& m) {
    return m.vote == VoteMode::knn ? decide_knn(c, m) : decide_per_person(c, m);
}

// The gallery rows grouped by person (counting sort): person p's rows are
// rows[start[p] .. start[p+1]).
void group_rows_by_person(const TrainedModel& m, std::vector<std::uint32_t>& rows, std::vector<std::uint32_t>& start) {
    start.assign(m.names.size() + 1, 0);
    for (std::int32_t l : m.labels) ++start[l + 1];
    for (std::size_t p = 0; p < m.names.size(); ++p) start[p + 1] += start[p];
    rows.resize(m.rows());
    std::vector<std::uint32_t> next(start.begin(), start.end() - 1);
    for (std::size_t i = 0; i < m.rows(); ++i) rows[next[m.labels[i]]++] = std::uint32_t(i);
}

// Candidates the index proposes for q, with exact distances (see classifier.h):
// knn, the max(k, 64) rows it returns; per_person, every row of each person
// among the max(64, 8m) it returns. `spare` more are asked for, to make up for
// rows a leave-one-out probe excludes.
void index_candidates(const TrainedModel& m, const std::vector<std::uint32_t>& person_rows,
                      const std::vector<std::uint32_t>& person_start, const float* q, VoteMode vote,
                      std::size_t spare, std::vector<std::pair<std::uint32_t, float>>& cand) {
    const auto row = [&](std::size_t i) { return &m.descriptors[i * kDescriptorDim]; };
    std::vector<std::int64_t> ids;
    cand.clear();
    if (vote == VoteMode::knn) {
        m.index->search(q, std::max<std::size_t>(m.k, kMinCandidates) + spare, ids);
        for (std::int64_t i : ids) cand.emplace_back(std::uint32_t(i), distance(q, row(std::size_t(i))));
        return;
    }
    m.index->search(q, std::max<std::size_t>(kMinCandidates, 8 * std::size_t(m.per_person_m)) + spare, ids);
    std::vector<std::int32_t> people;
    for (std::int64_t i : ids) people.push_back(m.labels[std::size_t(i)]);
    std::sort(people.begin(), people.end());
    people.erase(std::unique(people.begin(), people.end()), people.end());
    for (std::int32_t p : people)
        for (std::uint32_t k = person_start[p]; k < person_start[p + 1]; ++k)
            cand.emplace_back(person_rows[k], distance(q, row(person_rows[k])));
}

// Runs body(i) for i in [0, n) on all cores; the bodies write disjoint slots.
template <class F>
void parallel_for(std::size_t n, F body) {
    const unsigned threads = std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency(), 16));
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        for (std::size_t i; (i = next++) < n;) body(i);
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads && t < n; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
}

// ---- validation -----------------------------------------------------------------

bool has_control_chars(const std::string& s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return (unsigned char)c < 0x20 || c == 0x7f; });
}

std::string check_model(const TrainedModel& m) {
    const std::size_t rows = m.rows();
    if (rows == 0) return "empty gallery";
    if (m.sources.size() != rows || m.descriptors.size() != rows * kDescriptorDim)
        return "gallery arrays have inconsistent lengths";
    if (m.names.empty()) return "no labels";
    std::set<std::string> unique;
    for (const auto& n : m.names) {
        if (n.empty() || n.size() > kMaxPayloadString || has_control_chars(n)) return "bad label name";
        if (!unique.insert(n).second) return "duplicate label name '" + n + "'";
    }
    for (std::size_t i = 0; i < rows; ++i) {
        if (m.labels[i] < 0 || std::size_t(m.labels[i]) >= m.names.size())
            return "row " + std::to_string(i) + " has label " + std::to_string(m.labels[i]) + " out of range";
        if (m.sources[i] < 0 || std::size_t(m.sources[i]) >= m.source_paths.size())
            return "row " + std::to_string(i) + " has source " + std::to_string(m.sources[i]) + " out of range";
    }
    if (!std::all_of(m.descriptors.begin(), m.descriptors.end(), [](float v) { return std::isfinite(v); }))
        return "descriptor has a non-finite value";
    if (m.k < 1) return "k must be at least 1";
    if (m.per_person_m < 1) return "per-person m must be at least 1";
    if (m.vote != VoteMode::per_person && m.vote != VoteMode::knn) return "unknown vote mode";
    if (!std::isfinite(m.threshold) || m.threshold <= 0.f || m.threshold > 2.f)
        return "threshold " + fmt("%g", m.threshold) + " is not in (0, 2]";
    if (m.training_id.empty()) return "missing training id";
    if (m.index && m.index->rows() != rows)
        return "index holds " + std::to_string(m.index->rows()) + " rows, the gallery " + std::to_string(rows);
    return "";
}

void check_options(const TrainOptions& o) {
    const std::string subject = "train options";
    if (o.k < 0) throw Error(subject, "k must be 0 (auto) or positive");
    if (o.per_person_m < 1) throw Error(subject, "per-person m must be at least 1");
    if (!(o.target_far > 0.0 && o.target_far < 1.0)) throw Error(subject, "target false-accept rate must be in (0, 1)");
    if (!std::isfinite(o.threshold) || o.threshold > 2.f) throw Error(subject, "threshold must be at most 2");
    if (o.vote != VoteMode::per_person && o.vote != VoteMode::knn) throw Error(subject, "unknown vote mode");
    if (o.ef_search > 65536) throw Error(subject, "efSearch must be at most 65536");
    if (o.index != IndexChoice::automatic && o.index != IndexChoice::exact && o.index != IndexChoice::hnsw)
        throw Error(subject, "unknown index choice");
}

// ---- serialisation ----------------------------------------------------------------

// Everything in model.bin but the training id, in file order.
void write_model_body(PayloadWriter& w, const TrainedModel& m) {
    w.str(m.model_id);
    w.u32(static_cast<std::uint32_t>(m.k));
    w.u8(static_cast<std::uint8_t>(m.vote));
    w.u32(static_cast<std::uint32_t>(m.per_person_m));
    w.f32(m.threshold);
    w.str(m.threshold_source);
    w.u32(static_cast<std::uint32_t>(m.names.size()));
    w.count(m.source_paths.size());
    for (const auto& s : m.source_paths) w.str(s);
    w.count(m.rows());
    for (std::size_t i = 0; i < m.rows(); ++i) {
        w.i32(m.labels[i]);
        w.i32(m.sources[i]);
        w.floats(&m.descriptors[i * kDescriptorDim], kDescriptorDim);
    }
    // Since version 2: the index section.
    if (!m.index) {
        w.u8(kIndexNone);
        return;
    }
    const GalleryIndex::Layout l = m.index->layout();
    w.u8(kIndexHnsw);
    w.u32(l.m);
    w.u32(l.ef_search);
    w.i32(l.entry_point);
    w.i32(l.max_level);
    w.count(l.levels.size());
    for (std::int32_t v : l.levels) w.i32(v);
    w.count(l.neighbours.size());
    for (std::int32_t v : l.neighbours) w.i32(v);
}

void write_names(PayloadWriter& w, const std::vector<std::string>& names) {
    w.count(names.size());
    for (const auto& n : names) w.str(n);
}

// The id ties labels.bin to model.bin: a hash of both files' contents (minus the id).
std::string compute_training_id(const TrainedModel& m) {
    PayloadWriter body, names;
    write_model_body(body, m);
    write_names(names, m.names);
    return sha256_hex(body.bytes() + names.bytes());
}

// The index section after the rows (version 2 and later).
void read_index_section(PayloadReader& in, TrainedModel& m) {
    const std::uint8_t kind = in.u8();
    if (kind == kIndexNone) return;
    if (kind == kIndexFaissIvf)
        throw Error(in.subject(), "its index was written by an earlier facepipe in a format no longer read; re-run train");
    if (kind != kIndexHnsw) in.fail("unknown index kind " + std::to_string(kind));
    GalleryIndex::Layout l;
    l.m = in.u32();
    l.ef_search = in.u32();
    l.entry_point = in.i32();
    l.max_level = in.i32();
    l.levels.resize(in.count(4));
    for (auto& v : l.levels) v = in.i32();
    l.neighbours.resize(in.count(4));
    for (auto& v : l.neighbours) v = in.i32();
    m.index = GalleryIndex::from_layout(l, m.descriptors.data(), m.rows(), in.subject());
}

// Reads model.bin's payload; returns the number of labels it expects.
std::uint32_t read_model_payload(PayloadReader& in, std::uint32_t version, TrainedModel& m) {
    m.model_id = in.str();
    m.k = static_cast<int>(std::min<std::uint32_t>(in.u32(), std::numeric_limits<int>::max()));
    const std::uint8_t vote = in.u8();
    if (vote > static_cast<std::uint8_t>(VoteMode::knn)) in.fail("unknown vote mode " + std::to_string(vote));
    m.vote = static_cast<VoteMode>(vote);
    m.per_person_m = static_cast<int>(std::min<std::uint32_t>(in.u32(), 1024));  // m beyond 1024 is nonsense
    m.threshold = in.f32();
    m.threshold_source = in.str();
    const std::uint32_t num_labels = in.u32();
    m.source_paths.resize(in.count(8));
    for (auto& s : m.source_paths) s = in.str();
    const std::size_t rows = in.count(kRowBytes);
    m.labels.resize(rows);
    m.sources.resize(rows);
    m.descriptors.resize(rows * kDescriptorDim);
    for (std::size_t i = 0; i < rows; ++i) {
        m.labels[i] = in.i32();
        m.sources[i] = in.i32();
        in.floats(&m.descriptors[i * kDescriptorDim], kDescriptorDim);
    }
    if (version >= 2) read_index_section(in, m);
    m.training_id = in.str(64);
    in.finish();
    return num_labels;
}

// ---- training ---------------------------------------------------------------------

TrainedModel build_gallery(const EncodingsFile& enc) {
    TrainedModel m;
    m.model_id = enc.model_id;
    std::set<std::string> people;
    for (const auto& r : enc.records)
        if (r.status == EncodeStatus::ok) people.insert(r.person);
    m.names.assign(people.begin(), people.end());
    std::map<std::string, int> source_ids;
    for (const auto& r : enc.records) {
        if (r.status != EncodeStatus::ok) continue;
        const auto label = std::lower_bound(m.names.begin(), m.names.end(), r.person) - m.names.begin();
        auto [it, added] = source_ids.try_emplace(r.source, int(m.source_paths.size()));
        if (added) m.source_paths.push_back(r.source);
        m.labels.push_back(static_cast<std::int32_t>(label));
        m.sources.push_back(it->second);
        m.descriptors.insert(m.descriptors.end(), r.descriptor.begin(), r.descriptor.end());
    }
    return m;
}

// What one original photo tells us, computed in a single pass over the gallery.
struct OriginalProbe {
    std::size_t row = 0;
    float impostor = kInf;  // nearest row of another person
    float genuine = kInf;   // nearest row of the same person, own rows excluded
    Decision per_person, knn;  // leave-one-out decisions (threshold applied later)
};

// With an index, each probe asks it for candidates as predict() does (the
// report then measures the model as it will answer): a gallery of 1M rows
// cannot afford a full scan per original photo. The genuine distance still
// scans all of the person's own rows; the impostor distance is the nearest
// other person's row among the candidates.
std::vector<OriginalProbe> probe_with_index(const TrainedModel& m, const std::vector<std::size_t>& rows) {
    std::vector<std::uint32_t> person_rows, person_start, per_source(m.source_paths.size(), 0);
    group_rows_by_person(m, person_rows, person_start);
    for (std::int32_t s : m.sources) ++per_source[s];
    std::vector<OriginalProbe> out(rows.size());
    parallel_for(rows.size(), [&](std::size_t i) {
        thread_local std::vector<std::pair<std::uint32_t, float>> cand;
        OriginalProbe& p = out[i];
        p.row = rows[i];
        const int label = m.labels[p.row], source = m.sources[p.row];
        const float* q = &m.descriptors[p.row * kDescriptorDim];
        for (std::uint32_t k = person_start[label]; k < person_start[label + 1]; ++k) {
            const std::uint32_t r = person_rows[k];
            if (m.sources[r] != source) p.genuine = std::min(p.genuine, distance(q, &m.descriptors[r * kDescriptorDim]));
        }
        const Candidates some{nullptr, &cand, source};
        for (VoteMode vote : {VoteMode::per_person, VoteMode::knn}) {
            index_candidates(m, person_rows, person_start, q, vote, per_source[source], cand);
            if (vote == VoteMode::per_person) {
                p.per_person = decide_per_person(some, m);
                for (const auto& [r, d] : cand)
                    if (m.labels[r] != label) p.impostor = std::min(p.impostor, d);
            } else {
                p.knn = decide_knn(some, m);
            }
        }
    });
    return out;
}

std::vector<OriginalProbe> probe_originals(const TrainedModel& m, const std::vector<std::size_t>& rows) {
    if (m.index) return probe_with_index(m, rows);
    std::vector<OriginalProbe> out(rows.size());
    parallel_for(rows.size(), [&](std::size_t i) {
        thread_local std::vector<float> d;
        OriginalProbe& p = out[i];
        p.row = rows[i];
        const int label = m.labels[p.row], source = m.sources[p.row];
        distances(&m.descriptors[p.row * kDescriptorDim], m, d);
        for (std::size_t j = 0; j < d.size(); ++j) {
            if (m.labels[j] != label) p.impostor = std::min(p.impostor, d[j]);
            else if (m.sources[j] != source) p.genuine = std::min(p.genuine, d[j]);
        }
        const Candidates all{&d, nullptr, source};
        p.per_person = decide_per_person(all, m);
        p.knn = decide_knn(all, m);
    });
    return out;
}

void tally(LooCounts& c, const Decision& d, int truth, float threshold) {
    ++c.evaluated;
    if (d.label < 0 || d.nearest > threshold) ++c.rejected;
    else if (d.label == truth) ++c.correct;
    else ++c.wrong_person;
}

std::string join_names(const std::vector<std::string>& names) {
    std::string out;
    for (std::size_t i = 0; i < names.size() && i < 20; ++i) out += (i ? ", " : "") + names[i];
    if (names.size() > 20) out += ", ... (" + std::to_string(names.size() - 20) + " more)";
    return out;
}

void fill_report(TrainReport& r, const EncodingsFile& enc, const TrainedModel& m,
                 const std::vector<OriginalProbe>& probes) {
    r.records = enc.records.size();
    r.gallery_rows = m.rows();
    r.skipped = r.records - r.gallery_rows;
    r.originals = probes.size();
    r.k = m.k;
    r.vote = m.vote;
    r.per_person_m = m.per_person_m;
    r.threshold = m.threshold;
    r.threshold_source = m.threshold_source;
    r.search = search_description(m);
    r.people.assign(m.names.size(), {});
    for (std::size_t p = 0; p < m.names.size(); ++p) r.people[p].name = m.names[p];
    for (std::int32_t l : m.labels) ++r.people[l].gallery_rows;
    for (const auto& p : probes) {
        const int truth = m.labels[p.row];
        ++r.people[truth].originals;
        // With no other rows of this person left, the photo cannot be recognised
        // by construction; counting it would only measure enrolment, not the model.
        if (p.genuine == kInf) continue;
        ++r.genuine_evaluated;
        if (p.genuine > m.threshold) ++r.genuine_rejected;
        tally(r.loo_per_person, p.per_person, truth, m.threshold);
        tally(r.loo_knn, p.knn, truth, m.threshold);
        tally(r.people[truth].loo, m.vote == VoteMode::knn ? p.knn : p.per_person, truth, m.threshold);
    }
    std::vector<std::string> weak;
    for (auto& p : r.people)
        if ((p.weak = p.originals < 2)) weak.push_back(p.name);
    if (m.names.size() == 1)
        r.warnings.push_back("only one person (" + m.names[0] +
                             "): every face will be called " + m.names[0] + " or unknown");
    if (!weak.empty())
        r.warnings.push_back(std::to_string(weak.size()) +
                             " people have fewer than 2 original photos (weakly enrolled, cannot be evaluated): " +
                             join_names(weak));
    if (m.threshold_source.rfind("default", 0) == 0)
        r.warnings.push_back("threshold: " + m.threshold_source);
}

}  // namespace

const char* to_string(VoteMode m) { return m == VoteMode::knn ? "knn" : "per-person"; }

VoteMode parse_vote_mode(const std::string& text, const std::string& subject) {
    if (text == "per-person") return VoteMode::per_person;
    if (text == "knn") return VoteMode::knn;
    throw Error(subject, "unknown vote mode '" + text + "' (expected per-person or knn)");
}

int auto_k(std::size_t rows) {
    return std::max(1, static_cast<int>(std::lround(std::sqrt(static_cast<double>(rows)))));
}

float calibrate_threshold(std::vector<float> scores, std::size_t people, double target_far, std::string* source) {
    std::string ignored;
    std::string& why = source ? *source : ignored;
    const std::string pct = fmt("%g", target_far * 100) + "%";
    if (people < 2) {
        why = "default " + fmt("%g", kDefaultThreshold) + " (too few people to calibrate)";
        return kDefaultThreshold;
    }
    // The small epsilon keeps 1/0.01 from becoming 101 through rounding.
    const auto needed = static_cast<std::size_t>(std::ceil(1.0 / target_far - 1e-9));
    if (scores.size() < needed) {
        why = "default " + fmt("%g", kDefaultThreshold) + " (only " + std::to_string(scores.size()) +
              " impostor scores; calibrating for " + pct + " false accepts needs at least " +
              std::to_string(needed) + ")";
        return kDefaultThreshold;
    }
    const float raw = far_threshold(scores, target_far);
    const float t = std::clamp(raw, kMinCalibratedThreshold, kMaxCalibratedThreshold);
    why = "calibrated for " + pct + " false accepts on " + std::to_string(scores.size()) +
          " impostor scores from " + std::to_string(people) + " people";
    if (t != raw) why += " (quantile " + fmt("%.3f", raw) + " clamped to " + fmt("%.2f", t) + ")";
    return t;
}

float far_threshold(std::vector<float> scores, double target_far) {
    std::sort(scores.begin(), scores.end());
    const auto allowed = static_cast<std::size_t>(std::floor(target_far * scores.size() + 1e-9));
    return std::nextafter(scores[std::min(allowed, scores.size() - 1)], 0.f);
}

std::vector<std::size_t> original_rows(const EncodingsFile& enc) {
    std::vector<std::size_t> rows;
    std::size_t row = 0;
    for (const auto& r : enc.records) {
        if (r.status != EncodeStatus::ok) continue;
        if (r.is_original()) rows.push_back(row);
        ++row;
    }
    return rows;
}

TrainedModel train(const EncodingsFile& enc, const TrainOptions& o, TrainReport* report) {
    check_options(o);
    TrainedModel m = build_gallery(enc);
    if (m.rows() == 0) throw Error("encodings", "no usable encodings (no record has status ok)");
    m.k = o.k > 0 ? o.k : auto_k(m.rows());
    m.vote = o.vote;
    m.per_person_m = o.per_person_m;
    double index_seconds = 0;
    if (wants_index(o.index, m.rows())) {
        const auto t0 = std::chrono::steady_clock::now();
        m.index = GalleryIndex::build(m.descriptors.data(), m.rows(), o.ef_search);
        index_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }

    const auto probes = probe_originals(m, original_rows(enc));
    std::vector<float> impostor;
    for (const auto& p : probes)
        if (p.impostor != kInf) impostor.push_back(p.impostor);

    if (o.threshold > 0.f) {
        m.threshold = o.threshold;
        m.threshold_source = "--threshold " + fmt("%g", o.threshold);
    } else {
        m.threshold = calibrate_threshold(impostor, m.names.size(), o.target_far, &m.threshold_source);
    }
    m.training_id = compute_training_id(m);
    if (report) {
        *report = TrainReport{};
        report->index_build_seconds = index_seconds;
        report->impostor_scores = impostor.size();
        fill_report(*report, enc, m, probes);
    }
    return m;
}

void save_model(const TrainedModel& m, const std::string& model_path, const std::string& labels_path) {
    const std::string why = check_model(m);
    if (!why.empty()) throw Error(model_path, "refusing to write an invalid model: " + why);
    PayloadWriter w;
    write_model_body(w, m);
    w.str(m.training_id);
    PayloadWriter l;
    l.str(m.training_id);
    write_names(l, m.names);
    // Model first: a crash in between leaves a new model with old labels, which
    // load() refuses by training id instead of silently mislabelling.
    write_container(model_path, model_magic(), kModelVersion, w.bytes());
    write_container(labels_path, labels_magic(), kLabelsVersion, l.bytes());
}

std::string search_description(const TrainedModel& m) {
    if (!m.index) return "exact";
    return "hnsw (M " + std::to_string(m.index->m()) + ", efSearch " + std::to_string(m.index->ef_search()) + ")";
}

Classifier::Classifier(TrainedModel model) : m_(std::move(model)) {
    const std::string why = check_model(m_);
    if (!why.empty()) throw Error("model", "invalid: " + why);
    if (m_.index) group_rows_by_person(m_, person_rows_, person_start_);
}

namespace {

Classifier load_pair(const std::string& model_path, const std::string& labels_path) {
    TrainedModel m;
    std::uint32_t num_labels = 0;
    {
        const Container c = read_container(model_path, model_magic(), "model", kModelVersion);
        PayloadReader in(c.payload, model_path);
        num_labels = read_model_payload(in, c.version, m);
    }
    std::string labels_training_id;
    {
        const Container c = read_container(labels_path, labels_magic(), "labels", kLabelsVersion);
        PayloadReader in(c.payload, labels_path);
        labels_training_id = in.str(64);
        m.names.resize(in.count(8));
        for (auto& n : m.names) n = in.str();
        in.finish();
    }
    if (labels_training_id != m.training_id)
        throw Error(labels_path, "does not belong to " + model_path + " (training ids differ); re-run train");
    if (m.names.size() != num_labels)
        throw Error(labels_path, "corrupted: " + std::to_string(m.names.size()) + " labels, model expects " +
                                     std::to_string(num_labels));
    const std::string why = check_model(m);
    if (!why.empty()) throw Error(model_path, "corrupted: " + why);
    return Classifier(std::move(m));
}

}  // namespace

Classifier Classifier::load(const std::string& model_path, const std::string& labels_path) {
    try {
        return load_pair(model_path, labels_path);
    } catch (const ModelError&) {
        throw;
    } catch (const Error& e) {
        throw ModelError(e.subject(), e.cause());  // nothing can be labelled without the model: exit 2
    }
}

namespace {

Prediction finish_prediction(const Decision& dec, const TrainedModel& m, float threshold_override) {
    const float threshold = threshold_override > 0.f ? threshold_override : m.threshold;
    Prediction p;
    p.distance = dec.nearest;
    if (dec.label >= 0 && dec.nearest <= threshold) {
        p.label = dec.label;
        p.name = m.names[dec.label];
    }
    return p;
}

}  // namespace

Prediction Classifier::predict(const Descriptor& query, float threshold_override) const {
    if (!m_.index) return predict_without_source(query, -1, threshold_override);
    std::vector<std::pair<std::uint32_t, float>> cand;
    index_candidates(m_, person_rows_, person_start_, query.data(), m_.vote, 0, cand);
    return finish_prediction(decide(Candidates{nullptr, &cand, -1}, m_), m_, threshold_override);
}

Prediction Classifier::predict_without_source(const Descriptor& query, int exclude_source,
                                              float threshold_override) const {
    std::vector<float> d;
    distances(query.data(), m_, d);
    return finish_prediction(decide(Candidates{&d, nullptr, exclude_source}, m_), m_, threshold_override);
}

// ---- report -------------------------------------------------------------------------

namespace {

std::string pad(std::string s, std::size_t w, bool right = false) {
    if (s.size() >= w) return s;
    return right ? std::string(w - s.size(), ' ') + s : s + std::string(w - s.size(), ' ');
}

std::string percent(int num, int den) { return den ? fmt("%.1f%%", 100.0 * num / den) : "-"; }

std::string loo_row(const std::string& label, std::size_t w, const LooCounts& c) {
    return pad(label, w) + pad(std::to_string(c.evaluated), 10, true) + pad(std::to_string(c.correct), 9, true) +
           pad(std::to_string(c.wrong_person), 7, true) + pad(std::to_string(c.rejected), 9, true) +
           pad(percent(c.correct, c.evaluated), 10, true) + "\n";
}

}  // namespace

std::string format_train_report(const TrainReport& r) {
    std::string out;
    out += "Gallery: " + std::to_string(r.gallery_rows) + " descriptors (" + std::to_string(r.originals) +
           " original photos, " + std::to_string(r.gallery_rows - r.originals) + " augmented) of " +
           std::to_string(r.people.size()) + " people; " + std::to_string(r.skipped) + " of " +
           std::to_string(r.records) + " records skipped (no face or unreadable)\n";
    out += "Vote: " + std::string(to_string(r.vote)) +
           (r.vote == VoteMode::per_person ? " (m = " + std::to_string(r.per_person_m) + ")" : "") +
           ", k = " + std::to_string(r.k) + "\n";
    out += "Threshold: " + fmt("%.3f", r.threshold) + ", " + r.threshold_source + "\n";
    out += "Search: " + r.search +
           (r.index_build_seconds > 0 ? " (index built in " + fmt("%.1f", r.index_build_seconds) + " s)" : "") + "\n\n";

    out += "Leave-one-out over original photos (each removed with its augmented copies):\n";
    out += pad("vote", 14) + "  evaluated  correct  wrong  unknown  accuracy\n";
    out += loo_row(std::string("per-person") + (r.vote == VoteMode::per_person ? " *" : ""), 14, r.loo_per_person);
    out += loo_row(std::string("knn") + (r.vote == VoteMode::knn ? " *" : ""), 14, r.loo_knn);
    out += "Genuine rejection rate at " + fmt("%.3f", r.threshold) + ": " +
           percent(r.genuine_rejected, r.genuine_evaluated) + " (" + std::to_string(r.genuine_rejected) + " of " +
           std::to_string(r.genuine_evaluated) + ")\n\n";

    std::size_t w = 6;
    for (const auto& p : r.people) w = std::max(w, std::min<std::size_t>(p.name.size(), 40));
    w += 2;
    out += pad("person", w) + "originals   rows  correct  wrong  unknown  accuracy\n";
    for (const auto& p : r.people) {
        out += pad(p.name, w) + pad(std::to_string(p.originals), 9, true) +
               pad(std::to_string(p.gallery_rows), 7, true) + pad(std::to_string(p.loo.correct), 9, true) +
               pad(std::to_string(p.loo.wrong_person), 7, true) + pad(std::to_string(p.loo.rejected), 9, true) +
               pad(percent(p.loo.correct, p.loo.evaluated), 10, true) + (p.weak ? "  weak" : "") + "\n";
    }
    for (const auto& warning : r.warnings) out += "warning: " + warning + "\n";
    return out;
}

}  // namespace facepipe
