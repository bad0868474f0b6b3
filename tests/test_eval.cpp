// Tests of lib/eval.h: the pairs parser, and both protocols on tiny synthetic
// cases whose answers are worked out by hand below (distances are multiples of
// 1/32, so every midpoint and comparison is exact in float).
#include <doctest/doctest.h>

#include <cfloat>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

#include "error.h"
#include "eval.h"
#include "testutil.h"

using namespace facepipe;
namespace fs = std::filesystem;

namespace {

doctest::Contains contains(const std::string& s) { return doctest::Contains(s.c_str()); }

float u(float k) { return k / 32.f; }  // distances in 32nds

ScoredPair same(int fold, float d32) { return {true, fold, u(d32)}; }
ScoredPair diff(int fold, float d32) { return {false, fold, u(d32)}; }

// 3 folds of 2 same + 2 different pairs; one same-person pair in fold 3 misses a face.
//   fold 1: same 10 16, different 22 14
//   fold 2: same 11 21, different 26 19
//   fold 3: same 13 (missing), different 29 18
std::vector<ScoredPair> three_folds() {
    return {same(0, 10), same(0, 16), diff(0, 22), diff(0, 14),
            same(1, 11), same(1, 21), diff(1, 26), diff(1, 19),
            same(2, 13), {true, 2, kMissingDistance}, diff(2, 29), diff(2, 18)};
}

std::string parse_error(const std::string& text) {
    try {
        parse_pairs(text, "p.txt");
    } catch (const Error& e) {
        return e.what();
    }
    return "(accepted)";
}

}  // namespace

TEST_CASE("eval: pairs file in LFW's format parses into folds") {
    const std::string text =
        "2\t2\r\n"
        "amy\t1\t2\r\n"
        "bob 3 4\n"
        "amy\t1\tbob\t2\n"
        "amy 2 bob 1\n"
        "bob 1 2\n"
        "cy 1 2\n"
        "bob 1 cy 1\n"
        "amy 3 cy 2\n"
        "\n\n";
    const PairsFile pf = parse_pairs(text, "p.txt");
    CHECK(pf.folds == 2);
    CHECK(pf.per_fold == 2);
    REQUIRE(pf.pairs.size() == 8);
    CHECK(pf.pairs[0].same);
    CHECK(pf.pairs[0].a.name == "amy");
    CHECK(pf.pairs[0].a.index == 1);
    CHECK(pf.pairs[0].b.index == 2);
    CHECK(pf.pairs[0].line == 2);
    CHECK_FALSE(pf.pairs[2].same);
    CHECK(pf.pairs[2].b.name == "bob");
    CHECK(pf.pairs[3].fold == 0);
    CHECK(pf.pairs[4].fold == 1);
    CHECK(pf.pairs[4].same);
    CHECK(pf.pairs[7].fold == 1);
    CHECK(pf.pairs[7].line == 9);
    CHECK(pair_image_stem(pf.pairs[1].b) == "bob/bob_0004");
}

