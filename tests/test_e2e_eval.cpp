// End-to-end: `facepipe eval` through the real binary on the shared photos.
// A pairs file is generated from ../shared/data/faces/ in LFW's layout, then
// broken on purpose in two places (a person whose photos have no face, and one
// whose photos do not exist) so that the missing-face rules are exercised too.
//
// One TEST_CASE: encoding dominates the time, and every check reuses one run.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "e2e.h"
#include "encodings.h"
#include "eval.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe;
using namespace facepipe::test;

namespace {

// Replaces line `n` (1-based) of a text.
std::string replace_line(const std::string& text, int n, const std::string& with) {
    std::size_t start = 0;
    for (int i = 1; i < n; ++i) start = text.find('\n', start) + 1;
    const std::size_t end = text.find('\n', start);
    return text.substr(0, start) + with + text.substr(end);
}

bool has_line_containing(const nlohmann::json& list, const std::string& needle) {
    for (const auto& s : list)
        if (s.get<std::string>().find(needle) != std::string::npos) return true;
    return false;
}

}  // namespace

TEST_CASE("slow e2e: eval runs LFW's protocol and identification on shared faces") {
    SKIP_IF(shared_data_missing({"faces"}));
    const fs::path shared = shared_data();
    TempDir tmp;
    const fs::path faces = shared / "faces", cache = tmp / "cache";

    // --- a pairs file from the shared faces ------------------------------------
    auto r = run_facepipe_m({"eval", "--dataset", faces.string(), "--make-pairs", "lfw"}, tmp.path());
    INFO("make-pairs stdout: ", r.out, "\nstderr: ", r.err);
    REQUIRE(r.exit_code == 0);
    const PairsFile made = read_pairs((tmp / "lfw" / "pairs.txt").string());
    CHECK(made.folds == 10);
    CHECK(made.per_fold == 9);  // 94 same-person pairs among 13 people: 9 per fold
    CHECK(fs::exists(tmp / "lfw" / "obama" / "obama_0001.jpg"));

    // Line 2 (fold 1's first same-person pair) -> two grey pictures without a face;
    // line 3 -> a person with no photos at all.
    fs::create_directories(tmp / "lfw" / "blank");
    const cv::Mat grey(200, 200, CV_8UC3, cv::Scalar::all(128));
    REQUIRE(cv::imwrite((tmp / "lfw" / "blank" / "blank_0001.png").string(), grey));
    REQUIRE(cv::imwrite((tmp / "lfw" / "blank" / "blank_0002.png").string(), grey));
    // A photo with two faces, in no pair: a large one at the left edge and a
    // smaller one in the centre, so the two face choices differ.
    fs::create_directories(tmp / "lfw" / "duo");
    cv::Mat duo(800, 1280, CV_8UC3, cv::Scalar::all(128)), big, small;
    cv::resize(cv::imread((faces / "obama" / "obama.jpg").string()), big, {600, 750});
    cv::resize(cv::imread((faces / "biden" / "biden2.jpg").string()), small, {260, 260});
    big.copyTo(duo(cv::Rect(0, 25, 600, 750)));      // face ~180 px wide, centred near x = 320
    small.copyTo(duo(cv::Rect(510, 270, 260, 260)));  // face ~105 px wide, near the centre (640, 400)
    REQUIRE(cv::imwrite((tmp / "lfw" / "duo" / "duo_0001.jpg").string(), duo));

    std::string pairs = slurp(tmp / "lfw" / "pairs.txt");
    pairs = replace_line(replace_line(pairs, 2, "blank\t1\t2"), 3, "ghost\t1\t2");
    spit(tmp / "lfw" / "pairs.txt", pairs);

    // --- both protocols, json -------------------------------------------------
    const std::vector<std::string> args = {"eval", "--pairs", "lfw/pairs.txt", "--dataset", faces.string(),
                                           "--cache-dir", cache.string(), "--format", "json", "-j", "2"};
    r = run_facepipe_m(args, tmp.path());
    INFO("eval stdout: ", r.out, "\nstderr: ", r.err);
    CHECK(r.exit_code == 1);  // ghost's photos do not exist: bad data
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["face"] == "centre");
    const auto& v = j["verification"];
    CHECK(v["folds"] == 10);
    CHECK(v["pairs"] == 180);
    CHECK(v["fold_results"].size() == 10);
    // Ours, plus any pair using a shared photo HOG finds no face in: each one reported.
    CHECK(v["missing_pairs"].get<int>() >= 2);
    CHECK(v["problems"].size() == v["missing_pairs"].get<std::size_t>());
    CHECK(v["bad_images"] == 2);
    CHECK(has_line_containing(v["problems"], "lfw/pairs.txt:2: blank/blank_0001.png: no face found"));
    CHECK(has_line_containing(v["problems"], "lfw/pairs.txt:3: ghost/ghost_0001.*: no such image"));
    CHECK(r.err.find("ghost/ghost_0002.*: no such image") != std::string::npos);
    // The network separates these 13 people well: even with 2 pairs lost, above 85% per fold on average.
    CHECK(v["accuracy_mean"].get<double>() > 0.85);
    CHECK(v["accuracy_std"].get<double>() < 0.15);
    CHECK(v["fixed_threshold"]["threshold"].get<double>() == doctest::Approx(0.6));
    REQUIRE(v["roc"].size() == 2);
    CHECK(v["roc"][0]["impostor_pairs"] == 90);
    CHECK(v["roc"][0]["enough_impostors"] == false);  // 90 different pairs cannot resolve 1%

    const auto& id = j["identification"];
    CHECK(id["people"] == 13);
    CHECK(id["closed_set"]["accuracy"].get<double>() > 0.9);
    CHECK(id["open_set"]["rows"].size() == 5);
    const double rec = id["recommended"]["threshold"].get<double>();
    CHECK(rec >= 0.4);
    CHECK(rec <= 0.6);
    CHECK(id["recommended"]["target_far"].get<double>() == doctest::Approx(0.01));

    // --- a second run reads the cache: nothing is encoded again ------------------
    r = run_facepipe_m({"eval", "--pairs", "lfw/pairs.txt", "--dataset", faces.string(), "--cache-dir",
                        cache.string()},
                       tmp.path());
    INFO("cached eval stdout: ", r.out, "\nstderr: ", r.err);
    CHECK(r.exit_code == 1);
    CHECK(lines_with(r.err, ", 0 encoded,").size() == 2);
    CHECK(r.out.find("10-fold protocol: ") != std::string::npos);
    CHECK(r.out.find("Closed-set leave-one-out top-1: ") != std::string::npos);
    CHECK(r.out.find("Recommended for 1% false accepts: ") != std::string::npos);

    // --- --face largest re-encodes exactly the photos with several faces ------------
    auto duo_record = [&] {
        for (const auto& rec_ : read_encodings(cache_file(cache, tmp / "lfw").string()).records)
            if (rec_.path == "duo/duo_0001.jpg") return rec_;
        FAIL("duo/duo_0001.jpg is not in the cache");
        return EncodingRecord{};
    };
    const EncodingRecord centre = duo_record();
    REQUIRE(centre.faces_found == 2);
    CHECK(centre.note == "2 faces, kept the one nearest the centre");
    CHECK(std::abs(centre.box.x + centre.box.width / 2 - 640) < 100);
    r = run_facepipe_m({"eval", "--pairs", "lfw/pairs.txt", "--cache-dir", cache.string(), "--face", "largest"},
                       tmp.path());
    INFO("largest eval stdout: ", r.out, "\nstderr: ", r.err);
    CHECK(lines_with(r.err, ", 1 encoded,").size() == 1);
    const EncodingRecord largest = duo_record();
    CHECK(largest.note == "2 faces, kept the largest");
    CHECK(largest.box.x + largest.box.width / 2 < 450);
    CHECK(largest.box.area() > centre.box.area());

    // --- -j 1 encodes afresh and reports what -j 2 did, to the byte -------------------
    fs::remove_all(cache);
    r = run_facepipe_m({"eval", "--dataset", faces.string(), "--cache-dir", cache.string(), "--format", "json", "-j", "1"},
                       tmp.path());
    INFO("eval -j 1 stdout: ", r.out, "\nstderr: ", r.err);
    CHECK(r.exit_code == 0);
    CHECK(lines_with(r.err, ", 0 encoded,").empty());
    CHECK(nlohmann::json::parse(r.out)["identification"].dump() == j["identification"].dump());

    // --- usage errors ---------------------------------------------------------------
    r = run_facepipe_m({"eval"}, tmp.path());
    CHECK(r.exit_code == 2);
    r = run_facepipe_m({"eval", "--pairs", "nonexistent.txt", "--cache-dir", cache.string()}, tmp.path());
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("nonexistent.txt: ") != std::string::npos);
}
