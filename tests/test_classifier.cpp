// Tests of lib/classifier.h on synthetic descriptors whose geometry is built
// by hand, so every expected distance and vote can be worked out on paper.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <random>
#include <utility>

#include <nlohmann/json.hpp>

#include "classifier.h"
#include "train.h"
#include "container.h"
#include "error.h"
#include "testutil.h"

using namespace facepipe;

namespace {

// doctest::Contains takes its own string type; this builds one from std::string.
doctest::Contains contains(const std::string& s) { return doctest::Contains(s.c_str()); }

// A descriptor that is zero except on the given axes.
Descriptor at(std::initializer_list<std::pair<int, float>> coords) {
    Descriptor d{};
    for (auto [axis, v] : coords) d[axis] = v;
    return d;
}

EncodingRecord original(const std::string& person, const std::string& file, const Descriptor& d) {
    EncodingRecord r;
    r.person = person;
    r.path = r.source = person + "/" + file;
    r.faces_found = 1;
    r.box = {0, 0, 100, 100};
    r.descriptor = d;
    return r;
}

EncodingRecord augmented(const EncodingRecord& of, const std::string& op, const Descriptor& d) {
    EncodingRecord r = of;
    r.path = of.person + "/augmented/" + of.path.substr(of.person.size() + 1) + "~" + op + ".jpg";
    r.augmentation = op;
    r.descriptor = d;
    return r;
}

TrainOptions with(VoteMode vote, float threshold) {
    TrainOptions o;
    o.vote = vote;
    o.threshold = threshold;
    return o;
}

// A has 2 photos at 0.2 and 0.25 from the origin; B has 20 photos, each 0.3 from
// the origin along its own axis; C has 20 photos far away. 42 rows, so k = 6.
// At the origin, knn's 6 nearest are A, A, B, B, B, B: weights A 5 + 4 = 9,
// B 4 / 0.3 = 13.3, so B wins. Per-person means: A 0.225, B 0.3: A wins.
EncodingsFile outvoted_set() {
    EncodingsFile f{"model-x", {}};
    f.records.push_back(original("A", "1.jpg", at({{1, 0.2f}})));
    f.records.push_back(original("A", "2.jpg", at({{2, 0.25f}})));
    for (int i = 0; i < 20; ++i) {
        f.records.push_back(original("B", std::to_string(i) + ".jpg", at({{3 + i, 0.3f}})));
        f.records.push_back(original("C", std::to_string(i) + ".jpg", at({{0, 5.f}, {30 + i, 0.3f}})));
    }
    return f;
}

// Writes a model.bin/labels.bin pair in the v1 layout without save_model's
// checks, as a hostile or buggy writer would.
void write_raw_model(const std::string& model_path, const std::string& labels_path, std::int32_t label,
                     float threshold, std::uint32_t k, std::uint64_t rows = 1) {
    PayloadWriter w;
    w.str("model-x");
    w.u32(k);
    w.u8(0);
    w.u32(3);
    w.f32(threshold);
    w.str("test");
    w.u32(1);  // labels
    w.count(1);
    w.str("A/1.jpg");
    w.count(rows);
    if (rows == 1) {
        w.i32(label);
        w.i32(0);
        const Descriptor d{};
        w.floats(d.data(), kDescriptorDim);
    }
    w.str("id");
    write_container(model_path, std::string_view("FPMODEL\0", 8), 1, w.bytes());
    PayloadWriter l;
    l.str("id");
    l.count(1);
    l.str("A");
    write_container(labels_path, "FPLABELS", 1, l.bytes());
}

}  // namespace

TEST_CASE("auto k is round(sqrt(N)), at least 1") {
    CHECK(auto_k(0) == 1);
    CHECK(auto_k(1) == 1);
    CHECK(auto_k(2) == 1);
    CHECK(auto_k(3) == 2);
    CHECK(auto_k(42) == 6);
    CHECK(auto_k(201) == 14);
    CHECK(auto_k(100000) == 316);
    CHECK(train(outvoted_set(), with(VoteMode::knn, 0.5f), nullptr).vote.k == 6);
    TrainOptions fixed = with(VoteMode::knn, 0.5f);
    fixed.k = 9;
    CHECK(train(outvoted_set(), fixed, nullptr).vote.k == 9);
}