TEST_CASE("eval: malformed pairs files are refused with file:line") {
    const std::string ok_tail = "amy 1 2\nbob 1 2\namy 1 bob 1\namy 2 bob 2\n";
    CHECK(parse_error("") == "p.txt: empty pairs file (expected a header 'folds n')");
    CHECK(parse_error("10\n") == "p.txt:1: expected a header 'folds n' (two numbers)");
    CHECK(parse_error("1 2\n" + ok_tail) == "p.txt:1: folds '1' is not an integer in 2..1000");
    CHECK(parse_error("2 x\n") == "p.txt:1: pairs per fold 'x' is not an integer in 1..1000000");
    CHECK(parse_error("2 -1\n") == "p.txt:1: pairs per fold '-1' is not an integer in 1..1000000");
    // Too few lines for the header's promise, then one too many.
    CHECK(parse_error("2 1\namy 1 2\namy 1 bob 1\n") ==
          "p.txt: expected 4 pair lines (2 folds x 2 x 1), found 2");
    CHECK(parse_error("2 1\namy 1 2\namy 1 bob 1\nbob 1 2\namy 1 bob 2\ncy 1 2\n") ==
          "p.txt:6: more pair lines than the header's 4");
    // A different-person line where a same-person one belongs, and the reverse.
    CHECK(parse_error("2 1\namy 1 bob 2\n" + ok_tail) ==
          "p.txt:2: expected a same-person line 'name i j' (fold 1), found 4 fields");
    CHECK(parse_error("2 1\namy 1 2\namy 1 2\nbob 1 2\namy 1 bob 2\n") ==
          "p.txt:3: expected a different-person line 'name1 i name2 j' (fold 1), found 3 fields");
    CHECK(parse_error("2 1\namy 0 2\namy 1 bob 1\nbob 1 2\namy 1 bob 2\n") ==
          "p.txt:2: image number '0' is not an integer in 1..9999");
    CHECK(parse_error("2 1\namy 1 10000\namy 1 bob 1\nbob 1 2\namy 1 bob 2\n") ==
          "p.txt:2: image number '10000' is not an integer in 1..9999");
    CHECK(parse_error("2 1\namy 1 +2\namy 1 bob 1\nbob 1 2\namy 1 bob 2\n") ==
          "p.txt:2: image number '+2' is not an integer in 1..9999");
    CHECK(parse_error("2 1\namy 1 2\namy 1 amy 2\nbob 1 2\namy 1 bob 2\n") ==
          "p.txt:3: a different-person line names 'amy' twice");
    CHECK(parse_error("2 1\namy 1 2\n\namy 1 bob 1\nbob 1 2\namy 1 bob 2\n") == "p.txt:3: blank line among the pairs");
    CHECK_MESSAGE(parse_error("2 1\n.. 1 2\namy 1 bob 1\nbob 1 2\namy 1 bob 2\n").rfind("p.txt:2: bad name '..'", 0) == 0,
                  "a name that would escape ROOT");
}

TEST_CASE("eval: per-fold thresholds, accuracy mean and std, worked by hand") {
    const auto pairs = three_folds();
    // Fold 1's threshold from folds 2 and 3. Sorted finite distances:
    //   11S 13S 18D 19D 21S 26D 29D; accepting nothing gets the 4 D right; accepting
    //   up to 11 gets 5, up to 13 gets 6 (the best), then it drops. Midpoint 13..18.
    CHECK(best_threshold(pairs, 0) == u(15.5f));
    // Fold 2, from folds 1 and 3: 10S 13S 14D 16S 18D 22D 29D. 6 right up to 13
    // and again up to 16: the lower (13..14 -> 13.5) wins the tie.
    CHECK(best_threshold(pairs, 1) == u(13.5f));
    // Fold 3, from folds 1 and 2: 10S 11S 14D 16S 19D 21S 22D 26D: 6 right at
    // 11, 16 and 21; the lowest, 11..14 -> 12.5.
    CHECK(best_threshold(pairs, 2) == u(12.5f));

    const VerificationScore s = score_verification(pairs, 3, 0.6f, {0.01, 0.5});
    REQUIRE(s.folds.size() == 3);
    // Fold 1 at 15.5: same 10 yes, 16 no; different 22 yes, 14 no (accepted) -> 2/4.
    CHECK(s.folds[0].correct == 2);
    // Fold 2 at 13.5: same 11 yes, 21 no; different 26, 19 both rejected -> 3/4.
    CHECK(s.folds[1].correct == 3);
    // Fold 3 at 12.5: same 13 no (above), the missing pair no; different both right -> 2/4.
    CHECK(s.folds[2].correct == 2);
    CHECK(s.folds[2].pairs == 4);
    CHECK(s.accuracy_mean == doctest::Approx(7.0 / 12));
    CHECK(s.accuracy_std == doctest::Approx(std::sqrt(1.0 / 72)));  // deviations -1/12, +2/12, -1/12

    // Fixed 0.6 = 19.2/32: same accepted 10 16 11 13 (21 and the missing one not);
    // different accepted 14 19 18 -> correct 4 + 3 of 12, TAR 4/6, FAR 3/6.
    CHECK(s.fixed.correct == 7);
    CHECK(s.fixed.pairs == 12);
    CHECK(s.fixed.tar == doctest::Approx(4.0 / 6));
    CHECK(s.fixed.far == doctest::Approx(3.0 / 6));

    // FAR 1% of 6 different pairs allows none: just below the smallest (14).
    REQUIRE(s.roc.size() == 2);
    CHECK(s.roc[0].threshold == std::nextafter(u(14), 0.f));
    CHECK(s.roc[0].far == 0.0);
    CHECK(s.roc[0].tar == doctest::Approx(3.0 / 6));  // 10 11 13
    CHECK_FALSE(s.roc[0].enough_impostors);
    // FAR 50% allows 3 of 6 (14 18 19): just below 22; same accepted 10 16 11 21 13.
    CHECK(s.roc[1].threshold == std::nextafter(u(22), 0.f));
    CHECK(s.roc[1].far == doctest::Approx(0.5));
    CHECK(s.roc[1].tar == doctest::Approx(5.0 / 6));
    CHECK(s.roc[1].enough_impostors);
}

