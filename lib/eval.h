// eval.h — `facepipe eval`: accuracy on two standard protocols.
//
// Verification (LFW's protocol): a pairs file names pairs of photos of the same
// person and of two different people, split into folds. Two photos are "the
// same person" when the Euclidean distance of their descriptors is <= a
// threshold. Each fold is scored with the threshold that maximises accuracy on
// the other folds; the result is the mean and standard deviation over folds,
// plus accuracy at a fixed threshold and ROC points (TAR at a target FAR).
//
// Identification, on a folder-per-person dataset, through the gallery
// (gallery.h) and the vote train builds (train.h), with exact search:
//   closed-set: each original photo, removed with its augmented copies, is
//     labelled by the rest (top-1, no unknown threshold);
//   open-set: each person in turn is removed from the gallery and their
//     original photos play strangers; at several thresholds, how many strangers
//     are accepted as someone (false accepts) against how many genuine photos
//     (closed-set queries) are rejected. The recommended threshold for a target
//     false-accept rate follows train's rule (calibrate_threshold).
//
// Descriptors come from encode_dataset (encode.h) into a cache file per image
// folder, so a second run only reads the cache.
#pragma once
#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "pairs.h"
#include "train.h"
#include "encode.h"
#include "encodings.h"
#include "progress.h"
#include "recognizer.h"

namespace facepipe {

// ---- verification on distances ---------------------------------------------------

struct ScoredPair {
    bool same = false;
    int fold = 0;
    float distance = 0.f;  // kMissingDistance when an image has no descriptor
    bool missing() const { return std::isinf(distance); }
};

// The distance of a pair missing a descriptor (an image without a face,
// unreadable or absent). Such a pair is never accepted, and accuracy counts it
// as an error at every threshold, whichever kind it is. TAR and FAR follow
// ISO/IEC 19795-1's failure-to-acquire rule instead: a missing same-person pair
// is a false reject, a missing different-person pair is no false accept (both
// stay in the denominators).
inline constexpr float kMissingDistance = std::numeric_limits<float>::infinity();

// best_threshold(pairs, exclude_fold)
//   ensures: the threshold that maximises accuracy (accept = distance <= t) on
//            the pairs whose fold != exclude_fold (-1: all pairs). Candidates are
//            the midpoints between consecutive distinct finite distances, the
//            smallest minus 0.01 (accept none) and the largest plus 0.01 (accept
//            all); the lowest candidate wins ties. Missing pairs are errors at any
//            threshold, so they do not move it. With no finite distance: 0.6.
float best_threshold(const std::vector<ScoredPair>& pairs, int exclude_fold);

struct FoldResult {
    int fold = 0;           // 0-based
    float threshold = 0.f;  // chosen on the other folds
    int pairs = 0, correct = 0;
    double accuracy() const { return pairs ? double(correct) / pairs : 0.0; }
};

struct RocPoint {
    double target_far = 0;
    float threshold = 0.f;     // far_threshold() of the different-person distances
    double tar = 0, far = 0;   // measured at threshold, over all pairs of each kind
    int impostor_pairs = 0;
    // false when impostor_pairs < 1 / target_far: then the threshold allows no
    // false accept, and the point is coarser than its name.
    bool enough_impostors = false;
};

struct Rates {
    float threshold = 0.f;
    int pairs = 0, correct = 0;
    double tar = 0, far = 0;
    double accuracy() const { return pairs ? double(correct) / pairs : 0.0; }
};

struct VerificationScore {
    std::vector<FoldResult> folds;
    double accuracy_mean = 0, accuracy_std = 0;  // over folds; std with divisor n (as LFW tools report it)
    Rates fixed;                                  // at the fixed threshold, all pairs
    std::vector<RocPoint> roc;
};

// The protocol itself. requires: folds >= 2, every pair's fold in [0, folds),
// target_fars in (0, 1).
VerificationScore score_verification(const std::vector<ScoredPair>& pairs, int folds, float fixed_threshold,
                                     const std::vector<double>& target_fars);

// Rates at one threshold over all pairs (accept = distance <= threshold; see
// kMissingDistance for pairs missing a face).
Rates rates_at(const std::vector<ScoredPair>& pairs, float threshold);

// ---- identification on encodings -----------------------------------------------------

struct OpenSetRow {
    float threshold = 0.f;
    int false_accepts = 0;      // strangers accepted as someone
    int genuine_rejected = 0;   // genuine queries called unknown
    int misidentified = 0;      // genuine queries accepted as the wrong person
    double far = 0, frr = 0;    // false_accepts / strangers, genuine_rejected / genuine queries
};

struct IdentificationScore {
    std::size_t people = 0, originals = 0, gallery_rows = 0;
    VoteMode vote = VoteMode::per_person;
    int k = 0, per_person_m = 0;
    // Closed-set: originals whose person has other photos (genuine queries).
    int closed_evaluated = 0, closed_correct = 0;
    double closed_accuracy() const { return closed_evaluated ? double(closed_correct) / closed_evaluated : 0.0; }
    int strangers = 0;  // open-set queries: every original, its person removed
    std::vector<OpenSetRow> open_set;
    double target_far = 0;
    OpenSetRow recommended;             // at calibrate_threshold(stranger distances)
    std::string recommended_source;     // calibrate_threshold's explanation
    std::vector<std::string> warnings;  // e.g. too few people
};

// requires: train_options valid (train.h vote_params), thresholds > 0.
// ensures:  the closed- and open-set figures over the ok records. A stranger's
//           score is what predict() reports for it: the distance to the chosen
//           person's nearest row. Throws Error("encodings", ...) with no usable
//           record.
IdentificationScore score_identification(const EncodingsFile& encodings, const TrainOptions& train_options,
                                         const std::vector<float>& thresholds, double target_far);

// Rates of an open-set run at one threshold (exposed for tests).
struct OpenSetQuery {
    int truth = -1;     // the query's label; -1 for a stranger
    int label = -1;     // the person the classifier chose (before the threshold)
    float distance = 0; // to that person's nearest row
};
OpenSetRow open_set_row(const std::vector<OpenSetQuery>& genuine, const std::vector<OpenSetQuery>& strangers,
                        float threshold);

// ---- the whole command ----------------------------------------------------------------

struct EvalOptions {
    std::filesystem::path pairs;      // verification when set
    std::filesystem::path lfw_root;   // images of the pairs; "" = the pairs file's folder
    std::filesystem::path dataset;    // identification when set
    std::filesystem::path cache_dir;  // "" = default_cache_dir()
    int threads = 0;
    bool include_augmented = true;    // identification gallery includes dataset/*/augmented/
    AnalyzerOptions analyzer = centre_analyzer();
    float fixed_threshold = 0.6f;     // dlib's design threshold
    std::vector<double> roc_fars = {0.01, 0.001};
    TrainOptions train;               // vote, k, per-person m (the threshold is not used)
    std::vector<float> open_set_thresholds = {0.40f, 0.45f, 0.50f, 0.55f, 0.60f};
    double target_far = 0.01;

