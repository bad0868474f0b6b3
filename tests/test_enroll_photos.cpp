// Tests of enroll from photos in memory (lib/enroll.h): each photo's verdict,
// where accepted uploads are stored (never outside dataset/<person>/, whatever
// their names), the CLI's lines derived from the verdicts, and the progress of
// the retrain. Real faces from npm's samples (faces.h).
#include <doctest/doctest.h>

#include <algorithm>
#include <opencv2/imgproc.hpp>

#include "classifier.h"
#include "enroll.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "faces.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe;
using namespace facepipe::test;
using Kind = PhotoVerdict::Kind;

namespace {

// Every regular file under `root`, relative to it.
std::vector<std::string> files_under(const fs::path& root) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (e.is_regular_file()) out.push_back(fs::relative(e.path(), root).string());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST_CASE("enroll from memory stores accepted photos under their last name component, or a safe made-up one") {
    SKIP_IF(npm_samples_missing());
    TempDir dir;
    const EnrollOptions o = enroll_options_in(dir.path());
    const std::string a = image_bytes(portrait("sample1-a"));
    const std::string b = image_bytes(mirrored(portrait("sample1-a")), ".png");
    cv::Mat smaller;
    cv::resize(portrait("sample1-a"), smaller, {}, 0.8, 0.8, cv::INTER_AREA);
    const std::string c = image_bytes(smaller);
    cv::Mat grey;
    cv::cvtColor(portrait("sample1-a"), grey, cv::COLOR_BGR2GRAY);
    cv::cvtColor(grey, grey, cv::COLOR_GRAY2BGR);
    const std::string d = image_bytes(grey);

    const std::vector<Photo> photos = {{"../../../outside/alice.jpg", a},
                                       {"C:\\Users\\x\\b.png", b},
                                       {"", c},
                                       {"new\nline.jpg", d}};
    const EnrollReport r = enroll("Alice", photos, o, test_models());
    REQUIRE(r.verdicts.size() == photos.size());
    for (std::size_t i = 0; i < photos.size(); ++i) {
        CHECK(r.verdicts[i].photo == photos[i].name);
        CHECK_MESSAGE(r.verdicts[i].kind == Kind::accepted, r.verdicts[i].line());
        CHECK(r.verdicts[i].detail.empty());
    }
    CHECK(r.verdicts[0].id == "alice.jpg");
    CHECK(r.verdicts[1].id == "photo-" + sha256_hex(b).substr(0, 12) + ".png");  // (a backslash)
    CHECK(r.verdicts[2].id == "photo-" + sha256_hex(c).substr(0, 12) + ".jpg");
    CHECK(r.verdicts[3].id == "photo-" + sha256_hex(d).substr(0, 12) + ".jpg");
    std::vector<std::string> added;
    for (const auto& v : r.verdicts) added.push_back("Alice/" + v.id);
    CHECK(r.added == added);
    CHECK(r.refused.empty());
    CHECK(r.duplicates.empty());
    CHECK(r.retrained);
    CHECK(slurp_file(o.dataset / "Alice" / "alice.jpg") == a);
    CHECK(slurp_file(o.dataset / "Alice" / r.verdicts[1].id) == b);
    // Nothing outside dataset/Alice/ but the artifacts and the lock.
    for (const auto& f : files_under(dir.path())) {
        const bool expected = f.rfind("dataset/Alice/", 0) == 0 || f == "encodings.bin" || f == "model.bin" ||
                              f == "labels.bin" || f == "facepipe.lock";
        CHECK_MESSAGE(expected, f);
    }
    CHECK(Classifier::load(o.model.string(), o.labels.string()).names() == std::vector<std::string>{"Alice"});
}

TEST_CASE("enroll gives every photo its verdict, in the order given, and derives the CLI's lines from them") {
    SKIP_IF(npm_samples_missing());
    TempDir dir;
    const EnrollOptions o = enroll_options_in(dir.path());
    const std::string face = image_bytes(portrait("sample3-a"));
    const std::string face2 = image_bytes(mirrored(portrait("sample3-a")));
    // A photo already stored: its repeat in the next batch is a duplicate of it.
    fs::create_directories(o.dataset / "carol");
    write_file_atomic((o.dataset / "carol" / "old.jpg").string(), face2);

    const std::vector<Photo> photos = {
        {"group.jpg", image_bytes(two_faces())},
        {"carol.jpg", face},
        {"notes.jpg", "this is not a picture\n"},
        {"blank.png", image_bytes(faceless_picture(), ".png")},
        {"again.jpg", face},
        {"huge.png", png_claiming_size(20000, 20000)},
        {"half.jpg", face.substr(0, face.size() / 2)},
        {"old copy.jpg", face2},
    };
    const EnrollReport r = enroll("carol", photos, o, test_models());
    REQUIRE(r.verdicts.size() == photos.size());
    const Kind kinds[] = {Kind::several_faces, Kind::accepted,  Kind::not_an_image, Kind::no_face,
                          Kind::duplicate,     Kind::too_large, Kind::not_an_image, Kind::duplicate};
    for (std::size_t i = 0; i < photos.size(); ++i) {
        CHECK_MESSAGE(r.verdicts[i].kind == kinds[i], r.verdicts[i].line());
        CHECK(r.verdicts[i].photo == photos[i].name);
        CHECK(r.verdicts[i].line().find('\n') == std::string::npos);
    }
    CHECK(r.verdicts[0].detail == "shows 2 faces; enrol photos of carol alone (or cropped to their face)");
    CHECK(r.verdicts[1].id == "carol.jpg");
    CHECK(r.verdicts[2].detail == "not a usable image: not a recognised image format");
    CHECK(r.verdicts[3].detail == "no face found");
    CHECK(r.verdicts[4].detail == "same photo as carol.jpg, skipped");
    CHECK(r.verdicts[4].id == "carol.jpg");  // the copy stored from this batch
    CHECK(r.verdicts[5].detail.find("over the 60 MP limit") != std::string::npos);
    CHECK(r.verdicts[6].detail == "not a usable image: truncated JPEG");
    CHECK(r.verdicts[7].detail == "same photo as carol/old.jpg, skipped");
    CHECK(r.verdicts[7].id == "old.jpg");
    CHECK(std::string(to_string(Kind::several_faces)) == "several_faces");
    CHECK(std::string(to_string(Kind::too_large)) == "too_large");

    CHECK(r.refused == std::vector<std::string>{r.verdicts[0].line(), r.verdicts[2].line(), r.verdicts[3].line(),
                                                r.verdicts[5].line(), r.verdicts[6].line()});
    CHECK(r.duplicates == std::vector<std::string>{"again.jpg: same photo as carol.jpg, skipped",
                                                   "old copy.jpg: same photo as carol/old.jpg, skipped"});
    CHECK(r.added == std::vector<std::string>{"carol/carol.jpg"});
    CHECK(r.retrained);
    CHECK(!fs::exists(o.dataset / "carol" / "group.jpg"));
    CHECK(!fs::exists(o.dataset / "carol" / "again.jpg"));
}

TEST_CASE("enroll of files: one that cannot be read is unreadable, one over the size limit too_large") {
    SKIP_IF(npm_samples_missing());
    TempDir dir;
    EnrollOptions o = enroll_options_in(dir.path());
    o.limits.max_file_bytes = 1000;
    write_file_atomic((dir / "big.jpg").string(), image_bytes(portrait("sample2-a")));
    const EnrollReport r = enroll("bob", {dir / "missing.jpg", dir / "big.jpg"}, o, test_model_files());
    REQUIRE(r.verdicts.size() == 2);
    CHECK(r.verdicts[0].kind == Kind::unreadable);
    CHECK(r.verdicts[0].photo == (dir / "missing.jpg").string());
    CHECK(r.verdicts[0].detail.rfind("not a usable image: cannot open", 0) == 0);
    CHECK(r.verdicts[1].kind == Kind::too_large);
    CHECK(r.verdicts[1].detail.find("file is too large") != std::string::npos);
    CHECK(r.refused.size() == 2);
    CHECK(!r.retrained);
    CHECK(!fs::exists(o.dataset / "bob"));
    CHECK(!fs::exists(o.model));
}

TEST_CASE("enroll reports the retrain's progress: augment, encode, train, save, each from 0 to 1") {
    SKIP_IF(npm_samples_missing());
    TempDir dir;
    EnrollOptions o = enroll_options_in(dir.path());
    std::vector<std::pair<std::string, double>> seen;
    o.progress = [&](std::string_view stage, double fraction) { seen.emplace_back(std::string(stage), fraction); };
    const EnrollReport r = enroll("dave", {Photo{"d.jpg", image_bytes(portrait("sample1-c"))}}, o,
                                  test_model_files());
    REQUIRE(r.retrained);
    const std::vector<std::string> order = {"augment", "encode", "train", "save"};
    std::vector<std::string> stages;
    for (const auto& [stage, fraction] : seen)
        if (stages.empty() || stages.back() != stage) stages.push_back(stage);
    CHECK(stages == order);
    for (const auto& stage : order) {
        std::vector<double> f;
        for (const auto& [s, fraction] : seen)
            if (s == stage) f.push_back(fraction);
        REQUIRE_MESSAGE(!f.empty(), stage);
        CHECK_MESSAGE(f.front() == 0.0, stage);
        CHECK_MESSAGE(f.back() == 1.0, stage);
        CHECK_MESSAGE(std::is_sorted(f.begin(), f.end()), stage);
    }
}