TEST_CASE("per-person vote keeps a 2-photo person from being outvoted; plain knn fails") {
    const Descriptor query{};  // the origin
    const Classifier knn(train(outvoted_set(), with(VoteMode::knn, 0.5f), nullptr));
    const Classifier pp(train(outvoted_set(), with(VoteMode::per_person, 0.5f), nullptr));
    REQUIRE(knn.vote().k == 6);

    const Prediction a = knn.predict(query);
    CHECK(a.name == "B");  // the measured failure of plain knn
    CHECK(a.distance == doctest::Approx(0.3));

    const Prediction b = pp.predict(query);
    CHECK(b.name == "A");
    CHECK(b.label == 0);
    CHECK(b.distance == doctest::Approx(0.2));
    CHECK(TrainOptions{}.vote == VoteMode::per_person);  // the default
}

TEST_CASE("a face beyond the threshold is unknown, unless the threshold is overridden") {
    const Classifier c(train(outvoted_set(), with(VoteMode::per_person, 0.5f), nullptr));
    const Descriptor stranger = at({{100, 2.f}});
    const Prediction p = c.predict(stranger);
    CHECK(p.label == -1);
    CHECK(p.name == "unknown");
    CHECK(p.distance == doctest::Approx(std::sqrt(4.0 + 0.04)));  // A's nearest photo
    CHECK(c.predict(stranger, 3.f).name == "A");

    // Exactly-at-threshold is accepted: the rule is distance <= threshold.
    CHECK(c.predict(at({{1, 0.2f}, {100, 0.5f}})).name == "A");
    CHECK(c.predict(at({{1, 0.2f}, {100, 0.51f}})).name == "unknown");
}

TEST_CASE("calibrate_threshold takes the documented quantile, clamps, and falls back") {
    std::vector<float> s;  // 0.450, 0.452, ..., 0.648, shuffled
    for (int j = 0; j < 100; ++j) s.push_back(0.45f + 0.002f * j);
    std::shuffle(s.begin(), s.end(), std::mt19937(7));
    auto accepted = [&](float t) { return std::count_if(s.begin(), s.end(), [&](float x) { return x <= t; }); };

    const Calibration c5 = calibrate_threshold(s, 5, 0.05);  // a = 5: just below the 6th smallest
    const float t5 = c5.threshold;
    CHECK(t5 < 0.45f + 0.002f * 5);
    CHECK(t5 == doctest::Approx(0.46).epsilon(1e-5));
    CHECK(accepted(t5) == 5);
    CHECK(c5.rule == ThresholdRule::calibrated);
    CHECK(c5.describe() == "calibrated for 5% false accepts on 100 impostor scores from 5 people");

    const float t1 = calibrate_threshold(s, 5, 0.01).threshold;  // a = 1
    CHECK(accepted(t1) == 1);
    CHECK(t1 == doctest::Approx(0.452).epsilon(1e-5));

    const Calibration high = calibrate_threshold(s, 5, 0.9);  // 91st smallest is 0.63
    CHECK(high.threshold == 0.60f);
    CHECK(high.rule == ThresholdRule::calibrated_clamped);
    CHECK(high.quantile > 0.62f);
    CHECK(high.describe().find("clamped to 0.60") != std::string::npos);
    std::vector<float> low(100, 0.1f);
    CHECK(calibrate_threshold(low, 5, 0.01).threshold == 0.40f);

    const Calibration one = calibrate_threshold(s, 1, 0.01);
    CHECK(one.threshold == 0.5f);
    CHECK(one.rule == ThresholdRule::default_few_people);
    CHECK(one.describe() == "default 0.5 (too few people to calibrate)");
    s.resize(99);
    const Calibration few = calibrate_threshold(s, 5, 0.01);
    CHECK(few.threshold == 0.5f);
    CHECK(few.rule == ThresholdRule::default_few_scores);
    CHECK(few.describe() == "default 0.5 (only 99 impostor scores; calibrating for 1% false accepts needs at least 100)");
    s.resize(20);
    CHECK(calibrate_threshold(s, 5, 0.05).rule == ThresholdRule::calibrated);  // 20 = 1 / 0.05 suffices
}