    static AnalyzerOptions centre_analyzer() {
        AnalyzerOptions a;
        a.choice = FaceChoice::centre;  // LFW's convention
        return a;
    }
};

struct VerificationReport {
    std::string pairs_file, root, cache;
    int folds = 0, per_fold = 0, pairs = 0, missing_pairs = 0;
    VerificationScore score;
    std::vector<std::string> problems;  // "<pairs>:<line>: <image>: <why>", one per missing pair
    int bad_images = 0;                 // absent or unreadable (bad data, unlike a photo with no face)
    int left_out = 0;                   // entries of root left out, not readable files (warned; DatasetScan)
};

struct IdentificationReport {
    std::string dataset, cache;
    IdentificationScore score;
    std::vector<std::string> problems;  // photos skipped (no face, unreadable), one line each
    int bad_images = 0;                 // unreadable
    int left_out = 0;                   // dataset entries left out, not readable files (warned; DatasetScan)
};

struct EvalReport {
    std::string face_choice;
    bool has_verification = false, has_identification = false;
    VerificationReport verification;
    IdentificationReport identification;
};

// $XDG_CACHE_HOME/facepipe/eval, else $HOME/.cache/facepipe/eval, else .cache/facepipe/eval.
std::filesystem::path default_cache_dir();

// The cache file for an image folder: <cache_dir>/<folder name>-<sha256(absolute path), 16 hex>.bin,
// and for a detector other than hog <...>-<detector>.bin, so that evaluating one folder with
// each detector in turn re-encodes nothing (a cache holds one detector's faces, encodings.h).
std::filesystem::path cache_file(const std::filesystem::path& cache_dir, const std::filesystem::path& root,
                                 DetectorKind detector = DetectorKind::hog);

// encode_dataset(root) into `cache` and the records. A cache that cannot be read
// or was made with other models is rebuilt (it is only a cache). *left_out (when
// given): the entries of root the scan left out (EncodeSummary::left_out).
EncodingsFile encode_cached(const std::filesystem::path& root, const std::filesystem::path& cache,
                            bool include_augmented, const EvalOptions& options,
                            std::shared_ptr<const LoadedModels> models, const ProgressCallback& progress,
                            int* left_out = nullptr);

// requires: options.pairs or options.dataset set; models loaded.
// ensures:  the report of each protocol asked for. Throws Error for a malformed
//           pairs file, a missing folder, or no usable encodings.
EvalReport run_eval(const EvalOptions& options, std::shared_ptr<const LoadedModels> models,
                    const ProgressCallback& progress = {});

// The report as readable tables (ends with a newline).
std::string format_eval_table(const EvalReport& report);

// The report as one JSON object (README documents the fields; ends with a newline).
std::string format_eval_json(const EvalReport& report);

// ---- making a pairs file from a dataset -------------------------------------------------

struct MadePairs {
    int people = 0, images = 0, folds = 0, per_fold = 0;
    std::filesystem::path pairs_file;
};

// make_pairs(dataset, out, folds, seed)
//   requires: out does not exist or is an empty folder.
//   ensures:  out/<person>/<person>_NNNN.<ext> symlinks to the dataset's
//            originals (each person's photos numbered 1.. in path order) and
//            out/pairs.txt in LFW's format with `folds` folds of n same-person
//            and n different-person pairs, n as large as the same-person pairs
//            allow; pairs drawn from `seed` (same seed, same file).
//   throws:  Error when the dataset has too few people or photos for one pair
//            of each kind per fold, or out cannot be written.
MadePairs make_pairs(const std::filesystem::path& dataset, const std::filesystem::path& out, int folds,
                     unsigned seed);

}  // namespace facepipe
