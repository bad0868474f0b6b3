// train.h — `facepipe train`: encodings.bin to a model (model_file.h), its
// unknown-threshold calibration, and the leave-one-out report.
//
// The gallery is every ok encoding, originals and augmented copies alike.
// Leave-one-out: each ok original photo is removed together with every row
// derived from it (Query::without_source) and asked of the rest, as predict
// asks; with an index the report thereby measures the model as it will answer.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "encodings.h"
#include "model_file.h"

namespace facepipe {

// The range a calibrated threshold is clamped to. The network was designed for
// 0.6, and on real galleries 0.6 accepts many more strangers than 0.5
// (docs/benchmarks.md), so calibration may not go higher. (kDefaultThreshold,
// the fallback, is in model_file.h.)
inline constexpr float kMinCalibratedThreshold = 0.40f;
inline constexpr float kMaxCalibratedThreshold = 0.60f;

struct TrainOptions {
    int k = 0;                       // 0 = auto: auto_k(gallery rows)
    VoteMode vote = VoteMode::per_person;
    float threshold = 0.f;           // <= 0: calibrate (see calibrate_threshold)
    double target_far = 0.01;        // calibration target false-accept rate, in (0, 1)
    int per_person_m = 3;            // rows averaged per person in per_person mode, >= 1
    IndexChoice index = IndexChoice::automatic;  // see wants_index
    // The index's search beam, stored in model.bin: higher finds the exact
    // nearest row more often and costs more per query. 0 = kDefaultEfSearch.
    std::uint32_t ef_search = 0;
};

// How a threshold was chosen.
enum class ThresholdRule : std::uint8_t {
    fixed,                  // given (--threshold)
    calibrated,             // the impostor-score quantile
    calibrated_clamped,     // the quantile, clamped to [kMin, kMaxCalibratedThreshold]
    default_few_people,     // kDefaultThreshold: fewer than 2 people
    default_few_scores,     // kDefaultThreshold: fewer than ceil(1 / target_far) impostor scores
};
// "fixed", "calibrated", "calibrated_clamped", "default_few_people", "default_few_scores".
const char* to_string(ThresholdRule r);
inline bool is_default(ThresholdRule r) {
    return r == ThresholdRule::default_few_people || r == ThresholdRule::default_few_scores;
}

struct Calibration {
    float threshold = kDefaultThreshold;
    ThresholdRule rule = ThresholdRule::default_few_people;
    float quantile = 0.f;          // far_threshold() before clamping (calibrated rules only)
    std::size_t scores = 0, people = 0;
    double target_far = 0.01;
    // For people, e.g. "calibrated for 1% false accepts on 312 impostor scores
    // from 13 people"; model.bin stores it.
    std::string describe() const;
};

// k's auto rule: round(sqrt(rows)), at least 1.
int auto_k(std::size_t rows);

// The impostor-score quantile rule. Sort the n scores ascending, s_1 <= ... <= s_n,
// let a = floor(target_far * n) (false accepts allowed). The threshold is the
// largest float strictly below s_(a+1), so at most a of the scores are accepted
// (accept = distance <= threshold); it is then clamped to [0.40, 0.60].
// Falls back to kDefaultThreshold when people < 2 or n < ceil(1 / target_far)
// (fewer scores than needed to allow a single false accept).
// ensures: the threshold and the rule that chose it.
Calibration calibrate_threshold(std::vector<float> impostor_scores, std::size_t people, double target_far);

// The quantile of calibrate_threshold alone, without its fallback or clamp (for
// ROC points, which must not be clamped): with a = floor(target_far * n), the
// largest float strictly below s_(a+1), so at most a of the n scores are <= it.
// requires: scores non-empty, target_far in (0, 1).
float far_threshold(std::vector<float> impostor_scores, double target_far);

// The gallery's rows from the ok records, in their order: names sorted, sources
// numbered as first met. Throws Error("encodings", "no usable encodings ...")
// when no record is ok.
Gallery::Rows gallery_rows(const EncodingsFile& encodings);

// The gallery rows (in gallery_rows' order) that are original photos, not
// augmented copies: leave-one-out's probes.
std::vector<std::size_t> original_rows(const EncodingsFile& encodings);

// requires: options valid (k >= 0, per_person_m >= 1, target_far in (0, 1),
//           threshold finite and <= 2, ef_search <= 65536) else Error("train options", ...).
// ensures:  the vote the options ask for over a gallery of `rows` rows.
VoteParams vote_params(const TrainOptions& options, std::size_t rows);

// Tallies of a leave-one-out run.
struct LooCounts {
    int evaluated = 0, correct = 0, wrong_person = 0, rejected = 0;
    double accuracy() const { return evaluated ? double(correct) / evaluated : 0.0; }
};

struct PersonReport {
    std::string name;
    int originals = 0;     // ok original photos
    int gallery_rows = 0;  // ok rows, originals + augmented
    LooCounts loo;         // with the model's vote mode
    bool weak = false;     // fewer than 2 originals: cannot be evaluated, weakly enrolled
};

struct TrainReport {
    std::size_t records = 0;   // all records in the encodings
    std::size_t skipped = 0;   // records whose status is not ok
    std::size_t gallery_rows = 0;
    std::size_t originals = 0; // ok originals
    VoteParams vote;
    Calibration threshold;
    std::string search;              // Gallery::search_description()
    std::uint32_t index_m = 0, index_ef_search = 0;  // 0 without an index
    double index_build_seconds = 0;  // 0 without an index

    // Leave-one-out over ok originals, with both votes. A photo whose person
    // has no other photo is not counted (it cannot be recognised by construction).
    LooCounts loo_per_person, loo_knn;
    // Genuine pairs: an original's nearest same-person row (its own rows removed).
    // Rejected = that distance exceeds the threshold.
    int genuine_evaluated = 0, genuine_rejected = 0;
    double genuine_rejection_rate() const {
        return genuine_evaluated ? double(genuine_rejected) / genuine_evaluated : 0.0;
    }
    std::vector<PersonReport> people;  // sorted by name
    std::vector<std::string> warnings; // one line each
};

// ensures:  a model over the ok records of `encodings` (throws Error("encodings",
//           "no usable encodings ...") when there are none), with a GalleryIndex
//           when wants_index(options.index, rows); its threshold is
//           options.threshold when > 0, else calibrated on the leave-one-out
//           impostor scores (each original's nearest other person's row among
//           its candidates). When report != null, fills it: leave-one-out for
//           both votes, per-person counts, warnings (a single person, people
//           with < 2 originals, a default threshold).
TrainedModel train(const EncodingsFile& encodings, const TrainOptions& options, TrainReport* report);

// The report as a readable text table (ends with a newline).
std::string format_train_report(const TrainReport& report);

// The report as JSON: {"records", "skipped", "gallery_rows", "originals",
// "vote" {"mode", "k", "per_person_m"}, "threshold" {"value", "rule", "source",
// "target_far", "impostor_scores", "quantile"}, "search" {"kind" ("exact" or
// "hnsw"), "m", "ef_search", "build_seconds"}, "leave_one_out" {"per_person",
// "knn": {"evaluated", "correct", "wrong_person", "rejected", "accuracy"}},
// "genuine" {"evaluated", "rejected", "rate"}, "people" [{"name", "originals",
// "gallery_rows", "weak", "leave_one_out" {counts}}], "warnings"}.
nlohmann::json train_report_json(const TrainReport& report);

}  // namespace facepipe
