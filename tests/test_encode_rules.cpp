// Tests of lib/encode.h that need no face models: the reuse rule and the reports.
#include <doctest/doctest.h>

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
