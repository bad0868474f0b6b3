#include "eval.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "dataset.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "text.h"

namespace facepipe {
namespace fs = std::filesystem;
namespace {

constexpr float kDesignThreshold = 0.6f;  // dlib's network was trained for it

std::string pct(double v) { return format_number("%.1f%%", 100.0 * v); }

// ---- verification -----------------------------------------------------------------

bool accepted(const ScoredPair& p, float t) { return !p.missing() && p.distance <= t; }
// A missing pair is an error whatever its kind (the rule for accuracy).
bool correct(const ScoredPair& p, float t) { return !p.missing() && accepted(p, t) == p.same; }

// ---- identification -----------------------------------------------------------------

// ---- the command ------------------------------------------------------------------

// An existing cache that cannot be used is rebuilt rather than refused: it is only a cache.
bool cache_needs_rebuild(const fs::path& cache, const std::string& model_id) {
    std::error_code ec;
    if (!fs::exists(cache, ec)) return false;
    try {
        const EncodingsFile f = read_encodings(cache.string());
        require_same_model(cache.string(), f.model_id, model_id);
        return false;
    } catch (const Error& e) {
        spdlog::info("{}; rebuilding the cache", e.what());
        return true;
    }
}

fs::path pairs_root(const EvalOptions& o) {
    if (!o.lfw_root.empty()) return o.lfw_root;
    const fs::path parent = o.pairs.parent_path();
    return parent.empty() ? fs::path(".") : parent;
}

// Why an image of a pair has no descriptor ("" when it has one); *bad when that is bad data.
struct StemIndex {
    std::map<std::string, std::vector<const EncodingRecord*>> by_stem;

    explicit StemIndex(const EncodingsFile& enc) {
        for (const auto& r : enc.records) by_stem[fs::path(r.path).replace_extension().generic_string()].push_back(&r);
    }

