// Tests of lib/encode.h that need no face models: the reuse rule and the reports.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "encode.h"
#include "hash.h"

using namespace facepipe;

namespace {

EncodingRecord photo(int faces_found) {
    EncodingRecord r;
    r.person = "duo";
    r.path = r.source = "duo/duo.jpg";
    r.content_hash = sha256_hex("duo.jpg bytes");
    r.faces_found = faces_found;
    r.box = {10, 20, 100, 120};
    return r;
}

EncodeSummary sample_summary() {
    EncodeSummary s;
    s.images = 10;
    s.encoded = 4;
    s.reused = 6;
    s.pruned = 1;
    s.ok = 8;
    s.people = 3;
    s.no_face = 1;
    s.unreadable = 1;
    s.multi_face = 2;
    s.left_out = 0;
    s.seconds = 2.0;
    s.load_ms = 40;
    s.times.detect_ms = 80;
    s.times.landmarks_ms = 20;
    s.times.descriptor_ms = 40;
    s.problems = {"duo/duo.jpg: 2 faces, kept the largest", "x/blank.png: no face found"};
    return s;
}

}  // namespace

TEST_CASE("reusable: the same bytes, and for several faces the same face choice, by its field") {
    const EncodingRecord one = photo(1);
    CHECK(reusable(one, one.content_hash, FaceChoice::largest));
    CHECK(reusable(one, one.content_hash, FaceChoice::centre));  // one face: either rule keeps it
    CHECK_FALSE(reusable(one, sha256_hex("other bytes"), FaceChoice::largest));

    // The decision reads face_choice, not the note: a note in other words changes nothing.
    EncodingRecord centre = photo(2);
    centre.face_choice = FaceChoice::centre;
    centre.note = "two faces; the centre one";
    CHECK(reusable(centre, centre.content_hash, FaceChoice::centre));
    CHECK_FALSE(reusable(centre, centre.content_hash, FaceChoice::largest));
    CHECK_FALSE(reusable(centre, sha256_hex("other bytes"), FaceChoice::centre));

    // A multi-face record whose choice is unknown is encoded again, whatever its note says.
    EncodingRecord unknown = photo(2);
    unknown.note = multi_face_note(2, FaceChoice::largest);
    CHECK_FALSE(reusable(unknown, unknown.content_hash, FaceChoice::largest));
    CHECK_FALSE(reusable(unknown, unknown.content_hash, FaceChoice::centre));
}

TEST_CASE("format_summary: the table text, two lines") {
    CHECK(format_summary(sample_summary()) ==
          "10 images (4 encoded, 6 unchanged, 1 pruned): 8 faces of 3 people; 1 without a face, 1 unreadable, "
          "2 with several faces\n"
          "2.0 s, 2.0 images/s encoded; ms per encoded image: load 10.0, detect 20.0, landmarks 5.0, "
          "descriptor 10.0\n");
    EncodeSummary left = sample_summary();  // entries the scan left out are counted, when there are some
    left.left_out = 3;
    CHECK(format_summary(left).find("2 with several faces; 3 dataset entries left out (not readable files)\n") !=
          std::string::npos);
    CHECK(nlohmann::json::parse(format_summary_json(left))["left_out"] == 3);
}

TEST_CASE("format_summary_json: every field of the summary, by name") {
    const std::string text = format_summary_json(sample_summary());
    REQUIRE(!text.empty());
    CHECK(text.back() == '\n');
    const auto j = nlohmann::json::parse(text);
    CHECK(j["images"] == 10);
    CHECK(j["encoded"] == 4);
    CHECK(j["reused"] == 6);
    CHECK(j["pruned"] == 1);
    CHECK(j["ok"] == 8);
    CHECK(j["people"] == 3);
    CHECK(j["no_face"] == 1);
    CHECK(j["unreadable"] == 1);
    CHECK(j["multi_face"] == 2);
    CHECK(j["left_out"] == 0);
    CHECK(j["seconds"].get<double>() == doctest::Approx(2.0));
    CHECK(j["images_per_second"].get<double>() == doctest::Approx(2.0));
    CHECK(j["stage_ms"]["load"].get<double>() == doctest::Approx(40));
    CHECK(j["stage_ms"]["detect"].get<double>() == doctest::Approx(80));
    CHECK(j["stage_ms"]["landmarks"].get<double>() == doctest::Approx(20));
    CHECK(j["stage_ms"]["descriptor"].get<double>() == doctest::Approx(40));
    CHECK(j["ms_per_encoded_image"]["load"].get<double>() == doctest::Approx(10));
    CHECK(j["ms_per_encoded_image"]["detect"].get<double>() == doctest::Approx(20));
    CHECK(j["ms_per_encoded_image"]["landmarks"].get<double>() == doctest::Approx(5));
    CHECK(j["ms_per_encoded_image"]["descriptor"].get<double>() == doctest::Approx(10));
    REQUIRE(j["problems"].size() == 2);
    CHECK(j["problems"][0] == "duo/duo.jpg: 2 faces, kept the largest");
    CHECK(j["problems"][1] == "x/blank.png: no face found");
    CHECK(j.size() == 15);  // a new field is added here and in encode.h's list
}

TEST_CASE("format_summary_json: a run that encoded nothing, and a path that is not UTF-8") {
    EncodeSummary s;
    s.images = 3;
    s.reused = 3;
    s.problems = {"bad\xff/a.jpg: no face found"};
    const auto j = nlohmann::json::parse(format_summary_json(s));
    CHECK(j["encoded"] == 0);
    CHECK(j["images_per_second"] == 0);
    CHECK(j["ms_per_encoded_image"]["detect"] == 0);
    CHECK(j["problems"][0] == "bad\xEF\xBF\xBD/a.jpg: no face found");  // U+FFFD for the stray byte
}
