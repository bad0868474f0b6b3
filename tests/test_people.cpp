// Tests of lib/people.h: listing the people of a dataset, finding a photo by
// id, and removing a photo or a person, which retrains so that the model no
// longer knows them. Real faces from npm's samples (faces.h).
#include <doctest/doctest.h>

#include <algorithm>

#include "classifier.h"
#include "encodings.h"
#include "error.h"
#include "fsutil.h"
#include "people.h"
#include "faces.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe;
using namespace facepipe::test;

namespace {

std::vector<std::string> model_names(const EnrollOptions& o) {
    return Classifier::load(o.model.string(), o.labels.string()).names();
}

std::vector<std::string> encoded_paths(const EnrollOptions& o) {
    std::vector<std::string> out;
    for (const auto& r : read_encodings(o.encodings.string()).records) out.push_back(r.path);
    return out;
}

bool any_starts_with(const std::vector<std::string>& v, const std::string& prefix) {
    return std::any_of(v.begin(), v.end(), [&](const std::string& s) { return s.rfind(prefix, 0) == 0; });
}

std::vector<std::string> ids_of(const PersonInfo& p) {
    std::vector<std::string> ids;
    for (const auto& photo : p.photos) ids.push_back(photo.id);
    return ids;
}

// alice with two photos (a1.jpg, a2.jpg), bob with one (b1.jpg), enrolled and trained.
void enrol_alice_and_bob(const EnrollOptions& o) {
    const cv::Mat alice = portrait("sample1-a");
    REQUIRE(enroll("alice", {Photo{"a1.jpg", image_bytes(alice)}, Photo{"a2.jpg", image_bytes(mirrored(alice))}}, o,
                   test_models())
                .added.size() == 2);
    REQUIRE(enroll("bob", {Photo{"b1.jpg", image_bytes(portrait("sample2-a"))}}, o, test_models())
                .added.size() == 1);
    REQUIRE(model_names(o) == std::vector<std::string>{"alice", "bob"});
}

}  // namespace

TEST_CASE("list_people lists the people with their original photos, sorted, as the dataset walk sees them") {
    TempDir dir;
    const fs::path d = dir / "dataset";
    CHECK(list_people(d).empty());  // no dataset yet
    for (const char* f : {"zoe/2.jpg", "zoe/1.png", "zoe/augmented/1.png~0123abcd~00-flip.jpg", "zoe/notes.txt",
                          "zoe/.hidden.jpg", "al/x.jpeg", "al b/y.jpg", ".trash/z.jpg", "empty/readme.md"}) {
        fs::create_directories((d / f).parent_path());
        write_file_atomic((d / f).string(), std::string("bytes of ") + f);
    }
    const auto people = list_people(d);
    REQUIRE(people.size() == 3);
    CHECK(people[0].name == "al");
    CHECK(people[1].name == "al b");
    CHECK(people[2].name == "zoe");
    CHECK(ids_of(people[2]) == std::vector<std::string>{"1.png", "2.jpg"});
    CHECK(people[2].photos[1].path == (d / "zoe" / "2.jpg").string());
    CHECK(people[2].photos[1].bytes == std::string("bytes of zoe/2.jpg").size());
    CHECK(ids_of(people[0]) == std::vector<std::string>{"x.jpeg"});
}

TEST_CASE("find_photo refuses unsafe names and ids as usage errors, and absent ones as not found") {
    TempDir dir;
    const fs::path d = dir / "dataset";
    fs::create_directories(d / "alice");
    write_file_atomic((d / "alice" / "a.jpg").string(), "x");
    fs::create_symlink("/etc/passwd", d / "alice" / "link.jpg");
    const PhotoInfo p = find_photo(d, "alice", "a.jpg");
    CHECK(p.id == "a.jpg");
    CHECK(p.path == (d / "alice" / "a.jpg").string());
    CHECK(p.bytes == 1);

    for (const char* name : {"", "..", "../alice", "a/b", ".alice", "new\nline"})
        CHECK_THROWS_AS(find_photo(d, name, "a.jpg"), UsageError);
    for (const char* id : {"", ".", "..", "../alice/a.jpg", "x/a.jpg", "a\\b.jpg", ".a.jpg", "a\n.jpg", "notes.txt",
                           "augmented"})
        CHECK_THROWS_AS(find_photo(d, "alice", id), UsageError);
    CHECK_THROWS_AS(find_photo(d, "alice", std::string(300, 'a') + ".jpg"), UsageError);
    CHECK_THROWS_WITH_AS(find_photo(d, "bob", "a.jpg"), "person 'bob': not in the dataset", NotFoundError);
    CHECK_THROWS_WITH_AS(find_photo(d, "alice", "b.jpg"), "photo 'b.jpg': not a photo of alice", NotFoundError);
    CHECK_THROWS_AS(find_photo(d, "alice", "link.jpg"), NotFoundError);  // never follows a link out
    CHECK_THROWS_AS(find_photo(dir / "missing", "alice", "a.jpg"), NotFoundError);
}