    const EncodingRecord* find(const PairImage& img, std::string& why, bool& bad) const {
        const std::string stem = pair_image_stem(img);
        const auto it = by_stem.find(stem);
        if (it == by_stem.end()) {
            why = stem + ".*: no such image", bad = true;
            return nullptr;
        }
        if (it->second.size() > 1) {
            why = stem + ".*: " + std::to_string(it->second.size()) + " files with this name", bad = true;
            return nullptr;
        }
        const EncodingRecord* r = it->second.front();
        if (r->status != EncodeStatus::ok) {
            why = r->path + ": " + r->note, bad = r->status == EncodeStatus::unreadable;
            return nullptr;
        }
        return r;
    }
};

VerificationReport run_verification(const EvalOptions& o, std::shared_ptr<const LoadedModels> models,
                                    const ProgressCallback& progress) {
    VerificationReport rep;
    const PairsFile pf = read_pairs(o.pairs.string());
    const fs::path root = pairs_root(o);
    const fs::path cache =
        cache_file(o.cache_dir.empty() ? default_cache_dir() : o.cache_dir, root, o.analyzer.detector.kind);
    rep.pairs_file = o.pairs.string();
    rep.root = root.string();
    rep.cache = cache.string();
    rep.folds = pf.folds;
    rep.per_fold = pf.per_fold;
    rep.pairs = static_cast<int>(pf.pairs.size());
    const EncodingsFile enc = encode_cached(root, cache, false, o, models, progress, &rep.left_out);

    const StemIndex index(enc);
    std::set<std::string> bad_images;
    std::vector<ScoredPair> scored;
    for (const auto& p : pf.pairs) {
        std::string why_a, why_b;
        bool bad_a = false, bad_b = false;
        const EncodingRecord* a = index.find(p.a, why_a, bad_a);
        const EncodingRecord* b = index.find(p.b, why_b, bad_b);
        if (bad_a) bad_images.insert(why_a);
        if (bad_b) bad_images.insert(why_b);
        ScoredPair s{p.same, p.fold, 0.f};
        if (a && b) {
            s.distance = distance(a->descriptor, b->descriptor);
        } else {
            s.distance = kMissingDistance;
            ++rep.missing_pairs;
            rep.problems.push_back(rep.pairs_file + ":" + std::to_string(p.line) + ": " + why_a +
                                   (!why_a.empty() && !why_b.empty() ? "; " : "") + why_b);
        }
        scored.push_back(s);
    }
    rep.bad_images = static_cast<int>(bad_images.size());
    rep.score = score_verification(scored, pf.folds, o.fixed_threshold, o.roc_fars);
    return rep;
}

IdentificationReport run_identification(const EvalOptions& o, std::shared_ptr<const LoadedModels> models,
                                        const ProgressCallback& progress) {
    IdentificationReport rep;
    const fs::path cache =
        cache_file(o.cache_dir.empty() ? default_cache_dir() : o.cache_dir, o.dataset, o.analyzer.detector.kind);
    rep.dataset = o.dataset.string();
    rep.cache = cache.string();
    const EncodingsFile enc = encode_cached(o.dataset, cache, o.include_augmented, o, models, progress, &rep.left_out);
    for (const auto& r : enc.records) {
        if (r.status == EncodeStatus::ok) continue;
        rep.problems.push_back(r.path + ": " + r.note);
        if (r.status == EncodeStatus::unreadable) ++rep.bad_images;
    }
    rep.score = score_identification(enc, o.train, o.open_set_thresholds, o.target_far);
    return rep;
}

// ---- output -------------------------------------------------------------------------

std::string pad(std::string s, std::size_t w, bool right = true) {
    if (s.size() >= w) return s;
    return right ? std::string(w - s.size(), ' ') + s : s + std::string(w - s.size(), ' ');
}

// The first few problems: a full LFW run may have hundreds, all of them on stderr and in the json.
void append_problems(std::string& out, const std::vector<std::string>& problems) {
    constexpr std::size_t kShown = 20;
    for (std::size_t i = 0; i < problems.size() && i < kShown; ++i) out += "    " + problems[i] + "\n";
    if (problems.size() > kShown)
        out += "    ... and " + std::to_string(problems.size() - kShown) + " more (all on stderr and in --format json)\n";
}

std::string far_label(double far) { return format_number("%g%%", far * 100); }

std::string format_verification(const VerificationReport& v) {
    const VerificationScore& s = v.score;
    std::string out = "Verification: " + v.pairs_file + " (" + std::to_string(v.folds) + " folds of " +
                      std::to_string(v.per_fold) + " same-person + " + std::to_string(v.per_fold) +
                      " different-person pairs), images under " + v.root + "\n";
    out += "  " + std::to_string(v.folds) + "-fold protocol: " + pct(s.accuracy_mean) + " +- " + pct(s.accuracy_std) +
           " (mean +- std over folds; each fold's threshold chosen on the other " + std::to_string(v.folds - 1) +
           ")\n";
    out += "  fold  threshold  correct  accuracy\n";
    for (const auto& f : s.folds)
        out += pad(std::to_string(f.fold + 1), 6) + pad(format_number("%.3f", f.threshold), 11) +
               pad(std::to_string(f.correct) + "/" + std::to_string(f.pairs), 9) + pad(pct(f.accuracy()), 10) + "\n";
    out += "  Fixed threshold " + format_number("%.3f", s.fixed.threshold) + ": accuracy " + pct(s.fixed.accuracy()) + " (" +
           std::to_string(s.fixed.correct) + "/" + std::to_string(s.fixed.pairs) + "), TAR " + pct(s.fixed.tar) +
           ", FAR " + pct(s.fixed.far) + "\n";
    for (const auto& r : s.roc) {
        out += "  TAR @ FAR " + far_label(r.target_far) + ": " + pct(r.tar) + " (threshold " + format_number("%.3f", r.threshold) + ", measured FAR " + pct(r.far) + " of " +
               std::to_string(r.impostor_pairs) + " different-person pairs" +
               (r.enough_impostors ? "" : "; too few to resolve " + far_label(r.target_far) + ", so no false accept allowed") +
               ")\n";
    }
    out += "  Pairs missing a face (counted as errors): " + std::to_string(v.missing_pairs) + "\n";
    append_problems(out, v.problems);
    return out;
}

std::string open_set_line(const OpenSetRow& r, int strangers, int genuine) {
    return pad(format_number("%.3f", r.threshold), 11) + pad(std::to_string(r.false_accepts) + "/" + std::to_string(strangers), 15) +
           pad(pct(r.far), 8) + pad(std::to_string(r.genuine_rejected) + "/" + std::to_string(genuine), 18) +
           pad(pct(r.frr), 8) + pad(std::to_string(r.misidentified), 15) + "\n";
}

std::string format_identification(const IdentificationReport& i) {
    const IdentificationScore& s = i.score;
    std::string out = "Identification: " + i.dataset + " (" + std::to_string(s.people) + " people, " +
                      std::to_string(s.originals) + " original photos, " + std::to_string(s.gallery_rows) +
                      " gallery rows), vote " + to_string(s.vote) +
                      (s.vote == VoteMode::per_person ? " (m = " + std::to_string(s.per_person_m) + ")" : "") +
                      ", k = " + std::to_string(s.k) + "\n";
    out += "  Closed-set leave-one-out top-1: " + pct(s.closed_accuracy()) + " (" + std::to_string(s.closed_correct) +
           " of " + std::to_string(s.closed_evaluated) + " photos whose person has other photos)\n";
    out += "  Open-set: each person removed in turn, their " + std::to_string(s.strangers) +
           " photos played strangers; genuine = the closed-set queries\n";
    out += "  threshold  false accepts     FAR  genuine rejected     FRR  misidentified\n";
    for (const auto& r : s.open_set) out += open_set_line(r, s.strangers, s.closed_evaluated);
    out += "  Recommended for " + far_label(s.target_far) + " false accepts: " +
           format_number("%.3f", s.recommended.threshold) + " (" + i.score.recommended_source + ")\n";
    out += open_set_line(s.recommended, s.strangers, s.closed_evaluated);
    for (const auto& w : s.warnings) out += "  warning: " + w + "\n";
    if (!i.problems.empty()) out += "  Photos skipped: " + std::to_string(i.problems.size()) + "\n";
    append_problems(out, i.problems);
    return out;
}

nlohmann::ordered_json rates_json(const Rates& r) {
    return {{"threshold", r.threshold}, {"pairs", r.pairs},   {"correct", r.correct},
            {"accuracy", r.accuracy()}, {"tar", r.tar},       {"far", r.far}};
}

nlohmann::ordered_json open_set_json(const OpenSetRow& r) {
    return {{"threshold", r.threshold},         {"false_accepts", r.false_accepts}, {"far", r.far},
            {"genuine_rejected", r.genuine_rejected}, {"frr", r.frr},             {"misidentified", r.misidentified}};
}

nlohmann::ordered_json verification_json(const VerificationReport& v) {
    using J = nlohmann::ordered_json;
    J folds = J::array(), roc = J::array();
    for (const auto& f : v.score.folds)
        folds.push_back({{"fold", f.fold + 1}, {"threshold", f.threshold}, {"pairs", f.pairs},
                         {"correct", f.correct}, {"accuracy", f.accuracy()}});
    for (const auto& r : v.score.roc)
        roc.push_back({{"target_far", r.target_far}, {"threshold", r.threshold},
                       {"tar", r.tar}, {"far", r.far}, {"impostor_pairs", r.impostor_pairs},
                       {"enough_impostors", r.enough_impostors}});
    return {{"pairs_file", v.pairs_file}, {"root", v.root}, {"cache", v.cache},
            {"folds", v.folds}, {"per_fold", v.per_fold}, {"pairs", v.pairs},
            {"accuracy_mean", v.score.accuracy_mean}, {"accuracy_std", v.score.accuracy_std},
            {"fold_results", folds}, {"fixed_threshold", rates_json(v.score.fixed)}, {"roc", roc},
            {"missing_pairs", v.missing_pairs}, {"problems", v.problems}, {"bad_images", v.bad_images}, {"left_out", v.left_out}};
}

nlohmann::ordered_json identification_json(const IdentificationReport& i) {
    using J = nlohmann::ordered_json;
    const IdentificationScore& s = i.score;
    J rows = J::array();
    for (const auto& r : s.open_set) rows.push_back(open_set_json(r));
    J rec = open_set_json(s.recommended);
    rec["target_far"] = s.target_far;
    rec["source"] = s.recommended_source;
    return {{"dataset", i.dataset}, {"cache", i.cache}, {"people", s.people}, {"originals", s.originals},
            {"gallery_rows", s.gallery_rows}, {"vote", to_string(s.vote)}, {"k", s.k},
            {"per_person_m", s.per_person_m},
            {"closed_set", {{"evaluated", s.closed_evaluated}, {"correct", s.closed_correct},
                            {"accuracy", s.closed_accuracy()}}},
            {"open_set", {{"strangers", s.strangers}, {"genuine", s.closed_evaluated}, {"rows", rows}}},
            {"recommended", rec}, {"warnings", s.warnings}, {"problems", i.problems}, {"bad_images", i.bad_images}, {"left_out", i.left_out}};
}

// A reproducible shuffle (std::shuffle's draws differ between standard libraries).
template <class T>
void shuffle_seeded(std::vector<T>& v, std::mt19937_64& rng) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng() % i]);
}

}  // namespace


