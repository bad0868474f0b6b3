#include "train.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "error.h"
#include "text.h"

namespace facepipe {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

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

// What one original photo tells us, asked of the gallery without its own rows.
struct OriginalProbe {
    std::size_t row = 0;
    float impostor = kInf;     // nearest row of another person among the per-person candidates
    float genuine = kInf;      // nearest row of the same person
    Match per_person, knn;     // leave-one-out votes (threshold applied later)
};

std::vector<OriginalProbe> probe_originals(const Gallery& g, const VoteParams& vote,
                                           const std::vector<std::size_t>& rows) {
    VoteParams pp = vote, knn = vote;
    pp.vote = VoteMode::per_person;
    knn.vote = VoteMode::knn;
    std::vector<OriginalProbe> out(rows.size());
    parallel_for(rows.size(), [&](std::size_t i) {
        thread_local Candidates c;
        OriginalProbe& p = out[i];
        p.row = rows[i];
        const int label = g.label(p.row);
        const Query leave_out{g.source(p.row), -1, false};
        const float* q = g.descriptor(p.row);
        p.genuine = g.nearest_of_person(q, label, leave_out.without_source);
        g.candidates(q, pp, leave_out, c);
        p.per_person = g.decide(c, pp);
        c.for_each([&](std::size_t r, float d) {
            if (g.label(r) != label) p.impostor = std::min(p.impostor, d);
        });
        if (!c.complete()) g.candidates(q, knn, leave_out, c);  // the index proposes per vote
        p.knn = g.decide(c, knn);
    });
    return out;
}

void tally(LooCounts& c, const Match& m, int truth, float threshold) {
    ++c.evaluated;
    if (m.label < 0 || m.distance > threshold) ++c.rejected;
    else if (m.label == truth) ++c.correct;
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
    const Gallery& g = m.gallery;
    r.records = enc.records.size();
    r.gallery_rows = g.size();
    r.skipped = r.records - r.gallery_rows;
    r.originals = probes.size();
    r.vote = m.vote;
    r.search = g.search_description();
    if (g.index()) r.index_m = g.index()->m(), r.index_ef_search = g.index()->ef_search();
    r.people.assign(g.names().size(), {});
    for (std::size_t p = 0; p < g.names().size(); ++p) r.people[p].name = g.names()[p];
    for (std::int32_t l : g.rows().labels) ++r.people[l].gallery_rows;
    for (const auto& p : probes) {
        const int truth = g.label(p.row);
        ++r.people[truth].originals;
        // With no other rows of this person left, the photo cannot be recognised
        // by construction; counting it would only measure enrolment, not the model.
        if (p.genuine == kInf) continue;
        ++r.genuine_evaluated;
        if (p.genuine > m.threshold) ++r.genuine_rejected;
        tally(r.loo_per_person, p.per_person, truth, m.threshold);
        tally(r.loo_knn, p.knn, truth, m.threshold);
        tally(r.people[truth].loo, m.vote.vote == VoteMode::knn ? p.knn : p.per_person, truth, m.threshold);
    }
    std::vector<std::string> weak;
    for (auto& p : r.people)
        if ((p.weak = p.originals < 2)) weak.push_back(p.name);
    if (g.names().size() == 1)
        r.warnings.push_back("only one person (" + g.names()[0] + "): every face will be called " + g.names()[0] +
                             " or unknown");
    if (!weak.empty())
        r.warnings.push_back(std::to_string(weak.size()) +
                             " people have fewer than 2 original photos (weakly enrolled, cannot be evaluated): " +
                             join_names(weak));
    if (is_default(r.threshold.rule)) r.warnings.push_back("threshold: " + r.threshold.describe());
}

}  // namespace

const char* to_string(ThresholdRule r) {
    switch (r) {
        case ThresholdRule::fixed: return "fixed";
        case ThresholdRule::calibrated: return "calibrated";
        case ThresholdRule::calibrated_clamped: return "calibrated_clamped";
        case ThresholdRule::default_few_people: return "default_few_people";
        case ThresholdRule::default_few_scores: return "default_few_scores";
    }
    return "?";
}

