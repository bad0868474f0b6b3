// Tests of lib/enroll.h in process, on real faces (faces.h): photos accepted
// into the dataset and the model, duplicates noted, bad photos refused with
// their verdict, and unsafe names refused before anything is touched.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <opencv2/imgproc.hpp>

#include "classifier.h"
#include "train.h"
#include "e2e_script.h"  // same_tree
#include "enroll.h"
#include "error.h"
#include "faces.h"
#include "fsutil.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe;
using namespace facepipe::test;

namespace {

// Everything under `dir`; one augmented copy per photo, to stay quick.
EnrollOptions options_in(const TempDir& dir) {
    EnrollOptions o;
    o.dataset = dir / "dataset";
    o.encodings = dir / "encodings.bin";
    o.model = dir / "model.bin";
    o.labels = dir / "labels.bin";
    o.augment.copies = 1;
    o.threads = 2;
    return o;
}

std::vector<std::string> model_names(const EnrollOptions& o) {
    return Classifier::load(o.model.string(), o.labels.string()).names();
}

bool has_line(const std::vector<std::string>& lines, const std::string& start, const std::string& cause) {
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) {
        return l.rfind(start, 0) == 0 && l.find(cause) != std::string::npos;
    });
}

}  // namespace

TEST_CASE("enroll copies accepted photos into the dataset and retrains a model that knows the person") {
    SKIP_IF(npm_samples_missing());
    TempDir dir;
    const EnrollOptions o = options_in(dir);
    fs::create_directories(dir / "in");
    const cv::Mat flipped = mirrored(portrait("sample1-a"));
    write_image(dir / "in" / "alice.jpg", portrait("sample1-a"));
    write_image(dir / "in" / "alice2.jpg", flipped);

    const EnrollReport r = enroll("alice", {dir / "in" / "alice.jpg", dir / "in" / "alice2.jpg"}, o,
                                  test_model_files());
    CHECK(r.person == "alice");
    CHECK(r.new_person);
    CHECK(r.added == std::vector<std::string>{"alice/alice.jpg", "alice/alice2.jpg"});
    CHECK(r.duplicates.empty());
    CHECK(r.refused.empty());
    CHECK(r.retrained);
    CHECK(r.augment.created == 2);
    CHECK(r.encodings_before == 0);
    CHECK(r.encodings_after >= 2);
    CHECK(r.encodings_after == r.encode.ok);
    CHECK(r.people_before == 0);
    CHECK(r.people_after == 1);
    CHECK(!r.training_id.empty());
    CHECK(slurp_file(o.dataset / "alice" / "alice.jpg") == slurp_file(dir / "in" / "alice.jpg"));
    CHECK(file_mode(o.dataset / "alice" / "alice.jpg") == 0600);
    CHECK(model_names(o) == std::vector<std::string>{"alice"});

    // A second person, one photo given twice under two names: copied once.
    write_image(dir / "in" / "bob.jpg", portrait("sample2-a"));
    fs::copy_file(dir / "in" / "bob.jpg", dir / "in" / "bob again.jpg");
    const EnrollReport r2 = enroll("bob", {dir / "in" / "bob.jpg", dir / "in" / "bob again.jpg"}, o,
                                   test_model_files());
    CHECK(r2.new_person);
    CHECK(r2.added == std::vector<std::string>{"bob/bob.jpg"});
    REQUIRE(r2.duplicates.size() == 1);
    CHECK(r2.duplicates[0].rfind((dir / "in" / "bob again.jpg").string() + ": same photo as ", 0) == 0);
    CHECK(r2.refused.empty());
    CHECK(r2.encodings_before == r.encodings_after);
    CHECK(r2.encodings_after > r.encodings_after);
    CHECK(r2.people_before == 1);
    CHECK(r2.people_after == 2);
    CHECK(r2.training_id != r.training_id);
    CHECK(model_names(o) == std::vector<std::string>{"alice", "bob"});
}

TEST_CASE("enroll gives each photo without exactly one face, or that does not decode, its verdict") {
    SKIP_IF(npm_samples_missing());
    TempDir dir;
    const EnrollOptions o = options_in(dir);
    const fs::path in = dir / "in";
    fs::create_directories(in);
    write_image(in / "carol.jpg", portrait("sample3-a"));
    write_image(in / "blank.png", faceless_picture());
    write_image(in / "group.jpg", two_faces());
    write_file_atomic((in / "notes.jpg").string(), "this is not a picture\n");

    // Only refusals: nothing is enrolled and nothing is written.
    EnrollReport r = enroll("dave", {in / "blank.png", in / "notes.jpg"}, o, test_model_files());
    CHECK(r.added.empty());
    CHECK(r.refused.size() == 2);
    CHECK(!r.retrained);
    CHECK(!fs::exists(o.dataset / "dave"));
    CHECK(!fs::exists(o.model));
    CHECK(!fs::exists(o.encodings));

    // One good photo among them: it is enrolled, the others refused with why.
    r = enroll("carol", {in / "carol.jpg", in / "blank.png", in / "group.jpg", in / "notes.jpg", in / "missing.jpg"},
               o, test_model_files());
    CHECK(r.added == std::vector<std::string>{"carol/carol.jpg"});
    REQUIRE(r.refused.size() == 4);
    CHECK(has_line(r.refused, (in / "blank.png").string() + ": ", "no face found"));
    CHECK(has_line(r.refused, (in / "group.jpg").string() + ": ", "shows 2 faces"));
    CHECK(has_line(r.refused, (in / "notes.jpg").string() + ": ", "not a usable image"));
    CHECK(has_line(r.refused, (in / "missing.jpg").string() + ": ", "not a usable image"));
    for (const auto& line : r.refused) CHECK(line.find('\n') == std::string::npos);
    CHECK(r.retrained);
    CHECK(model_names(o) == std::vector<std::string>{"carol"});
    CHECK(!fs::exists(o.dataset / "carol" / "blank.png"));
    CHECK(!fs::exists(o.dataset / "carol" / "group.jpg"));
}

TEST_CASE("enroll refuses an unsafe name before touching the dataset, the model or the lock") {
    TempDir dir;
    const EnrollOptions o = options_in(dir);
    fs::create_directories(o.dataset / "alice");
    write_image(o.dataset / "alice" / "a.png", faceless_picture());
    write_file_atomic(o.model.string(), "model bytes");
    write_file_atomic(o.labels.string(), "labels bytes");
    const fs::path photo = dir / "photo.png";
    write_image(photo, faceless_picture());
    TempDir before;
    fs::copy(dir.path(), before.path(), fs::copy_options::recursive);

    for (const std::string name : {"", ".", "..", "../evil", "a/b", "/etc", ".hidden", "new\nline", "bad\xff"}) {
        CHECK_THROWS_WITH_AS(enroll(name, {photo}, o, test_model_files()), doctest::Contains("person name"), Error);
    }
    std::string diff;
    CHECK_MESSAGE(same_tree(before.path(), dir.path(), &diff), diff);
    CHECK(!fs::exists(dir / "facepipe.lock"));
    CHECK(!fs::exists(dir / "evil"));
}