// ---- verification ---------------------------------------------------------------------

float best_threshold(const std::vector<ScoredPair>& pairs, int exclude_fold) {
    std::vector<std::pair<float, bool>> v;  // (distance, same) of the finite training pairs
    for (const auto& p : pairs)
        if (p.fold != exclude_fold && !p.missing()) v.emplace_back(p.distance, p.same);
    if (v.empty()) return kDesignThreshold;
    std::sort(v.begin(), v.end());
    // Sweep the threshold upwards: start accepting nothing, then accept one distinct distance at a time.
    long correct = std::count_if(v.begin(), v.end(), [](const auto& x) { return !x.second; });
    long best = correct;
    float best_t = v.front().first - 0.01f;
    for (std::size_t i = 0; i < v.size();) {
        const float d = v[i].first;
        for (; i < v.size() && v[i].first == d; ++i) correct += v[i].second ? 1 : -1;
        const float t = i < v.size() ? d + (v[i].first - d) / 2 : d + 0.01f;
        if (correct > best) best = correct, best_t = t;  // strict: the lowest threshold wins ties
    }
    return best_t;
}

Rates rates_at(const std::vector<ScoredPair>& pairs, float threshold) {
    Rates r;
    r.threshold = threshold;
    int genuine = 0, impostor = 0, ta = 0, fa = 0;
    for (const auto& p : pairs) {
        (p.same ? genuine : impostor)++;
        if (accepted(p, threshold)) (p.same ? ta : fa)++;
        r.correct += correct(p, threshold);
    }
    r.pairs = static_cast<int>(pairs.size());
    r.tar = genuine ? double(ta) / genuine : 0.0;
    r.far = impostor ? double(fa) / impostor : 0.0;
    return r;
}