std::string Calibration::describe() const {
    const std::string pct = format_number("%g", target_far * 100) + "%";
    switch (rule) {
        case ThresholdRule::fixed: return "--threshold " + format_number("%g", threshold);
        case ThresholdRule::default_few_people:
            return "default " + format_number("%g", kDefaultThreshold) + " (too few people to calibrate)";
        case ThresholdRule::default_few_scores: {
            // The small epsilon keeps 1/0.01 from becoming 101 through rounding.
            const auto needed = static_cast<std::size_t>(std::ceil(1.0 / target_far - 1e-9));
            return "default " + format_number("%g", kDefaultThreshold) + " (only " + std::to_string(scores) +
                   " impostor scores; calibrating for " + pct + " false accepts needs at least " +
                   std::to_string(needed) + ")";
        }
        case ThresholdRule::calibrated:
        case ThresholdRule::calibrated_clamped: {
            std::string why = "calibrated for " + pct + " false accepts on " + std::to_string(scores) +
                              " impostor scores from " + std::to_string(people) + " people";
            if (rule == ThresholdRule::calibrated_clamped)
                why += " (quantile " + format_number("%.3f", quantile) + " clamped to " + format_number("%.2f", threshold) + ")";
            return why;
        }
    }
    return "";
}

int auto_k(std::size_t rows) {
    return std::max(1, static_cast<int>(std::lround(std::sqrt(static_cast<double>(rows)))));
}

Calibration calibrate_threshold(std::vector<float> scores, std::size_t people, double target_far) {
    Calibration c;
    c.scores = scores.size();
    c.people = people;
    c.target_far = target_far;
    c.threshold = kDefaultThreshold;
    if (people < 2) {
        c.rule = ThresholdRule::default_few_people;
        return c;
    }
    const auto needed = static_cast<std::size_t>(std::ceil(1.0 / target_far - 1e-9));
    if (scores.size() < needed) {
        c.rule = ThresholdRule::default_few_scores;
        return c;
    }
    c.quantile = far_threshold(std::move(scores), target_far);
    c.threshold = std::clamp(c.quantile, kMinCalibratedThreshold, kMaxCalibratedThreshold);
    c.rule = c.threshold != c.quantile ? ThresholdRule::calibrated_clamped : ThresholdRule::calibrated;
    return c;
}

float far_threshold(std::vector<float> scores, double target_far) {
    std::sort(scores.begin(), scores.end());
    const auto allowed = static_cast<std::size_t>(std::floor(target_far * scores.size() + 1e-9));
    return std::nextafter(scores[std::min(allowed, scores.size() - 1)], 0.f);
}