TEST_CASE("train calibrates from impostor scores of original photos only") {
    // A: 100 originals far apart (10 on axis j). B: one far original, plus one
    // augmented copy beside each A photo at distance 0.45 + 0.002 j (axis 120).
    // Impostor scores: A's 100 photos -> 0.45 + 0.002 j; B's original -> ~14.1.
    // The augmented B rows are not originals, so they add no scores of their own.
    EncodingsFile f{"model-x", {}};
    const EncodingRecord b = original("B", "b.jpg", at({{0, -10.f}}));
    f.records.push_back(b);
    for (int j = 0; j < 100; ++j) {
        f.records.push_back(original("A", std::to_string(j) + ".jpg", at({{j, 10.f}})));
        f.records.push_back(augmented(b, "op" + std::to_string(j), at({{j, 10.f}, {120, 0.45f + 0.002f * j}})));
    }
    TrainOptions o;
    o.target_far = 0.05;  // 101 scores: a = 5, the 6th smallest is 0.46
    TrainReport report;
    const TrainedModel m = train(f, o, &report);
    CHECK(report.threshold.scores == 101);
    CHECK(m.threshold == doctest::Approx(0.46).epsilon(1e-4));
    CHECK(m.threshold < 0.46f);
    CHECK(m.threshold_source == "calibrated for 5% false accepts on 101 impostor scores from 2 people");
    CHECK(report.threshold.threshold == m.threshold);
    CHECK(report.threshold.rule == ThresholdRule::calibrated);

    o.target_far = 0.001;  // needs 1000 scores
    const TrainedModel fallback = train(f, o, &report);
    CHECK(fallback.threshold == 0.5f);
    CHECK(fallback.threshold_source.rfind("default 0.5 (only 101 impostor scores", 0) == 0);
    CHECK(report.threshold.rule == ThresholdRule::default_few_scores);
    CHECK(std::any_of(report.warnings.begin(), report.warnings.end(),
                      [](const std::string& w) { return w.rfind("threshold: default 0.5", 0) == 0; }));
}

TEST_CASE("leave-one-out removes a photo's augmented siblings, so they cannot leak") {
    // A/1 at the origin with an augmented sibling 0.05 away; A/2 1.5 away.
    // B's two photos are 0.3 and 0.36 from A/1 and 0.2 from each other.
    // Leaking the sibling would make A/1 right; without it B is nearest: wrong.
    EncodingsFile f{"model-x", {}};
    const EncodingRecord a1 = original("A", "1.jpg", at({}));
    f.records.push_back(a1);
    f.records.push_back(augmented(a1, "flip", at({{1, 0.05f}})));
    f.records.push_back(original("A", "2.jpg", at({{4, 1.5f}})));
    f.records.push_back(original("B", "1.jpg", at({{2, 0.3f}})));
    f.records.push_back(original("B", "2.jpg", at({{2, 0.3f}, {3, 0.2f}})));

    TrainReport r;
    TrainOptions o = with(VoteMode::per_person, 0.5f);
    o.per_person_m = 2;  // so that A/1 plus its sibling average 0.025 when leaked
    const TrainedModel m = train(f, o, &r);
    CHECK(Classifier(m).predict(a1.descriptor).name == "A");  // what a leaky LOO would see

    REQUIRE(r.people.size() == 2);
    const PersonReport& A = r.people[0];
    CHECK(A.name == "A");
    CHECK(A.originals == 2);
    CHECK(A.gallery_rows == 3);
    CHECK(A.loo.correct == 0);
    CHECK(A.loo.wrong_person == 1);  // A/1 -> B at 0.3
    CHECK(A.loo.rejected == 1);      // A/2: nearest A row is 1.5 away
    CHECK(r.people[1].loo.correct == 2);
    CHECK(r.loo_per_person.evaluated == 4);
    CHECK(r.loo_per_person.correct == 2);
    CHECK(r.loo_knn.evaluated == 4);  // k = round(sqrt(5)) = 2
    CHECK(r.loo_knn.correct == 2);
    CHECK(r.loo_knn.wrong_person == 1);
    CHECK(r.genuine_evaluated == 4);
    CHECK(r.genuine_rejected == 2);
    CHECK(r.genuine_rejection_rate() == doctest::Approx(0.5));
    CHECK(r.originals == 4);
    CHECK(r.gallery_rows == 5);
}