TEST_CASE("remove_photo takes a photo and its augmented copies out, and the retrained model forgets it") {
    SKIP_IF(npm_samples_missing());
    TempDir dir;
    const EnrollOptions o = enroll_options_in(dir.path(), 2);
    enrol_alice_and_bob(o);
    const std::string before = Classifier::load(o.model.string(), o.labels.string()).training_id();
    REQUIRE(any_starts_with(encoded_paths(o), "alice/augmented/a1.jpg~"));

    std::vector<std::pair<std::string, double>> progress;
    EnrollOptions with_progress = o;
    with_progress.progress = [&](std::string_view s, double f) { progress.emplace_back(std::string(s), f); };
    const RemoveReport r = remove_photo("alice", "a1.jpg", with_progress, test_models());
    CHECK(r.person == "alice");
    CHECK(r.removed == std::vector<std::string>{"alice/a1.jpg"});
    CHECK(r.augmented_removed == 2);
    CHECK(!r.person_removed);
    CHECK(r.retrained);
    CHECK(r.people_after == 2);
    CHECK(r.encodings_after == r.encodings_before - 3);
    CHECK(r.training_id != before);
    CHECK(!progress.empty());
    CHECK(progress.back() == std::make_pair(std::string("save"), 1.0));

    CHECK(!fs::exists(o.dataset / "alice" / "a1.jpg"));
    CHECK(fs::exists(o.dataset / "alice" / "a2.jpg"));
    for (const auto& e : fs::directory_iterator(o.dataset / "alice" / "augmented"))
        CHECK(e.path().filename().string().rfind("a2.jpg~", 0) == 0);
    const auto paths = encoded_paths(o);
    CHECK(!any_starts_with(paths, "alice/a1.jpg"));
    CHECK(!any_starts_with(paths, "alice/augmented/a1.jpg~"));
    CHECK(any_starts_with(paths, "alice/a2.jpg"));
    CHECK(model_names(o) == std::vector<std::string>{"alice", "bob"});
    const auto people = list_people(o.dataset);
    REQUIRE(people.size() == 2);
    CHECK(ids_of(people[0]) == std::vector<std::string>{"a2.jpg"});
    // Nothing is left aside in the dataset.
    for (const auto& e : fs::directory_iterator(o.dataset)) CHECK(e.path().filename().string()[0] != '.');
    CHECK(!fs::exists(o.model.string() + ".undo"));
}

TEST_CASE("removing a person's last photo, or the person, removes the person from the dataset and the model") {
    SKIP_IF(npm_samples_missing());
    TempDir dir;
    const EnrollOptions o = enroll_options_in(dir.path(), 2);
    enrol_alice_and_bob(o);
    REQUIRE(enroll("carol", {Photo{"c.jpg", image_bytes(portrait("sample3-a"))}}, o, test_models()).retrained);

    const RemoveReport b = remove_photo("bob", "b1.jpg", o, test_model_files());
    CHECK(b.person_removed);
    CHECK(b.removed == std::vector<std::string>{"bob/b1.jpg"});
    CHECK(b.augmented_removed == 2);
    CHECK(!fs::exists(o.dataset / "bob"));
    CHECK(model_names(o) == std::vector<std::string>{"alice", "carol"});
    CHECK(b.people_before == 3);
    CHECK(b.people_after == 2);

    const RemoveReport a = remove_person("alice", o, test_models());
    CHECK(a.person_removed);
    CHECK(a.removed == std::vector<std::string>{"alice/a1.jpg", "alice/a2.jpg"});
    CHECK(a.augmented_removed == 4);
    CHECK(!fs::exists(o.dataset / "alice"));
    CHECK(model_names(o) == std::vector<std::string>{"carol"});
    CHECK(!any_starts_with(encoded_paths(o), "alice/"));
    CHECK(list_people(o.dataset).size() == 1);
}

TEST_CASE("removal refuses unknown, unsafe and last entries before touching anything") {
    SKIP_IF(npm_samples_missing());
    TempDir dir;
    const EnrollOptions o = enroll_options_in(dir.path(), 2);
    REQUIRE(enroll("alice", {Photo{"a1.jpg", image_bytes(portrait("sample1-a"))}}, o, test_models()).retrained);
    const std::string model = slurp_file(o.model);
    const std::string encodings = slurp_file(o.encodings);

    CHECK_THROWS_AS(remove_person("bob", o, test_models()), NotFoundError);
    CHECK_THROWS_AS(remove_photo("alice", "zz.jpg", o, test_models()), NotFoundError);
    CHECK_THROWS_AS(remove_person("../dataset", o, test_models()), UsageError);
    CHECK_THROWS_AS(remove_photo("alice", "../alice/a1.jpg", o, test_models()), UsageError);
    CHECK_THROWS_WITH_AS(remove_person("alice", o, test_models()), doctest::Contains("the last photo in the dataset"),
                         UsageError);
    CHECK_THROWS_WITH_AS(remove_photo("alice", "a1.jpg", o, test_models()),
                         doctest::Contains("the last photo in the dataset"), UsageError);
    CHECK(fs::exists(o.dataset / "alice" / "a1.jpg"));
    CHECK(slurp_file(o.model) == model);
    CHECK(slurp_file(o.encodings) == encodings);
}
