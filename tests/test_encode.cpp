// Tests of lib/encode.h in process, on real faces (faces.h): statuses, the
// incremental re-run, pruning, and the face choice for group photos.
#include <doctest/doctest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "encode.h"
#include "encodings.h"
#include "error.h"
#include "faces.h"
#include "fsutil.h"
#include "hash.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe;
using namespace facepipe::test;

namespace {

// alice: a portrait and a picture with no face; bob: a portrait and a file
// that is not an image.
void make_dataset(const fs::path& ds) {
    fs::create_directories(ds / "alice");
    fs::create_directories(ds / "bob");
    write_image(ds / "alice" / "a.jpg", portrait("sample1-a"));
    write_image(ds / "alice" / "blank.png", faceless_picture());
    write_image(ds / "bob" / "b.jpg", portrait("sample2-a"));
    write_file_atomic((ds / "bob" / "broken.jpg").string(), "this is not a picture\n");
}

EncodeOptions options_for(const TempDir& dir) {
    EncodeOptions o;
    o.dataset = dir / "dataset";
    o.output = dir / "encodings.bin";
    o.threads = 2;
    return o;
}

const EncodingRecord& record(const EncodingsFile& f, const std::string& path) {
    for (const auto& r : f.records)
        if (r.path == path) return r;
    FAIL("no record for ", path);
    throw;  // not reached: FAIL throws
}

// The summary's counts on one line, so a check shows them all when it fails.
std::string counts(const EncodeSummary& s) {
    return "images " + std::to_string(s.images) + ", encoded " + std::to_string(s.encoded) + ", reused " +
           std::to_string(s.reused) + ", pruned " + std::to_string(s.pruned) + "; ok " + std::to_string(s.ok) +
           ", no_face " + std::to_string(s.no_face) + ", unreadable " + std::to_string(s.unreadable) +
           ", multi_face " + std::to_string(s.multi_face) + "; people " + std::to_string(s.people);
}

bool mentions(const std::vector<std::string>& lines, const std::string& needle) {
    for (const auto& l : lines)
        if (l.find(needle) != std::string::npos) return true;
    return false;
}

}  // namespace

TEST_CASE("encode_dataset records a face, no face and an unreadable file, one record per image") {
    SKIP_IF(npm_samples_missing());
    TempDir dir;
    make_dataset(dir / "dataset");
    const EncodeOptions o = options_for(dir);

    const EncodeSummary s = encode_dataset(o, test_models());
    CHECK(counts(s) == "images 4, encoded 4, reused 0, pruned 0; ok 2, no_face 1, unreadable 1, multi_face 0; people 2");
    REQUIRE(s.problems.size() == 2);
    CHECK(mentions(s.problems, "alice/blank.png: "));
    CHECK(mentions(s.problems, "bob/broken.jpg: "));

    const EncodingsFile f = read_encodings(o.output.string());
    CHECK(f.model_id == test_model_files().model_id());
    REQUIRE(f.records.size() == 4);
    const auto& a = record(f, "alice/a.jpg");
    CHECK(a.status == EncodeStatus::ok);
    CHECK(a.person == "alice");
    CHECK(a.source == "alice/a.jpg");
    CHECK(a.is_original());
    CHECK(a.faces_found == 1);
    CHECK(a.content_hash == sha256_file((dir / "dataset" / "alice" / "a.jpg").string()));
    // The face is the middle half of a portrait: the box must lie around it.
    const cv::Mat pa = portrait("sample1-a");
    CHECK(a.box.x + a.box.width / 2 == doctest::Approx(pa.cols / 2).epsilon(0.1));
    CHECK(a.box.y + a.box.height / 2 == doctest::Approx(pa.rows / 2).epsilon(0.15));
    const auto& b = record(f, "bob/b.jpg");
    CHECK(b.status == EncodeStatus::ok);
    CHECK(distance(a.descriptor, b.descriptor) > 0.4);  // two people, two places in descriptor space
    CHECK(record(f, "alice/blank.png").status == EncodeStatus::no_face);
    CHECK(record(f, "alice/blank.png").faces_found == 0);
    CHECK(record(f, "bob/broken.jpg").status == EncodeStatus::unreadable);
    // Its bytes are hashed all the same, so an unchanged bad file is not retried.
    CHECK(record(f, "bob/broken.jpg").content_hash == sha256_hex("this is not a picture\n"));
    CHECK(!fs::exists(o.output.string() + ".journal"));  // saved, so the journal is gone
}