TEST_CASE("eval: a pair missing a face is an error at every threshold") {
    auto pairs = three_folds();
    // Missing pairs never move a threshold: adding one of each kind to fold 2 changes nothing.
    auto more = pairs;
    more.push_back({true, 1, kMissingDistance});
    more.push_back({false, 1, kMissingDistance});
    CHECK(best_threshold(more, 0) == best_threshold(pairs, 0));
    // ...but both count as wrong in their fold, whatever the threshold.
    const VerificationScore s = score_verification(more, 3, 0.6f, {0.01});
    CHECK(s.folds[1].pairs == 6);
    CHECK(s.folds[1].correct == 3);
    for (float t : {-1.f, 0.f, 0.5f, 2.f, FLT_MAX}) CHECK(rates_at({more[12], more[13]}, t).correct == 0);
    // TAR and FAR: the missing same-person pair is a false reject, the missing
    // different-person pair no false accept, and both stay in the denominators.
    const Rates all = rates_at({more[12], more[13]}, FLT_MAX);
    CHECK(all.tar == 0.0);
    CHECK(all.far == 0.0);
    CHECK(s.fixed.tar == doctest::Approx(4.0 / 7));  // 10 16 11 13 of 7 same-person pairs
    CHECK(s.fixed.far == doctest::Approx(3.0 / 7));  // 14 19 18 of 7 different-person pairs
    CHECK(s.roc[0].far == 0.0);
    CHECK(s.roc[0].impostor_pairs == 7);
    CHECK(s.roc[0].tar == doctest::Approx(3.0 / 7));  // below 14: 10 11 13
}

namespace {

Descriptor on_axis(float x) {
    Descriptor d{};
    d[0] = x;
    return d;
}

EncodingRecord photo(const std::string& person, const std::string& file, float x) {
    EncodingRecord r;
    r.person = person;
    r.path = r.source = person + "/" + file;
    r.faces_found = 1;
    r.box = {0, 0, 100, 100};
    r.descriptor = on_axis(x);
    return r;
}

}  // namespace

TEST_CASE("eval: open-set rows count false accepts, rejections and misidentifications") {
    const std::vector<OpenSetQuery> genuine = {{0, 0, 0.3f}, {0, 1, 0.45f}, {1, 1, 0.7f}, {1, -1, 0.2f}};
    const std::vector<OpenSetQuery> strangers = {{-1, 0, 0.4f}, {-1, 1, 0.55f}, {-1, -1, 0.1f}};
    const OpenSetRow r = open_set_row(genuine, strangers, 0.5f);
    CHECK(r.false_accepts == 1);     // 0.4 (0.55 is above; label -1 is no one)
    CHECK(r.genuine_rejected == 2);  // 0.7 above, and no one chosen
    CHECK(r.misidentified == 1);     // 0.45 accepted as person 1
    CHECK(r.far == doctest::Approx(1.0 / 3));
    CHECK(r.frr == doctest::Approx(0.5));
}