VerificationScore score_verification(const std::vector<ScoredPair>& pairs, int folds, float fixed_threshold,
                                     const std::vector<double>& target_fars) {
    VerificationScore s;
    double sum = 0, sum2 = 0;
    for (int f = 0; f < folds; ++f) {
        FoldResult fr;
        fr.fold = f;
        fr.threshold = best_threshold(pairs, f);
        for (const auto& p : pairs)
            if (p.fold == f) ++fr.pairs, fr.correct += correct(p, fr.threshold);
        sum += fr.accuracy();
        sum2 += fr.accuracy() * fr.accuracy();
        s.folds.push_back(fr);
    }
    s.accuracy_mean = sum / folds;
    s.accuracy_std = std::sqrt(std::max(0.0, sum2 / folds - s.accuracy_mean * s.accuracy_mean));
    s.fixed = rates_at(pairs, fixed_threshold);

    std::vector<float> impostor;
    for (const auto& p : pairs)
        if (!p.same) impostor.push_back(p.distance);
    for (double target : target_fars) {
        if (impostor.empty()) break;
        RocPoint r;
        r.target_far = target;
        r.threshold = far_threshold(impostor, target);  // the calibration rule, unclamped
        const Rates at = rates_at(pairs, r.threshold);
        r.tar = at.tar;
        r.far = at.far;
        r.impostor_pairs = static_cast<int>(impostor.size());
        r.enough_impostors = impostor.size() * target >= 1.0 - 1e-9;
        s.roc.push_back(r);
    }
    return s;
}