TEST_CASE("the report compares both vote modes and flags weak people") {
    EncodingsFile f = outvoted_set();
    f.records.push_back(original("D", "only.jpg", at({{60, 3.f}})));
    EncodingRecord skipped = original("D", "dark.jpg", Descriptor{});
    skipped.status = EncodeStatus::no_face;
    f.records.push_back(skipped);
    TrainReport r;
    train(f, with(VoteMode::per_person, 0.5f), &r);
    CHECK(r.records == 44);
    CHECK(r.skipped == 1);
    CHECK(r.people.size() == 4);
    CHECK(r.people[3].name == "D");
    CHECK(r.people[3].weak);
    CHECK(r.people[3].loo.evaluated == 0);  // nothing of D left to match
    CHECK_FALSE(r.people[0].weak);
    CHECK(r.loo_per_person.evaluated == 42);
    CHECK(r.loo_knn.evaluated == 42);
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0].find("fewer than 2 original photos") != std::string::npos);
    CHECK(r.warnings[0].find("D") != std::string::npos);

    const std::string text = format_train_report(r);
    CHECK(text.find("per-person *") != std::string::npos);
    CHECK(text.find("knn ") != std::string::npos);
    CHECK(text.find("weak") != std::string::npos);
    CHECK(text.find("Threshold: 0.500, --threshold 0.5") != std::string::npos);

    const nlohmann::json j = train_report_json(r);
    CHECK(j["records"] == 44);
    CHECK(j["skipped"] == 1);
    CHECK(j["vote"]["mode"] == "per-person");
    CHECK(j["threshold"]["rule"] == "fixed");
    CHECK(j["threshold"]["value"].get<double>() == doctest::Approx(0.5));
    CHECK(j["search"]["kind"] == "exact");
    CHECK(j["leave_one_out"]["per_person"]["evaluated"] == 42);
    CHECK(j["leave_one_out"]["knn"]["evaluated"] == 42);
    REQUIRE(j["people"].size() == 4);
    CHECK(j["people"][3]["name"] == "D");
    CHECK(j["people"][3]["weak"] == true);
    CHECK(j["warnings"].size() == 1);
}

TEST_CASE("training refuses unusable data and warns about a single person") {
    EncodingsFile f{"model-x", {}};
    CHECK_THROWS_WITH_AS(train(f, {}, nullptr), doctest::Contains("no usable encodings"), Error);
    EncodingRecord r = original("A", "1.jpg", Descriptor{});
    r.status = EncodeStatus::no_face;
    f.records.push_back(r);
    CHECK_THROWS_WITH_AS(train(f, {}, nullptr), doctest::Contains("no usable encodings"), Error);

    f.records = {original("A", "1.jpg", at({{0, 0.1f}})), original("A", "2.jpg", at({{1, 0.1f}}))};
    TrainReport report;
    const TrainedModel m = train(f, {}, &report);
    CHECK(m.threshold == 0.5f);
    CHECK(m.threshold_source == "default 0.5 (too few people to calibrate)");
    CHECK(report.warnings.front().find("only one person (A)") != std::string::npos);
    CHECK(Classifier(m).predict(at({{0, 0.1f}})).name == "A");

    TrainOptions bad;
    bad.target_far = 0;
    CHECK_THROWS_AS(train(f, bad, nullptr), Error);
    bad = {};
    bad.per_person_m = 0;
    CHECK_THROWS_AS(train(f, bad, nullptr), Error);
}

