// A failed or cancelled enrolment or removal changes nothing (lib/rollback.h
// through enroll.h and people.h): failures are injected after photos were
// copied (training options that throw, a labels file that cannot be written,
// a progress callback that cancels), and the whole folder — dataset, augmented
// copies, encodings.bin, its journal, model.bin, labels.bin — must be as before.
#include <doctest/doctest.h>

#include <map>
#include <stdexcept>

#include "classifier.h"
#include "enroll.h"
#include "error.h"
#include "fsutil.h"
#include "people.h"
#include "rollback.h"
#include "sample_faces.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe;
using namespace facepipe::test;

namespace {

// Every entry under `root` (but the lock file): a file's bytes, or "<folder>".
std::map<std::string, std::string> tree(const fs::path& root) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        const std::string rel = fs::relative(e.path(), root).string();
        if (rel == "facepipe.lock") continue;
        out[rel] = e.is_directory() ? "<folder>" : slurp_file(e.path());
    }
    return out;
}

// The keys that differ between two trees, for the failure message.
std::string diff(const std::map<std::string, std::string>& a, const std::map<std::string, std::string>& b) {
    std::string d;
    for (const auto& [k, v] : a)
        if (!b.count(k)) d += " -" + k;
        else if (b.at(k) != v) d += " ~" + k;
    for (const auto& [k, v] : b)
        if (!a.count(k)) d += " +" + k;
    return d;
}

Photo photo_of(const std::string& face, const std::string& name) {
    return Photo{name, image_bytes(sample_portrait(face))};
}

struct Cancelled : std::runtime_error {
    Cancelled() : std::runtime_error("cancelled") {}
};

}  // namespace

TEST_CASE("a failed enrolment of a first person leaves no folder, photo or artifact behind") {
    TempDir dir;
    EnrollOptions o = enroll_options_in(dir.path());
    fs::create_directories(o.dataset);
    const auto before = tree(dir.path());
    o.train.target_far = 5;  // train refuses it, after augment and encode ran
    CHECK_THROWS_WITH_AS(enroll("alice", {photo_of("sample1-a", "a.jpg")}, o, sample_models()),
                         doctest::Contains("train options"), Error);
    const auto after = tree(dir.path());
    CHECK_MESSAGE(after == before, diff(before, after));
    CHECK(!fs::exists(o.encodings));
    CHECK(!fs::exists(o.encodings.string() + ".journal"));
}

TEST_CASE("a failed enrolment into an existing dataset puts the photos, copies and artifacts back as they were") {
    TempDir dir;
    const EnrollOptions o = enroll_options_in(dir.path(), 2);
    REQUIRE(enroll("alice", {photo_of("sample1-a", "a.jpg")}, o, sample_models()).retrained);
    const auto before = tree(dir.path());
    REQUIRE(before.count("encodings.bin"));

    SUBCASE("training fails: encodings.bin, rewritten by encode, comes back") {
        EnrollOptions bad = o;
        bad.train.target_far = 5;
        CHECK_THROWS_AS(enroll("bob", {photo_of("sample2-a", "b.jpg")}, bad, sample_models()), Error);
        // The same for more photos of a person already there.
        CHECK_THROWS_AS(enroll("alice", {Photo{"a2.jpg", image_bytes(mirrored(sample_portrait("sample1-a")))}}, bad,
                               sample_models()),
                        Error);
    }
    SUBCASE("labels.bin cannot be written: model.bin, already replaced, comes back") {
        EnrollOptions bad = o;
        bad.lock = dir / "facepipe.lock";
        bad.labels = dir / "no such folder" / "labels.bin";
        CHECK_THROWS_AS(enroll("bob", {photo_of("sample2-a", "b.jpg")}, bad, sample_models()), Error);
    }
    SUBCASE("cancelled from the progress callback, in each stage") {
        for (const char* stage : {"augment", "encode", "train", "save"}) {
            EnrollOptions bad = o;
            bad.progress = [stage](std::string_view s, double f) {
                if (s == stage && (f > 0 || s == "train" || s == "save")) throw Cancelled();
            };
            CHECK_THROWS_AS_MESSAGE(enroll("bob", {photo_of("sample2-a", "b.jpg")}, bad, sample_models()), Cancelled,
                                    stage);
            const auto after = tree(dir.path());
            CHECK_MESSAGE(after == before, stage, diff(before, after));
        }
    }
    const auto after = tree(dir.path());
    CHECK_MESSAGE(after == before, diff(before, after));
    CHECK(Classifier::load(o.model.string(), o.labels.string()).names() == std::vector<std::string>{"alice"});
}