// ---- identification ---------------------------------------------------------------------

OpenSetRow open_set_row(const std::vector<OpenSetQuery>& genuine, const std::vector<OpenSetQuery>& strangers,
                        float threshold) {
    OpenSetRow r;
    r.threshold = threshold;
    for (const auto& q : strangers) r.false_accepts += q.label >= 0 && q.distance <= threshold;
    for (const auto& q : genuine) {
        if (q.label < 0 || q.distance > threshold) ++r.genuine_rejected;
        else if (q.label != q.truth) ++r.misidentified;
    }
    r.far = strangers.empty() ? 0.0 : double(r.false_accepts) / strangers.size();
    r.frr = genuine.empty() ? 0.0 : double(r.genuine_rejected) / genuine.size();
    return r;
}

IdentificationScore score_identification(const EncodingsFile& enc, const TrainOptions& train_options,
                                         const std::vector<float>& thresholds, double target_far) {
    // Exact search: the leave-outs below are measured, not approximated.
    const Gallery g(gallery_rows(enc), nullptr);
    const VoteParams vote = vote_params(train_options, g.size());
    const std::vector<std::size_t> originals = original_rows(enc);
    IdentificationScore s;
    s.people = g.names().size();
    s.originals = originals.size();
    s.gallery_rows = g.size();
    s.vote = vote.vote;
    s.k = vote.k;
    s.per_person_m = vote.per_person_m;
    s.target_far = target_far;

    // Closed-set: the query's own photo (and its augmented copies) left out, as in train's report.
    std::vector<OpenSetQuery> genuine, strangers;
    for (std::size_t row : originals) {
        const int label = g.label(row), source = g.source(row);
        const float* q = g.descriptor(row);
        // A person with no other photo cannot be recognised by construction.
        if (g.nearest_of_person(q, label, source) == std::numeric_limits<float>::infinity()) continue;
        const Match m = g.match(q, vote, Query{source, -1, false});
        genuine.push_back({label, m.label, m.distance});
        s.closed_correct += m.label == label;
    }
    s.closed_evaluated = static_cast<int>(genuine.size());

    // Open-set: each person in turn left out of the gallery; what predict() says of their photos.
    for (std::size_t row : originals) {
        const int label = g.label(row);
        const auto [begin, end] = g.person_rows(label);
        if (std::size_t(end - begin) == g.size()) continue;  // nobody else enrolled
        const Match m = g.match(g.descriptor(row), vote, Query{-1, label, false});
        strangers.push_back({-1, m.label, m.distance});
    }
    s.strangers = static_cast<int>(strangers.size());
    for (float t : thresholds) s.open_set.push_back(open_set_row(genuine, strangers, t));

    std::vector<float> stranger_scores;
    for (const auto& q : strangers) stranger_scores.push_back(q.distance);
    const Calibration cal = calibrate_threshold(stranger_scores, s.people, target_far);
    s.recommended_source = cal.describe();
    s.recommended = open_set_row(genuine, strangers, cal.threshold);
    if (s.people < 2) s.warnings.push_back("only one person: no strangers, the open-set figures are empty");
    if (genuine.empty()) s.warnings.push_back("nobody has 2 or more usable original photos: no closed-set queries");
    return s;
}

