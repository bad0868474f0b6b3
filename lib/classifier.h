// classifier.h — the nearest-neighbour face classifier: trained by
// `facepipe train` from encodings.bin, saved as model.bin + labels.bin, used by
// `predict` and `live`.
//
// The gallery is every ok encoding, originals and augmented copies alike. Two
// vote modes decide which person a query descriptor is nearest to:
//   per_person (default): for each person, the mean distance to their nearest
//     min(m, n_person) gallery rows; the lowest mean wins. A person enrolled with
//     2-3 photos is not outvoted by the many near-ish rows of a well-enrolled one.
//   knn: the k nearest rows vote with weight 1/max(d, 1e-6); the heaviest
//     person wins.
// Either way the reported distance is the distance to the chosen person's
// nearest row, and the answer is unknown (label -1) when it exceeds the threshold.
// Ties go to the person with the nearer nearest row, then the lower label.
//
// Search: exact (every row's distance) or, for large galleries, a FAISS HNSW
// index (gallery_index.h) that proposes candidate rows. With the index, the vote
// runs on exact distances to the candidates: knn on the max(k, 64) rows the
// index returns; per_person on every row of each person among the 64 (at least
// 8*m) candidates, so each such person's mean is exact. The answer therefore
// equals the exact search's whenever the rows the vote needs are candidates.
//
// Files (container.h): model.bin, magic "FPMODEL\0", version 3 (version 1,
// without an index section, and version 2 without an index still load; a
// version 2 index must be re-trained); labels.bin, magic "FPLABELS",
// version 1. Both carry the same training_id: the SHA-256 of the model's
// contents (index included) and the label names, so the pair cannot be mixed up.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "encodings.h"
#include "gallery_index.h"
#include "types.h"

namespace facepipe {

enum class VoteMode : std::uint8_t { per_person = 0, knn = 1 };

// "per-person" / "knn" (the CLI spelling).
const char* to_string(VoteMode m);
// Accepts "per-person" and "knn"; throws Error(subject, ...) otherwise.
VoteMode parse_vote_mode(const std::string& text, const std::string& subject = "--vote");

// The threshold used when calibration is impossible, and the range a calibrated
// one is clamped to. The network was designed for 0.6; measured on 28 people,
// 0.6 accepted 1 stranger in 9 and 0.5 none, so calibration may not go higher.
inline constexpr float kDefaultThreshold = 0.5f;
inline constexpr float kMinCalibratedThreshold = 0.40f;
inline constexpr float kMaxCalibratedThreshold = 0.60f;

struct TrainOptions {
    int k = 0;                       // 0 = auto: round(sqrt(gallery rows)), at least 1
    VoteMode vote = VoteMode::per_person;
    float threshold = 0.f;           // <= 0: calibrate (see calibrate_threshold)
    double target_far = 0.01;        // calibration target false-accept rate, in (0, 1)
    int per_person_m = 3;            // rows averaged per person in per_person mode, >= 1
    IndexChoice index = IndexChoice::automatic;  // see wants_index
    // The index's search beam, stored in model.bin: higher finds the exact
    // nearest row more often and costs more per query. 0 = kDefaultEfSearch.
    std::uint32_t ef_search = 0;
};

// Everything model.bin + labels.bin hold. Row i of the gallery is
// descriptors[i*128 .. i*128+127], labels[i] indexes names, sources[i] indexes
// source_paths (the original photo row i derives from).
struct TrainedModel {
    std::string model_id;            // copied from the encodings (face model checksums)
    std::string training_id;         // sha256 hex of everything below
    int k = 1;
    VoteMode vote = VoteMode::per_person;
    int per_person_m = 3;
    float threshold = kDefaultThreshold;
    std::string threshold_source;    // e.g. "calibrated for 1% false accepts on 312 impostor scores from 13 people"
    std::vector<std::string> names;  // label -> person, sorted
    std::vector<std::string> source_paths;
    std::vector<float> descriptors;  // rows * 128, contiguous
    std::vector<std::int32_t> labels;
    std::vector<std::int32_t> sources;
    // Null: exact search. Shared, never modified: copies of a model share it.
    std::shared_ptr<const GalleryIndex> index;

    std::size_t rows() const { return labels.size(); }
};

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
    int k = 0;
    VoteMode vote = VoteMode::per_person;
    int per_person_m = 0;
    float threshold = 0.f;
    std::string threshold_source;
    std::string search;              // search_description() of the model
    double index_build_seconds = 0;  // 0 without an index
    std::size_t impostor_scores = 0;

