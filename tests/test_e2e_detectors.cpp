// End-to-end: the detector switch through the real binary (issue 20). One
// TEST_CASE on purpose: every check runs on one small dataset of portraits cut
// from npm's sample photos (faces.h), so the whole costs a few encodes of 6 small
// images and two predicts of one photo.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "e2e.h"
#include "encodings.h"
#include "faces.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe;
using namespace facepipe::test;

namespace {

bool has(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("e2e: --detector ssd encodes, trains and predicts, a change re-encodes, merge and predict never mix silently") {
    SKIP_IF(npm_samples_missing());
    TempDir tmp;
    const fs::path ds = tmp / "dataset";
    for (const auto& [person, face] : {std::pair{"alice", "sample1-a"}, {"bob", "sample2-a"}, {"carol", "sample3-a"}}) {
        fs::create_directories(ds / person);
        write_image(ds / person / "1.jpg", portrait(face));
        write_image(ds / person / "2.jpg", mirrored(portrait(face)));
    }

    // --- encode and train with ssd: the files say so -------------------------
    auto r = run_facepipe_m({"encode", "--detector", "ssd", "--format", "json"}, tmp.path());
    INFO("encode --detector ssd: ", r.out, r.err);
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["encoded"] == 6);
    CHECK(j["ok"] == 6);  // ssd finds every portrait
    CHECK(read_encodings((tmp / "encodings.bin").string()).detector == DetectorKind::ssd);
    r = run_facepipe_m({"train"}, tmp.path());
    REQUIRE(r.exit_code == 0);

    // --- predict on a whole sample photo: the same detector names alice, quietly;
    //     the other one warns (its boxes are not the gallery's) ------------------
    const std::string photo = (npm_samples() / "sample1.jpg").string();
    r = run_facepipe_m({"predict", "--detector", "ssd", "--format", "csv", photo}, tmp.path());
    INFO("predict --detector ssd: ", r.out, r.err);
    CHECK(r.exit_code == 0);
    const auto rows = parse_predict_csv(r.out);
    CHECK(rows.size() >= 3);  // the photo's three faces
    bool alice = false;
    for (const auto& row : rows) alice = alice || row.label == "alice";
    CHECK(alice);
    CHECK(!has(r.err, "detector"));
    r = run_facepipe_m({"predict", "--format", "csv", photo}, tmp.path());
    CHECK(r.exit_code == 0);
    CHECK(has(r.err, "model.bin: its faces were found by the ssd detector, these by hog; pass --detector ssd"));

    // --- encode again with hog: every image is re-encoded, and the file is hog's --
    r = run_facepipe_m({"encode", "--format", "json"}, tmp.path());
    INFO("encode (hog) after ssd: ", r.out, r.err);
    REQUIRE(r.exit_code == 0);
    j = nlohmann::json::parse(r.out);
    CHECK(j["encoded"] == 6);
    CHECK(j["reused"] == 0);
    CHECK(has(r.err, "encodings.bin: made with the ssd detector; re-encoding its 6 images with hog"));
    CHECK(read_encodings((tmp / "encodings.bin").string()).detector == DetectorKind::hog);
    r = run_facepipe_m({"encode", "--format", "json"}, tmp.path());
    CHECK(nlohmann::json::parse(r.out)["reused"] == 6);

    // --- shards of different detectors are refused by merge ---------------------
    REQUIRE(run_facepipe_m({"encode", "--shard", "0/2", "-o", "part0.bin", "--detector", "ssd"}, tmp.path()).exit_code == 0);
    REQUIRE(run_facepipe_m({"encode", "--shard", "1/2", "-o", "part1.bin"}, tmp.path()).exit_code == 0);
    r = run_facepipe_m({"merge", "-o", "merged.bin", "part0.bin", "part1.bin"}, tmp.path());
    CHECK(r.exit_code == 1);
    CHECK(has(r.err, "part1.bin: faces found by the hog detector, but by ssd in part0.bin; re-encode it with the same --detector"));
    CHECK(!fs::exists(tmp / "merged.bin"));
}