// ---- the command --------------------------------------------------------------------------

fs::path default_cache_dir() {
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return fs::path(x) / "facepipe" / "eval";
    if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".cache" / "facepipe" / "eval";
    return fs::path(".cache") / "facepipe" / "eval";
}

fs::path cache_file(const fs::path& cache_dir, const fs::path& root, DetectorKind detector) {
    std::error_code ec;
    fs::path abs = fs::weakly_canonical(fs::absolute(root), ec);
    if (ec) abs = fs::absolute(root);
    std::string name = abs.filename().string();
    if (name.empty() || !is_safe_person_name(name)) name = "images";  // a safe file-name fragment
    const std::string kind = detector == DetectorKind::hog ? "" : std::string("-") + to_string(detector);
    return cache_dir / (name + "-" + sha256_hex(abs.string()).substr(0, 16) + kind + ".bin");
}

EncodingsFile encode_cached(const fs::path& root, const fs::path& cache, bool include_augmented,
                            const EvalOptions& o, std::shared_ptr<const LoadedModels> models,
                            const ProgressCallback& progress, int* left_out) {
    std::error_code ec;
    if (!fs::exists(cache.parent_path(), ec)) {
        fs::create_directories(cache.parent_path(), ec);
        if (ec) throw Error(cache.parent_path().string(), "cannot create the cache folder: " + ec.message());
        fs::permissions(cache.parent_path(), fs::perms::owner_all, ec);  // descriptors are biometric data
    }
    EncodeOptions eo;
    eo.dataset = root;
    eo.output = cache;
    eo.threads = o.threads;
    eo.include_augmented = include_augmented;
    eo.analyzer = o.analyzer;
    eo.rebuild = cache_needs_rebuild(cache, models->files().model_id());
    const EncodeSummary s = encode_dataset(eo, models, progress);
    if (left_out) *left_out = s.left_out;
    spdlog::info("{}: {} images, {} encoded, {} from the cache {}", root.string(), s.images, s.encoded, s.reused,
                 cache.string());
    return read_encodings(cache.string());
}

EvalReport run_eval(const EvalOptions& o, std::shared_ptr<const LoadedModels> models, const ProgressCallback& progress) {
    if (o.pairs.empty() && o.dataset.empty()) throw UsageError("eval", "nothing to evaluate: give --pairs and/or --dataset");
    EvalReport r;
    r.face_choice = to_string(o.analyzer.choice);
    if (!o.pairs.empty()) {
        r.verification = run_verification(o, models, progress);
        r.has_verification = true;
    }
    if (!o.dataset.empty()) {
        r.identification = run_identification(o, models, progress);
        r.has_identification = true;
    }
    return r;
}

std::string format_eval_table(const EvalReport& r) {
    std::string out = "Face used in photos with several: " +
                      std::string(r.face_choice == "centre" ? "the one nearest the centre" : "the largest") + "\n";
    if (r.has_verification) out += "\n" + format_verification(r.verification);
    if (r.has_identification) out += "\n" + format_identification(r.identification);
    return out;
}

std::string format_eval_json(const EvalReport& r) {
    nlohmann::ordered_json j;
    j["face"] = r.face_choice;
    j["verification"] = r.has_verification ? verification_json(r.verification) : nlohmann::ordered_json();
    j["identification"] = r.has_identification ? identification_json(r.identification) : nlohmann::ordered_json();
    return j.dump(2) + "\n";
}

// ---- making a pairs file ------------------------------------------------------------------