Gallery::Rows gallery_rows(const EncodingsFile& enc) {
    Gallery::Rows g;
    std::set<std::string> people;
    for (const auto& r : enc.records)
        if (r.status == EncodeStatus::ok) people.insert(r.person);
    g.names.assign(people.begin(), people.end());
    std::map<std::string, int> source_ids;
    for (const auto& r : enc.records) {
        if (r.status != EncodeStatus::ok) continue;
        const auto label = std::lower_bound(g.names.begin(), g.names.end(), r.person) - g.names.begin();
        auto [it, added] = source_ids.try_emplace(r.source, int(g.source_paths.size()));
        if (added) g.source_paths.push_back(r.source);
        g.labels.push_back(static_cast<std::int32_t>(label));
        g.sources.push_back(it->second);
        g.descriptors.insert(g.descriptors.end(), r.descriptor.begin(), r.descriptor.end());
    }
    if (g.size() == 0) throw Error("encodings", "no usable encodings (no record has status ok)");
    return g;
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

VoteParams vote_params(const TrainOptions& o, std::size_t rows) {
    check_options(o);
    VoteParams v;
    v.vote = o.vote;
    v.k = o.k > 0 ? o.k : auto_k(rows);
    v.per_person_m = o.per_person_m;
    return v;
}

TrainedModel train(const EncodingsFile& enc, const TrainOptions& o, TrainReport* report) {
    Gallery::Rows rows = gallery_rows(enc);
    TrainedModel m;
    m.model_id = enc.model_id;
    m.detector = enc.detector;
    m.vote = vote_params(o, rows.size());  // checks the options, before any costly work
    std::shared_ptr<const GalleryIndex> index;
    double index_seconds = 0;
    if (wants_index(o.index, rows.size())) {
        const auto t0 = std::chrono::steady_clock::now();
        index = GalleryIndex::build(rows.descriptors.data(), rows.size(), o.ef_search);
        index_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    m.gallery = Gallery(std::move(rows), std::move(index));

    const auto probes = probe_originals(m.gallery, m.vote, original_rows(enc));
    std::vector<float> impostor;
    for (const auto& p : probes)
        if (p.impostor != kInf) impostor.push_back(p.impostor);

    Calibration cal;
    if (o.threshold > 0.f) {
        cal.threshold = o.threshold;
        cal.rule = ThresholdRule::fixed;
        cal.scores = impostor.size();
        cal.people = m.gallery.names().size();
        cal.target_far = o.target_far;
    } else {
        cal = calibrate_threshold(impostor, m.gallery.names().size(), o.target_far);
    }
    m.threshold = cal.threshold;
    m.threshold_source = cal.describe();
    m.training_id = training_id_of(m);
    if (report) {
        *report = TrainReport{};
        report->threshold = cal;
        report->index_build_seconds = index_seconds;
        fill_report(*report, enc, m, probes);
    }
    return m;
}

// ---- report -------------------------------------------------------------------------

namespace {

std::string pad(std::string s, std::size_t w, bool right = false) {
    if (s.size() >= w) return s;
    return right ? std::string(w - s.size(), ' ') + s : s + std::string(w - s.size(), ' ');
}

std::string percent(int num, int den) { return den ? format_number("%.1f%%", 100.0 * num / den) : "-"; }

std::string loo_row(const std::string& label, std::size_t w, const LooCounts& c) {
    return pad(label, w) + pad(std::to_string(c.evaluated), 10, true) + pad(std::to_string(c.correct), 9, true) +
           pad(std::to_string(c.wrong_person), 7, true) + pad(std::to_string(c.rejected), 9, true) +
           pad(percent(c.correct, c.evaluated), 10, true) + "\n";
}

nlohmann::json loo_json(const LooCounts& c) {
    return {{"evaluated", c.evaluated}, {"correct", c.correct}, {"wrong_person", c.wrong_person},
            {"rejected", c.rejected}, {"accuracy", c.accuracy()}};
}

}  // namespace

std::string format_train_report(const TrainReport& r) {
    std::string out;
    out += "Gallery: " + std::to_string(r.gallery_rows) + " descriptors (" + std::to_string(r.originals) +
           " original photos, " + std::to_string(r.gallery_rows - r.originals) + " augmented) of " +
           std::to_string(r.people.size()) + " people; " + std::to_string(r.skipped) + " of " +
           std::to_string(r.records) + " records skipped (no face or unreadable)\n";
    out += "Vote: " + std::string(to_string(r.vote.vote)) +
           (r.vote.vote == VoteMode::per_person ? " (m = " + std::to_string(r.vote.per_person_m) + ")" : "") +
           ", k = " + std::to_string(r.vote.k) + "\n";
    out += "Threshold: " + format_number("%.3f", r.threshold.threshold) + ", " + r.threshold.describe() + "\n";
    out += "Search: " + r.search +
           (r.index_m > 0 ? " (index built in " + format_number("%.1f", r.index_build_seconds) + " s)" : "") + "\n\n";

    out += "Leave-one-out over original photos (each removed with its augmented copies):\n";
    out += pad("vote", 14) + "  evaluated  correct  wrong  unknown  accuracy\n";
    out += loo_row(std::string("per-person") + (r.vote.vote == VoteMode::per_person ? " *" : ""), 14, r.loo_per_person);
    out += loo_row(std::string("knn") + (r.vote.vote == VoteMode::knn ? " *" : ""), 14, r.loo_knn);
    out += "Genuine rejection rate at " + format_number("%.3f", r.threshold.threshold) + ": " +
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

nlohmann::json train_report_json(const TrainReport& r) {
    const Calibration& t = r.threshold;
    nlohmann::json people = nlohmann::json::array();
    for (const auto& p : r.people)
        people.push_back({{"name", p.name}, {"originals", p.originals}, {"gallery_rows", p.gallery_rows},
                          {"weak", p.weak}, {"leave_one_out", loo_json(p.loo)}});
    return {
        {"records", r.records},
        {"skipped", r.skipped},
        {"gallery_rows", r.gallery_rows},
        {"originals", r.originals},
        {"vote", {{"mode", to_string(r.vote.vote)}, {"k", r.vote.k}, {"per_person_m", r.vote.per_person_m}}},
        {"threshold",
         {{"value", t.threshold}, {"rule", to_string(t.rule)}, {"source", t.describe()}, {"target_far", t.target_far},
          {"impostor_scores", t.scores}, {"quantile", t.quantile}}},
        {"search",
         {{"kind", r.index_m > 0 ? "hnsw" : "exact"}, {"m", r.index_m}, {"ef_search", r.index_ef_search},
          {"build_seconds", r.index_build_seconds}}},
        {"leave_one_out", {{"per_person", loo_json(r.loo_per_person)}, {"knn", loo_json(r.loo_knn)}}},
        {"genuine",
         {{"evaluated", r.genuine_evaluated}, {"rejected", r.genuine_rejected}, {"rate", r.genuine_rejection_rate()}}},
        {"people", people},
        {"warnings", r.warnings},
    };
}

}  // namespace facepipe