    // Leave-one-out over ok originals: each is removed together with every row
    // derived from it, then predicted against the rest.
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

// k's auto rule: round(sqrt(rows)), at least 1.
int auto_k(std::size_t rows);

// The impostor-score quantile rule. Sort the n scores ascending, s_1 <= ... <= s_n,
// let a = floor(target_far * n) (false accepts allowed). The threshold is the
// largest float strictly below s_(a+1), so at most a of the scores are accepted
// (accept = distance <= threshold); it is then clamped to [0.40, 0.60].
// Fallback to kDefaultThreshold when people < 2 or n < ceil(1 / target_far)
// (fewer scores than needed to allow a single false accept).
// ensures: the threshold, and *source (if given) says which rule applied.
float calibrate_threshold(std::vector<float> impostor_scores, std::size_t people, double target_far,
                          std::string* source = nullptr);

// The quantile of calibrate_threshold alone, without its fallback or clamp (for
// ROC points, which must not be clamped): with a = floor(target_far * n), the
// largest float strictly below s_(a+1), so at most a of the n scores are <= it.
// requires: scores non-empty, target_far in (0, 1).
float far_threshold(std::vector<float> impostor_scores, double target_far);

// The gallery rows (in train()'s order: the ok records, as they come) that
// are original photos, not augmented copies: leave-one-out's probes.
std::vector<std::size_t> original_rows(const EncodingsFile& encodings);

// requires: options valid (k >= 0, per_person_m >= 1, target_far in (0, 1),
//           threshold finite and <= 2) else Error("train options", ...).
// ensures:  a model over the ok records, with a GalleryIndex when
//           wants_index(options.index, rows). With an index, the report's
//           leave-one-out asks it for candidates as predict() does (a full scan
//           per original photo is hours at 1M rows), and the impostor scores
//           come from those candidates. (throws Error("encodings", "no usable
//           encodings") when there are none); when report != null, fills it:
//           leave-one-out for both vote modes, per-person counts, warnings
//           (single person, people with < 2 originals, calibration fallback).
TrainedModel train(const EncodingsFile& encodings, const TrainOptions& options, TrainReport* report);

// Writes model.bin, then labels.bin, each atomically (mode 0600).
void save_model(const TrainedModel& model, const std::string& model_path, const std::string& labels_path);

// "exact" or "hnsw (M 32, efSearch 256)": which search a model uses.
std::string search_description(const TrainedModel& model);

// The report as a readable text table (ends with a newline).
std::string format_train_report(const TrainReport& report);

struct Prediction {
    int label = -1;            // -1 = unknown
    std::string name = "unknown";
    float distance = 0.f;      // to the chosen person's nearest gallery row
};

class Classifier {
public:
    // Validates the model (label and source indices in range, counts consistent,
    // k >= 1, m >= 1, threshold finite in (0, 2], descriptors finite, at least
    // one row, an index, if any, over exactly the gallery's rows); throws
    // Error("model", "invalid: ...") otherwise.
    explicit Classifier(TrainedModel model);

    // Reads both files (model.bin version 1 to 3). Throws ModelError(path, ...) for
    // container errors and "corrupted: ..." for bad contents (index included), and Error(labels_path, "does not belong
    // to <model_path> ...; re-run train") when the training ids differ.
    static Classifier load(const std::string& model_path, const std::string& labels_path);

    // threshold_override > 0 replaces the stored threshold for this call.
    // Uses the index when the model has one (see the top of this file).
    Prediction predict(const Descriptor& query, float threshold_override = -1.f) const;
    // predict() as if the gallery rows derived from source_paths[exclude_source]
    // were absent (leave-one-out, as train's report does); -1 excludes none.
    // Always exact (eval's leave-one-out).
    Prediction predict_without_source(const Descriptor& query, int exclude_source,
                                      float threshold_override = -1.f) const;

    const std::string& model_id() const { return m_.model_id; }
    const std::string& training_id() const { return m_.training_id; }
    std::size_t size() const { return m_.rows(); }
    const std::vector<std::string>& names() const { return m_.names; }
    float threshold() const { return m_.threshold; }
    const std::string& threshold_source() const { return m_.threshold_source; }
    VoteMode vote() const { return m_.vote; }
    int k() const { return m_.k; }
    const TrainedModel& model() const { return m_; }
    std::string search() const { return search_description(m_); }

private:
    TrainedModel m_;
    // With an index: the gallery rows of each person, person p's being
    // person_rows_[person_start_[p] .. person_start_[p+1]).
    std::vector<std::uint32_t> person_rows_, person_start_;
};

}  // namespace facepipe
