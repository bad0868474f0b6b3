// Tests of lib/encodings.h: encodings.bin round trip and validation.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "container.h"
#include "encodings.h"
#include "error.h"
#include "hash.h"
#include "testutil.h"

using namespace facepipe;

namespace {

// doctest::Contains takes its own string type; this builds one from std::string.
doctest::Contains contains(const std::string& s) { return doctest::Contains(s.c_str()); }

EncodingRecord original(const std::string& person, const std::string& file, float seed) {
    EncodingRecord r;
    r.person = person;
    r.path = person + "/" + file;
    r.source = r.path;
    r.content_hash = sha256_hex(r.path);
    r.faces_found = 1;
    r.box = {10, 20, 100, 120};
    for (int i = 0; i < kDescriptorDim; ++i) r.descriptor[i] = seed + 0.001f * i;
    return r;
}

EncodingsFile sample() {
    EncodingsFile f;
    f.model_id = "resnet:0123456789ab/landmarks:ba9876543210";
    f.records.push_back(original("obama", "obama.jpg", 0.1f));
    EncodingRecord aug = original("obama", "augmented/obama.jpg~1a2b3c4d~02-rotate.jpg", 0.2f);
    aug.source = "obama/obama.jpg";
    aug.augmentation = "rotate";
    aug.faces_found = 3;
    aug.face_choice = FaceChoice::largest;
    aug.note = "3 faces, kept the largest";
    f.records.push_back(aug);
    EncodingRecord none = original("biden", "blurry.png", 0.f);
    none.status = EncodeStatus::no_face;
    none.faces_found = 0;
    none.box = {};
    none.descriptor = {};
    none.note = "no face found";
    f.records.push_back(none);
    EncodingRecord bad = none;
    bad.path = bad.source = "biden/broken.jpg";
    bad.status = EncodeStatus::unreadable;
    bad.content_hash = "";
    f.records.push_back(bad);
    return f;
}

bool same(const EncodingRecord& a, const EncodingRecord& b) {
    return a.person == b.person && a.path == b.path && a.source == b.source && a.content_hash == b.content_hash &&
           a.augmentation == b.augmentation && a.status == b.status && a.note == b.note &&
           a.faces_found == b.faces_found && a.face_choice == b.face_choice && a.box == b.box &&
           a.descriptor == b.descriptor;
}

// Writes records in the v1 layout without write_encodings' checks, as a hostile
// or buggy writer would. The note is written as given: face_choice is ignored.
void write_raw(const std::string& path, const std::vector<EncodingRecord>& records,
               const std::string& model_id = "model") {
    PayloadWriter w;
    w.str(model_id);
    w.count(records.size());
    for (const auto& r : records) {
        w.str(r.person);
        w.str(r.path);
        w.str(r.source);
        w.str(r.content_hash);
        w.str(r.augmentation);
        w.u8(static_cast<std::uint8_t>(r.status));
        w.str(r.note);
        w.i32(r.faces_found);
        w.i32(r.box.x);
        w.i32(r.box.y);
        w.i32(r.box.width);
        w.i32(r.box.height);
        w.floats(r.descriptor.data(), kDescriptorDim);
    }
    write_container(path, std::string_view(kEncodingsMagic, 8), 1, w.bytes());  // the layout above is version 1's
}

}  // namespace

TEST_CASE("encodings round-trip every field") {
    test::TempDir dir;
    const auto p = (dir / "encodings.bin").string();
    const EncodingsFile f = sample();
    write_encodings(p, f);
    const EncodingsFile g = read_encodings(p);
    CHECK(g.model_id == f.model_id);
    REQUIRE(g.records.size() == f.records.size());
    for (std::size_t i = 0; i < f.records.size(); ++i) {
        CAPTURE(i);
        CHECK(same(g.records[i], f.records[i]));
    }
    CHECK(g.records[0].is_original());
    CHECK_FALSE(g.records[1].is_original());

    write_encodings(p, EncodingsFile{"m", {}});  // an empty dataset is a valid file
    CHECK(read_encodings(p).records.empty());
}