TEST_CASE("model and labels round-trip through save_model and Classifier::load") {
    test::TempDir dir;
    const auto mp = (dir / "model.bin").string(), lp = (dir / "labels.bin").string();
    const TrainedModel m = train(outvoted_set(), with(VoteMode::per_person, 0.45f), nullptr);
    save_model(m, mp, lp);
    struct stat st {};
    REQUIRE(::stat(mp.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    const Classifier c = Classifier::load(mp, lp);
    CHECK(c.model_id() == "model-x");
    CHECK(c.training_id() == m.training_id);
    CHECK(c.training_id().size() == 64);
    CHECK(c.size() == 42);
    CHECK(c.names() == std::vector<std::string>{"A", "B", "C"});
    CHECK(c.threshold() == 0.45f);
    CHECK(c.threshold_source() == "--threshold 0.45");
    CHECK(c.vote().k == 6);
    CHECK(c.vote().vote == VoteMode::per_person);
    CHECK(c.gallery().rows().descriptors == m.gallery.rows().descriptors);
    CHECK(c.gallery().rows().sources == m.gallery.rows().sources);
    CHECK(c.gallery().rows().source_paths == m.gallery.rows().source_paths);
    CHECK(c.predict(Descriptor{}).name == "A");
    // Training is deterministic, so the id is too.
    CHECK(train(outvoted_set(), with(VoteMode::per_person, 0.45f), nullptr).training_id == m.training_id);
}

TEST_CASE("labels from another training are refused") {
    test::TempDir dir;
    const auto m1 = (dir / "m1.bin").string(), l1 = (dir / "l1.bin").string();
    const auto m2 = (dir / "m2.bin").string(), l2 = (dir / "l2.bin").string();
    save_model(train(outvoted_set(), with(VoteMode::per_person, 0.5f), nullptr), m1, l1);
    save_model(train(outvoted_set(), with(VoteMode::per_person, 0.4f), nullptr), m2, l2);
    CHECK_NOTHROW(Classifier::load(m2, l2));
    CHECK_THROWS_WITH_AS(Classifier::load(m1, l2),
                         contains(l2 + ": does not belong to " + m1 + " (training ids differ); re-run train"),
                         Error);
    CHECK_THROWS_WITH_AS(Classifier::load(l1, m1), doctest::Contains("not a facepipe model file (bad magic)"), Error);
    CHECK_THROWS_WITH_AS(Classifier::load(m1, m1), doctest::Contains("not a facepipe labels file (bad magic)"),
                         Error);
}

TEST_CASE("load validates the model's contents" * doctest::timeout(2)) {
    test::TempDir dir;
    const auto mp = (dir / "model.bin").string(), lp = (dir / "labels.bin").string();
    write_raw_model(mp, lp, 0, 0.5f, 1);
    CHECK(Classifier::load(mp, lp).size() == 1);  // the raw writer matches the real layout

    write_raw_model(mp, lp, 5, 0.5f, 1);
    CHECK_THROWS_WITH_AS(Classifier::load(mp, lp), contains(mp + ": corrupted: row 0 has label 5"), Error);
    write_raw_model(mp, lp, -1, 0.5f, 1);
    CHECK_THROWS_WITH_AS(Classifier::load(mp, lp), doctest::Contains("out of range"), Error);
    write_raw_model(mp, lp, 0, std::nanf(""), 1);
    CHECK_THROWS_WITH_AS(Classifier::load(mp, lp), doctest::Contains("threshold"), Error);
    write_raw_model(mp, lp, 0, 2.5f, 1);
    CHECK_THROWS_WITH_AS(Classifier::load(mp, lp), doctest::Contains("threshold"), Error);
    write_raw_model(mp, lp, 0, 0.5f, 0);
    CHECK_THROWS_WITH_AS(Classifier::load(mp, lp), doctest::Contains("k must be at least 1"), Error);
    write_raw_model(mp, lp, 0, 0.5f, 1, 1ull << 40);
    CHECK_THROWS_WITH_AS(Classifier::load(mp, lp), contains(mp + ": corrupted: count of 1099511627776"),
                         Error);
}

TEST_CASE("model.bin records the detector of its encodings: hog as version 3, ssd as version 4") {
    test::TempDir dir;
    const auto mp = (dir / "model.bin").string(), lp = (dir / "labels.bin").string();
    const std::string_view magic("FPMODEL\0", 8);
    EncodingsFile enc = outvoted_set();
    save_model(train(enc, with(VoteMode::per_person, 0.45f), nullptr), mp, lp);
    CHECK(read_container(mp, magic, "model", 4).version == 3);  // the bytes of before the detector
    CHECK(Classifier::load(mp, lp).model().detector == DetectorKind::hog);

    enc.detector = DetectorKind::ssd;
    const TrainedModel m = train(enc, with(VoteMode::per_person, 0.45f), nullptr);
    CHECK(m.detector == DetectorKind::ssd);
    save_model(m, mp, lp);
    CHECK(read_container(mp, magic, "model", 4).version == 4);
    const Classifier c = Classifier::load(mp, lp);
    CHECK(c.model().detector == DetectorKind::ssd);
    CHECK(c.training_id() == m.training_id);
    CHECK(c.gallery().rows().descriptors == m.gallery.rows().descriptors);
}