TEST_CASE("a failed removal puts the person or photo back, with its copies, and the model as it was") {
    TempDir dir;
    const EnrollOptions o = enroll_options_in(dir.path());
    const cv::Mat a = sample_portrait("sample1-a");
    REQUIRE(enroll("alice", {Photo{"a1.jpg", image_bytes(a)}, Photo{"a2.jpg", image_bytes(mirrored(a))}}, o,
                   sample_models())
                .retrained);
    REQUIRE(enroll("bob", {photo_of("sample2-a", "b.jpg")}, o, sample_models()).retrained);
    const auto before = tree(dir.path());
    EnrollOptions bad = o;
    bad.train.target_far = 5;
    CHECK_THROWS_AS(remove_person("alice", bad, sample_models()), Error);
    CHECK_THROWS_AS(remove_photo("alice", "a1.jpg", bad, sample_models()), Error);
    CHECK_THROWS_AS(remove_photo("bob", "b.jpg", bad, sample_models()), Error);
    const auto after = tree(dir.path());
    CHECK_MESSAGE(after == before, diff(before, after));
    CHECK(Classifier::load(o.model.string(), o.labels.string()).names() == std::vector<std::string>{"alice", "bob"});
}

TEST_CASE("Rollback undoes what a change declared, keeps it on commit, and clears a dead run's leftovers") {
    TempDir dir;
    const fs::path d = dir / "dataset";
    fs::create_directories(d / "p" / "augmented");
    write_file_atomic((d / "p" / "1.jpg").string(), "one");
    write_file_atomic((d / "p" / "augmented" / "1.jpg~00000000~00-flip.jpg").string(), "copy");
    write_file_atomic((dir / "model.bin").string(), "old model");
    write_file_atomic((dir / "journal").string(), "old journal");
    // What a run killed mid-change leaves.
    write_file_atomic((dir / "model.bin.undo").string(), "stale");
    fs::create_directories(d / ".facepipe-undo-1-2" / "0");
    {
        Rollback r(d, {dir / "model.bin", dir / "labels.bin"}, {dir / "journal"});
        CHECK(!fs::exists(d / ".facepipe-undo-1-2"));
    }
    const auto before = tree(dir.path());
    CHECK(!before.count("model.bin.undo"));
    {
        Rollback r(d, {dir / "model.bin", dir / "labels.bin"}, {dir / "journal"});
        r.added_folder(d / "q");
        fs::create_directories(d / "q" / "augmented");
        r.added(d / "q" / "2.jpg");
        write_file_atomic((d / "q" / "2.jpg").string(), "two");
        write_file_atomic((d / "q" / "augmented" / "2.jpg~00000000~00-flip.jpg").string(), "copy 2");
        write_file_atomic((d / "p" / "augmented" / "1.jpg~00000000~01-blur.jpg").string(), "copy 1b");
        r.move_aside(d / "p" / "1.jpg");
        CHECK(!fs::exists(d / "p" / "1.jpg"));
        write_file_atomic((dir / "model.bin").string(), "new model");
        write_file_atomic((dir / "labels.bin").string(), "new labels");
        write_file_atomic((dir / "journal").string(), "new journal");
    }
    const auto undone = tree(dir.path());
    CHECK_MESSAGE(undone == before, diff(before, undone));
    {
        Rollback r(d, {dir / "model.bin"}, {});
        r.move_aside(d / "p");
        write_file_atomic((dir / "model.bin").string(), "new model");
        r.commit();
    }
    CHECK(!fs::exists(d / "p"));
    CHECK(slurp_file(dir / "model.bin") == "new model");
    CHECK(!fs::exists(dir / "model.bin.undo"));
    for (const auto& e : fs::directory_iterator(d)) CHECK(e.path().filename().string()[0] != '.');
}