TEST_CASE("eval: identification on a hand-made gallery") {
    // On one axis: a at 0 and 1/8, b at 1 and 9/8, c (one photo) at 1/2. Per-person vote.
    EncodingsFile enc;
    enc.model_id = "test";
    enc.records = {photo("a", "1.jpg", 0), photo("a", "2.jpg", 0.125f), photo("b", "1.jpg", 1),
                   photo("b", "2.jpg", 1.125f), photo("c", "1.jpg", 0.5f)};
    const IdentificationScore s = score_identification(enc, TrainOptions{}, {0.05f, 0.5f}, 0.4);
    CHECK(s.people == 3);
    CHECK(s.originals == 5);
    // Closed-set: a's and b's photos each find their sibling at 1/8; c has none, so is not asked.
    CHECK(s.closed_evaluated == 4);
    CHECK(s.closed_correct == 4);
    // Strangers: a's photos against {b, c} -> c at 1/2 and 3/8; b's -> c at 1/2 and 5/8;
    // c's -> a (mean 7/16 beats b's 9/16), nearest 3/8.
    CHECK(s.strangers == 5);
    REQUIRE(s.open_set.size() == 2);
    CHECK(s.open_set[0].false_accepts == 0);
    CHECK(s.open_set[0].genuine_rejected == 4);  // 1/8 > 0.05
    CHECK(s.open_set[1].false_accepts == 4);     // 3/8 3/8 1/2 1/2
    CHECK(s.open_set[1].genuine_rejected == 0);
    // calibrate_threshold for 40%: 2 of 5 may pass, so just below the third score, 1/2.
    CHECK(s.recommended.threshold == std::nextafter(0.5f, 0.f));
    CHECK(s.recommended.false_accepts == 2);
    CHECK(s.recommended.far == doctest::Approx(0.4));
    CHECK(s.recommended.frr == 0.0);
    CHECK(s.recommended_source.find("calibrated for 40% false accepts on 5 impostor scores") == 0);
}

TEST_CASE("eval: make_pairs writes an LFW folder from a dataset") {
    test::TempDir tmp;
    const fs::path ds = tmp / "ds";
    for (const char* p : {"amy", "bob", "cy"}) {
        fs::create_directories(ds / p);
        for (const char* f : {"x.jpg", "y.png", "z.jpeg"}) {
            std::FILE* out = std::fopen((ds / p / f).c_str(), "w");
            REQUIRE(out);
            std::fputs(p, out);
            std::fclose(out);
        }
    }
    // 3 people x 3 photos: 9 same-person pairs and 27 different ones; 3 folds of 3 each.
    const MadePairs m = make_pairs(ds, tmp / "lfw", 3, 7);
    CHECK(m.people == 3);
    CHECK(m.images == 9);
    CHECK(m.per_fold == 3);
    const std::string text = test::slurp_file(m.pairs_file);
    const PairsFile pf = parse_pairs(text, m.pairs_file.string());
    CHECK(pf.folds == 3);
    CHECK(pf.per_fold == 3);
    CHECK(pf.pairs.size() == 18);
    // Photos are numbered in path order, keep their extension, and link to the original.
    CHECK(fs::is_symlink(tmp / "lfw" / "amy" / "amy_0001.jpg"));
    CHECK(fs::is_symlink(tmp / "lfw" / "amy" / "amy_0002.png"));
    CHECK(fs::equivalent(tmp / "lfw" / "bob" / "bob_0003.jpeg", ds / "bob" / "z.jpeg"));
    // Every same-person pair appears once: 9 of 9, over the 3 folds.
    std::set<std::string> same;
    for (const auto& p : pf.pairs)
        if (p.same) same.insert(p.a.name + std::to_string(p.a.index) + std::to_string(p.b.index));
    CHECK(same.size() == 9);
    // The same seed gives the same file; an existing folder is not overwritten.
    CHECK(test::slurp_file(make_pairs(ds, tmp / "again", 3, 7).pairs_file) == text);
    CHECK_THROWS_WITH_AS(make_pairs(ds, tmp / "lfw", 3, 7), contains("already exists"), Error);
    // 10 folds need 10 same-person pairs.
    CHECK_THROWS_WITH_AS(make_pairs(ds, tmp / "ten", 10, 7), contains("10 folds need at least one of each"), Error);
}