TEST_CASE("encode_dataset re-run reuses unchanged records, re-encodes changed files and prunes deleted ones") {
    SKIP_IF(npm_samples_missing());
    TempDir dir;
    make_dataset(dir / "dataset");
    const EncodeOptions o = options_for(dir);
    encode_dataset(o, test_models());
    const std::string first = slurp_file(o.output);

    // Nothing changed: nothing computed, the very same file.
    EncodeSummary s = encode_dataset(o, test_models());
    CHECK(counts(s) == "images 4, encoded 0, reused 4, pruned 0; ok 2, no_face 1, unreadable 1, multi_face 0; people 2");
    CHECK(slurp_file(o.output) == first);

    // bob's photo deleted, alice's replaced by another one of her (mirrored),
    // and a new person.
    fs::remove(dir / "dataset" / "bob" / "b.jpg");
    const cv::Mat flipped = mirrored(portrait("sample1-a"));
    write_image(dir / "dataset" / "alice" / "a.jpg", flipped);
    fs::create_directories(dir / "dataset" / "carol");
    write_image(dir / "dataset" / "carol" / "c.jpg", portrait("sample3-a"));
    s = encode_dataset(o, test_models());
    // Encoded: alice/a.jpg (new bytes) and carol/c.jpg; reused: the faceless and
    // the unreadable ones; people: alice and carol, bob has no face left.
    CHECK(counts(s) == "images 4, encoded 2, reused 2, pruned 1; ok 2, no_face 1, unreadable 1, multi_face 0; people 2");

    const EncodingsFile f = read_encodings(o.output.string());
    REQUIRE(f.records.size() == 4);
    for (const auto& r : f.records) CHECK(r.path != "bob/b.jpg");
    CHECK(record(f, "alice/a.jpg").content_hash == sha256_file((dir / "dataset" / "alice" / "a.jpg").string()));
    CHECK(record(f, "carol/c.jpg").status == EncodeStatus::ok);
}

TEST_CASE("encode_dataset keeps one face of a group photo, and a run with the other face choice redoes only it") {
    SKIP_IF(npm_samples_missing());
    TempDir dir;
    const fs::path ds = dir / "dataset";
    fs::create_directories(ds / "group");
    fs::create_directories(ds / "alice");
    write_image(ds / "alice" / "a.jpg", portrait("sample1-a"));
    write_image(ds / "group" / "two.jpg", two_faces());  // sample1-a the largest, sample1-c nearest the centre

    EncodeOptions o = options_for(dir);
    EncodeSummary s = encode_dataset(o, test_models());
    CHECK(counts(s) == "images 2, encoded 2, reused 0, pruned 0; ok 2, no_face 0, unreadable 0, multi_face 1; people 2");
    CHECK(mentions(s.problems, "group/two.jpg: "));
    EncodingsFile f = read_encodings(o.output.string());
    const auto largest = record(f, "group/two.jpg");
    CHECK(largest.faces_found == 2);
    CHECK(distance(largest.descriptor, record(f, "alice/a.jpg").descriptor) < 0.3);  // the largest is sample1-a

    // Same choice: all reused. The other choice: only the group photo is redone.
    s = encode_dataset(o, test_models());
    CHECK(counts(s) == "images 2, encoded 0, reused 2, pruned 0; ok 2, no_face 0, unreadable 0, multi_face 1; people 2");
    o.analyzer.choice = FaceChoice::centre;
    s = encode_dataset(o, test_models());
    CHECK(counts(s) == "images 2, encoded 1, reused 1, pruned 0; ok 2, no_face 0, unreadable 0, multi_face 1; people 2");
    f = read_encodings(o.output.string());
    CHECK(distance(record(f, "group/two.jpg").descriptor, largest.descriptor) > 0.4);  // sample1-c now
}

TEST_CASE("encode_dataset refuses a missing dataset, and an output made by other models") {
    SKIP_IF(npm_samples_missing());
    TempDir dir;
    EncodeOptions o = options_for(dir);
    CHECK_THROWS_AS(encode_dataset(o, test_models()), Error);  // no dataset folder

    make_dataset(dir / "dataset");
    EncodingsFile other;
    other.model_id = "resnet:000000000000/landmarks:000000000000";
    write_encodings(o.output.string(), other);
    CHECK_THROWS_WITH_AS(encode_dataset(o, test_models()), doctest::Contains("different face model"), Error);
    CHECK(read_encodings(o.output.string()).model_id == other.model_id);  // left as it was
    o.rebuild = true;
    CHECK(encode_dataset(o, test_models()).ok == 2);
}

TEST_CASE("encode_dataset re-encodes every image another detector saw, but an unreadable one, and records its own") {
    SKIP_IF(npm_samples_missing());
    TempDir dir;
    make_dataset(dir / "dataset");
    const EncodeOptions o = options_for(dir);
    encode_dataset(o, test_models());
    const std::string hog_bytes = slurp_file(o.output);

    // The same records, as if the other detector had found them.
    EncodingsFile f = read_encodings(o.output.string());
    f.detector = DetectorKind::ssd;
    write_encodings(o.output.string(), f);
    EncodeSummary s = encode_dataset(o, test_models());
    // Encoded: both faces and the faceless picture; reused: the unreadable file, which no detector saw.
    CHECK(counts(s) == "images 4, encoded 3, reused 1, pruned 0; ok 2, no_face 1, unreadable 1, multi_face 0; people 2");
    CHECK(read_encodings(o.output.string()).detector == DetectorKind::hog);
    CHECK(slurp_file(o.output) == hog_bytes);  // hog is deterministic: the very file of the first run
    s = encode_dataset(o, test_models());
    CHECK(s.reused == 4);
}