TEST_CASE("a multi-face record's face choice is read from, and written as, its v1 note") {
    test::TempDir dir;
    const auto raw = (dir / "raw.bin").string(), rewritten = (dir / "rewritten.bin").string();
    auto multi = [](const std::string& file, int faces, const std::string& note) {
        EncodingRecord r = original("duo", file, 0.3f);
        r.faces_found = faces;
        r.note = note;
        return r;
    };
    const std::vector<EncodingRecord> records = {
        multi("centre.jpg", 2, "2 faces, kept the one nearest the centre"),
        multi("largest.jpg", 12, "12 faces, kept the largest"),
        multi("miscounted.jpg", 2, "3 faces, kept the largest"),  // not this record's text: unknown
        multi("older.jpg", 2, "2 faces"),                          // an older or foreign note: unknown
        multi("single.jpg", 1, "1 faces, kept the largest"),       // one face: no choice was made
    };
    write_raw(raw, records);
    const EncodingsFile f = read_encodings(raw);
    REQUIRE(f.records.size() == records.size());
    CHECK(f.records[0].face_choice == FaceChoice::centre);
    CHECK(f.records[1].face_choice == FaceChoice::largest);
    CHECK_FALSE(f.records[2].face_choice.has_value());
    CHECK_FALSE(f.records[3].face_choice.has_value());
    CHECK_FALSE(f.records[4].face_choice.has_value());
    for (std::size_t i = 0; i < records.size(); ++i) CHECK(f.records[i].note == records[i].note);

    // Read and written back, every record keeps its bytes, unknown notes included.
    write_encodings(rewritten, f);
    CHECK(test::slurp_file(rewritten) == test::slurp_file(raw));

    // The writer derives the note from face_choice, whatever the note says.
    EncodingRecord chosen = multi("chosen.jpg", 3, "stale text");
    chosen.face_choice = FaceChoice::centre;
    write_encodings(rewritten, EncodingsFile{"model", {chosen}});
    chosen.note = multi_face_note(3, FaceChoice::centre);
    write_raw(raw, {chosen});
    CHECK(test::slurp_file(rewritten) == test::slurp_file(raw));
    const EncodingRecord back = read_encodings(rewritten).records.at(0);
    CHECK(back.note == "3 faces, kept the one nearest the centre");
    CHECK(back.face_choice == FaceChoice::centre);
}

TEST_CASE("validate_record enforces the documented rules") {
    const EncodingRecord good = original("obama", "a.jpg", 0.f);
    CHECK(validate_record(good) == "");
    auto broken = [&](auto mutate) {
        EncodingRecord r = good;
        mutate(r);
        return validate_record(r);
    };
    CHECK(broken([](auto& r) { r.person = ""; }) == "person is empty");
    CHECK(broken([](auto& r) { r.path = r.source = "/etc/passwd"; }).find("path") != std::string::npos);
    CHECK(broken([](auto& r) { r.path = r.source = "obama/../x.jpg"; }).find("path") != std::string::npos);
    CHECK(broken([](auto& r) { r.source = "obama/other.jpg"; }) == "an original's source must equal its path");
    CHECK(broken([](auto& r) { r.note = "line\nbreak"; }) == "note contains control characters");
    CHECK(broken([](auto& r) { r.content_hash = "ABC"; }).find("content_hash") != std::string::npos);
    CHECK(broken([](auto& r) { r.status = static_cast<EncodeStatus>(3); }) == "status 3 is out of range");
    CHECK(broken([](auto& r) { r.box.x = -1; }) == "box is negative");
    CHECK(broken([](auto& r) { r.box.width = 0; }) == "status ok but the box is empty");
    CHECK(broken([](auto& r) { r.faces_found = 0; }) == "status ok but no face found");
    CHECK(broken([](auto& r) { r.descriptor[5] = std::nanf(""); }) == "descriptor has a non-finite value");
    CHECK(broken([](auto& r) { r.descriptor[0] = std::numeric_limits<float>::infinity(); }) ==
          "descriptor has a non-finite value");
    CHECK(broken([](auto& r) { r.person = std::string(5000, 'a'); }) == "person is too long");
    CHECK(broken([](auto& r) { r.face_choice = FaceChoice::largest; }) ==
          "face_choice is set but fewer than 2 faces were found");
}

TEST_CASE("write_encodings refuses invalid records, naming them") {
    test::TempDir dir;
    const auto p = (dir / "encodings.bin").string();
    EncodingsFile f = sample();
    f.records[1].descriptor[0] = std::nanf("");
    CHECK_THROWS_WITH_AS(write_encodings(p, f), doctest::Contains("refusing to write record 1"), Error);
    CHECK_FALSE(std::filesystem::exists(p));
}

TEST_CASE("read_encodings validates records a hostile writer produced") {
    test::TempDir dir;
    const auto p = (dir / "encodings.bin").string();
    const EncodingRecord good = original("obama", "a.jpg", 0.f);

    write_raw(p, {good});
    CHECK(read_encodings(p).records.size() == 1);  // the raw writer matches the real layout

    EncodingRecord r = good;
    r.status = static_cast<EncodeStatus>(200);
    write_raw(p, {good, r});
    CHECK_THROWS_WITH_AS(read_encodings(p), contains(p + ": corrupted: record 1: status 200 is out of range"),
                         Error);

    r = good;
    r.descriptor[127] = std::numeric_limits<float>::infinity();
    write_raw(p, {r});
    CHECK_THROWS_WITH_AS(read_encodings(p), doctest::Contains("corrupted: record 0: descriptor"), Error);

    r = good;
    r.box.height = -4;
    write_raw(p, {r});
    CHECK_THROWS_WITH_AS(read_encodings(p), doctest::Contains("box is negative"), Error);

    r = good;
    r.path = r.source = "../../etc/shadow";
    write_raw(p, {r});
    CHECK_THROWS_WITH_AS(read_encodings(p), doctest::Contains("path is not a clean relative path"), Error);
}