MadePairs make_pairs(const fs::path& dataset, const fs::path& out, int folds, unsigned seed) {
    if (folds < 2) throw Error("--folds", "at least 2 folds are needed");
    std::error_code ec;
    if (fs::exists(out, ec) && !(fs::is_directory(out, ec) && fs::is_empty(out, ec)))
        throw Error(out.string(), "already exists and is not an empty folder");
    const DatasetScan scan = scan_dataset(dataset, false);
    for (const auto& w : scan.warnings) spdlog::warn("{}", w);
    std::map<std::string, std::vector<const DatasetImage*>> by_person;  // path order, so numbering is stable
    for (const auto& img : scan.images) by_person[img.person].push_back(&img);

    MadePairs made;
    made.folds = folds;
    made.pairs_file = out / "pairs.txt";
    std::vector<std::pair<std::string, int>> images;  // (person, 1-based number)
    for (const auto& [person, imgs] : by_person) {
        if (imgs.size() > 9999) throw Error(dataset.string(), person + " has more than 9999 photos");
        fs::create_directories(out / person, ec);
        if (ec) throw Error((out / person).string(), "cannot create: " + ec.message());
        for (std::size_t i = 0; i < imgs.size(); ++i) {
            const PairImage pi{person, static_cast<int>(i + 1)};
            const fs::path link = out / (pair_image_stem(pi) + imgs[i]->abs.extension().string());
            fs::create_symlink(fs::absolute(imgs[i]->abs), link, ec);
            if (ec) throw Error(link.string(), "cannot create the link: " + ec.message());
            images.emplace_back(person, pi.index);
        }
        ++made.people;
    }
    made.images = static_cast<int>(images.size());

    std::mt19937_64 rng(seed);
    std::vector<std::string> same, different;
    for (const auto& [person, imgs] : by_person)
        for (std::size_t i = 1; i <= imgs.size(); ++i)
            for (std::size_t j = i + 1; j <= imgs.size(); ++j)
                same.push_back(person + "\t" + std::to_string(i) + "\t" + std::to_string(j));
    unsigned long long total_different = 0;  // image pairs of two different people
    for (const auto& [person, imgs] : by_person) total_different += imgs.size() * (images.size() - imgs.size());
    total_different /= 2;
    made.per_fold = static_cast<int>(std::min<unsigned long long>(same.size(), total_different) / folds);
    if (made.per_fold == 0)
        throw Error(dataset.string(), "only " + std::to_string(same.size()) + " same-person and " +
                                          std::to_string(total_different) + " different-person pairs: " +
                                          std::to_string(folds) + " folds need at least one of each per fold");
    shuffle_seeded(same, rng);
    const std::size_t needed = std::size_t(made.per_fold) * folds;
    auto line = [&](std::size_t a, std::size_t b) {
        return images[a].first + "\t" + std::to_string(images[a].second) + "\t" + images[b].first + "\t" +
               std::to_string(images[b].second);
    };
    if (total_different <= 4 * needed + 1000) {  // few: list them all and draw without replacement
        for (std::size_t a = 0; a < images.size(); ++a)
            for (std::size_t b = a + 1; b < images.size(); ++b)
                if (images[a].first != images[b].first) different.push_back(line(a, b));
        shuffle_seeded(different, rng);
    } else {  // many (a large dataset): draw at random, skipping repeats
        std::set<std::pair<std::size_t, std::size_t>> seen;
        while (different.size() < needed) {
            std::size_t a = rng() % images.size(), b = rng() % images.size();
            if (images[a].first == images[b].first) continue;
            if (a > b) std::swap(a, b);
            if (seen.emplace(a, b).second) different.push_back(line(a, b));
        }
    }
    std::string text = std::to_string(folds) + "\t" + std::to_string(made.per_fold) + "\n";
    for (int f = 0; f < folds; ++f) {
        for (int i = 0; i < made.per_fold; ++i) text += same[f * made.per_fold + i] + "\n";
        for (int i = 0; i < made.per_fold; ++i) text += different[f * made.per_fold + i] + "\n";
    }
    write_file_atomic(made.pairs_file.string(), text, 0644);
    return made;
}

}  // namespace facepipe