TEST_CASE("read_encodings refuses other facepipe files and future versions") {
    test::TempDir dir;
    const auto p = (dir / "x.bin").string();
    write_container(p, "FPLABELS", 1, "x");
    CHECK_THROWS_WITH_AS(read_encodings(p), contains(p + ": not a facepipe encodings file (bad magic)"),
                         Error);
    write_container(p, std::string_view(kEncodingsMagic, 8), kEncodingsVersion + 1, "x");
    CHECK_THROWS_WITH_AS(read_encodings(p), doctest::Contains("is newer than this facepipe supports"), Error);
}

TEST_CASE("require_same_model refuses descriptors from another face model") {
    CHECK_NOTHROW(require_same_model("e.bin", "resnet:a/landmarks:b", "resnet:a/landmarks:b"));
    CHECK_THROWS_WITH_AS(require_same_model("e.bin", "resnet:a/landmarks:b", "resnet:c/landmarks:b"),
                         doctest::Contains("e.bin: made with a different face model (resnet:a/landmarks:b, "
                                           "current resnet:c/landmarks:b); re-run encode"),
                         Error);
}

TEST_CASE("the journal recovers every intact record and stops at a torn or damaged one") {
    test::TempDir dir;
    const std::string path = (dir / "encodings.bin.journal").string();
    const EncodingsFile f = sample();
    {
        EncodingsJournal j(path, f.model_id);
        for (const auto& r : f.records) j.append(r);
    }
    auto back = EncodingsJournal::recover(path, f.model_id);
    REQUIRE(back.size() == f.records.size());
    for (size_t i = 0; i < back.size(); ++i) CHECK(same(back[i], f.records[i]));

    CHECK(EncodingsJournal::recover(path, "resnet:other/landmarks:other").empty());
    CHECK(EncodingsJournal::recover((dir / "missing").string(), f.model_id).empty());

    const std::string bytes = test::slurp_file(path);
    // A process killed mid-write leaves a torn last entry: the others survive.
    for (size_t cut : {bytes.size() - 1, bytes.size() - 40}) {
        std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(cut));
        CHECK(EncodingsJournal::recover(path, f.model_id).size() == f.records.size() - 1);
    }
    // A damaged byte in the second entry: only the first is trusted.
    const size_t first = 16 + f.model_id.size();  // magic, version, model id length, model id
    const size_t first_len = static_cast<unsigned char>(bytes[first]) | static_cast<unsigned char>(bytes[first + 1]) << 8;
    const size_t second = first + 36 + first_len;  // length, SHA-256, payload
    std::string flipped = bytes;
    flipped[second + 36 + 5] = static_cast<char>(flipped[second + 36 + 5] ^ 0x40);
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(flipped.data(), static_cast<std::streamsize>(flipped.size()));
    CHECK(EncodingsJournal::recover(path, f.model_id).size() == 1);

    EncodingsJournal j(path, f.model_id);
    j.remove();
    CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("the journal refuses an invalid record, naming the journal") {
    test::TempDir dir;
    EncodingsJournal j((dir / "j").string(), "m");
    EncodingRecord r = sample().records[0];
    r.path = "../escape.jpg";
    CHECK_THROWS_WITH_AS(j.append(r), contains("refusing to journal"), Error);
}

TEST_CASE("encodings: hog is written as version 1, ssd as version 2 with its detector, version 1 reads as hog") {
    test::TempDir dir;
    const auto p = (dir / "e.bin").string();
    const std::string_view magic(kEncodingsMagic, 8);
    EncodingsFile f = sample();
    write_encodings(p, f);
    CHECK(read_container(p, magic, "encodings", kEncodingsVersion).version == 1);  // the bytes of before the detector
    CHECK(read_encodings(p).detector == DetectorKind::hog);

    f.detector = DetectorKind::ssd;
    write_encodings(p, f);
    CHECK(read_container(p, magic, "encodings", kEncodingsVersion).version == 2);
    const EncodingsFile g = read_encodings(p);
    CHECK(g.detector == DetectorKind::ssd);
    CHECK(g.model_id == f.model_id);
    REQUIRE(g.records.size() == f.records.size());
    CHECK(g.records[0].descriptor == f.records[0].descriptor);

    // An unknown detector is refused as corrupted, not read as another one.
    PayloadWriter w;
    w.str("model");
    w.u8(7);
    w.count(0);
    write_container(p, magic, 2, w.bytes());
    CHECK_THROWS_WITH_AS(read_encodings(p), doctest::Contains("corrupted: unknown detector 7"), Error);
}

TEST_CASE("the journal recovers only records of the detector it is asked for") {
    test::TempDir dir;
    const auto p = (dir / "e.bin.journal").string();
    const EncodingsFile f = sample();
    {
        EncodingsJournal j(p, f.model_id, DetectorKind::ssd);
        j.append(f.records[0]);
    }
    CHECK(EncodingsJournal::recover(p, f.model_id, DetectorKind::ssd).size() == 1);
    CHECK(EncodingsJournal::recover(p, f.model_id, DetectorKind::hog).empty());
    CHECK(EncodingsJournal::recover(p, f.model_id).empty());
}
