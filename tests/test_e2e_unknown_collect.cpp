// End-to-end tests of `--collect-unknown` (lib/unknown_collect.h) through the
// binary: predict over photos of people not enrolled keeps their faces, not the
// enrolled ones', once per photo and face, within --collect-max; live keeps a
// few faces per unknown track of the shared video; a kill -9 mid-run leaves a
// store that opens, and the next run completes it.
//
// The model: obama and biden from ../shared/data/faces (a few seconds to encode).
#include <doctest/doctest.h>
#include <signal.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <sstream>

#include "e2e.h"
#include "e2e_script.h"
#include "faces.h"
#include "image.h"
#include "recognizer.h"
#include "testutil.h"
#include "unknown_store.h"

using namespace facepipe::test;
using facepipe::UnknownFace;
using facepipe::UnknownStore;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kStrangers = {"amy", "howard"};

// work/: dataset/ (obama, biden) encoded and trained; photos/: the strangers' photos
// and one of obama's. Returns the number of stranger photos.
int make_work(const fs::path& work) {
    const fs::path faces = shared_data() / "faces";
    fs::create_directories(work / "dataset");
    for (const char* p : {"obama", "biden"}) fs::copy(faces / p, work / "dataset" / p, fs::copy_options::recursive);
    int strangers = 0;
    fs::create_directories(work / "photos");
    for (const auto& s : kStrangers)
        for (const auto& e : fs::directory_iterator(faces / s)) {
            fs::copy_file(e.path(), work / "photos" / (s + "-" + e.path().filename().string()));
            ++strangers;
        }
    fs::copy_file(faces / "obama" / "obama1.jpg", work / "photos" / "obama1.jpg");
    auto r = run_facepipe_m({"encode", "-q"}, work);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    r = run_facepipe_m({"train", "-q"}, work);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return strangers;
}

// The faces a predict CSV labelled unknown.
int unknown_rows(const std::string& csv) {
    int n = 0;
    for (const auto& row : parse_predict_csv(csv)) n += row.status == "ok" && row.label == "unknown";
    return n;
}

// Every crop is 0600 and gives a face again when analysed as encode analyses it.
void check_crops(const fs::path& dir, const std::vector<UnknownFace>& faces) {
    facepipe::FaceAnalyzer analyzer(test_models());
    for (const auto& f : faces) {
        CAPTURE(f.crop());
        const fs::path crop = dir / f.crop();
        REQUIRE(fs::is_regular_file(crop));
        CHECK(file_mode(crop) == 0600);
        int found = 0;
        analyzer.analyze(facepipe::load_image(crop.string()), 1, &found);
        CHECK(found >= 1);
    }
}

}  // namespace

TEST_CASE("e2e: predict --collect-unknown keeps strangers once, not enrolled people, within --collect-max") {
    SKIP_IF(shared_data_missing({"faces/obama", "faces/biden", "faces/amy", "faces/howard"}));
    TempDir tmp;
    const fs::path work = tmp / "work";
    const int strangers = make_work(work);

    auto r = run_facepipe_m({"predict", "photos", "-f", "csv", "--collect-unknown"}, work);
    INFO("stdout: ", r.out, "\nstderr: ", r.err);
    REQUIRE(r.exit_code == 0);
    const int unknown = unknown_rows(r.out);
    CHECK(unknown >= strangers - 1);  // every stranger's photo has one face (a detector may miss one)
    const fs::path dir = work / "unknown";  // the default: beside model.bin
    CHECK(file_mode(dir) == 0700);
    CHECK(file_mode(dir / "faces.bin") == 0600);
    std::vector<UnknownFace> faces = UnknownStore(dir).faces();
    CHECK(static_cast<int>(faces.size()) == unknown);  // the shared photos pass every gate
    CHECK(r.err.find("kept " + std::to_string(unknown) + " unknown faces in") != std::string::npos);
    std::set<std::string> sources;
    for (const auto& f : faces) {
        CAPTURE(f.source);
        sources.insert(f.source);
        CHECK(f.source.rfind("photos/", 0) == 0);
        CHECK(f.source.find("obama") == std::string::npos);  // enrolled: never collected
        CHECK(f.time_s == -1);
        CHECK((f.nearest == "obama" || f.nearest == "biden"));
        CHECK(f.distance > 0.4f);
        CHECK(f.score > 0);
        CHECK(f.seen_unix_ms > 0);
    }
    CHECK(sources.size() == faces.size());  // one face per photo here
    check_crops(dir, faces);

    // The same photos again: nothing new (same source and box).
    r = run_facepipe_m({"predict", "photos", "-f", "csv", "--collect-unknown"}, work);
    REQUIRE(r.exit_code == 0);
    CHECK(UnknownStore(dir).faces().size() == faces.size());
    CHECK(r.err.find("kept 0 unknown faces") != std::string::npos);
    CHECK(r.err.find(std::to_string(unknown) + " already kept") != std::string::npos);

    // A copy of a photo under another name is the same photo.
    fs::create_directories(work / "copies");
    fs::copy_file(work / "photos" / fs::path(faces.front().source).filename(), work / "copies" / "again.png");
    r = run_facepipe_m({"predict", "copies", "--collect-unknown"}, work);
    REQUIRE(r.exit_code == 0);
    CHECK(UnknownStore(dir).faces().size() == faces.size());
    CHECK(r.err.find("1 already kept") != std::string::npos);

    // --collect-max: the newest 3 (photos are labelled in sorted order).
    r = run_facepipe_m({"predict", "--collect-unknown=small", "--collect-max", "3", "photos", "-f", "csv"}, work);
    REQUIRE(r.exit_code == 0);
    const auto three = UnknownStore(work / "small", 3).faces();
    REQUIRE(three.size() == 3);
    CHECK(three.back().source == faces.back().source);
    int crops = 0;
    for (const auto& e : fs::directory_iterator(work / "small" / "faces")) crops += e.is_regular_file();
    CHECK(crops == 3);

    // A gate: nothing is as large as this.
    r = run_facepipe_m({"predict", "--collect-unknown=none", "--collect-min-size", "5000", "photos"}, work);
    REQUIRE(r.exit_code == 0);
    CHECK(UnknownStore(work / "none").faces().empty());
    CHECK(r.err.find(std::to_string(unknown) + " small") != std::string::npos);
}

TEST_CASE("e2e: live --collect-unknown keeps a few faces per unknown track of a video") {
    SKIP_IF(shared_data_missing({"faces/obama", "faces/biden", "video/short_hamilton_clip.mp4"}));
    TempDir tmp;
    const fs::path work = tmp / "work";
    make_work(work);
    const fs::path video = shared_data() / "video" / "short_hamilton_clip.mp4";
    const auto r = run_facepipe_m({"live", "--video", video.string(), "--headless", "--every-frame",
                                   "--collect-unknown=unk", "--collect-per-track", "2"},
                                  work);
    INFO("stdout: ", r.out, "\nstderr: ", r.err);
    REQUIRE(r.exit_code == 0);
    std::set<int> unknown_tracks;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
        const auto j = nlohmann::json::parse(line);
        if (j["event"] == "gone" && j["known"] == false) unknown_tracks.insert(j["track"].get<int>());
    }
    REQUIRE(!unknown_tracks.empty());  // nobody in the clip is enrolled
    const auto faces = UnknownStore(work / "unk").faces();
    CHECK(faces.size() >= 1);
    CHECK(faces.size() <= 2 * unknown_tracks.size());
    for (const auto& f : faces) {
        CHECK(f.source == video.string());
        CHECK(f.time_s >= 0);
        CHECK(f.time_s <= 10);  // the clip is 9.2 s long
    }
    check_crops(work / "unk", faces);
}

TEST_CASE("e2e: kill -9 of predict --collect-unknown leaves a store that opens, and the next run completes it") {
    SKIP_IF(shared_data_missing({"faces/obama", "faces/biden", "faces/amy", "faces/howard"}));
    TempDir tmp;
    const fs::path work = tmp / "work";
    const int strangers = make_work(work);
    // Enough photos that the run takes a few seconds: copies under other names, each
    // with one pixel changed (a byte-identical copy would be the same photo).
    for (int i = 0; i < 6; ++i)
        for (const auto& s : kStrangers)
            for (const auto& e : fs::directory_iterator(shared_data() / "faces" / s)) {
                cv::Mat img = cv::imread(e.path().string(), cv::IMREAD_COLOR);
                REQUIRE(!img.empty());
                img.at<cv::Vec3b>(0, 0) = cv::Vec3b(i * 40, 1, 2);
                write_image(work / "photos" / ("copy" + std::to_string(i) + "-" + e.path().stem().string() + ".png"), img);
            }
    const int photos = 7 * strangers;
    Child run(facepipe_argv_m({"predict", "photos", "-j", "1", "-f", "csv", "--collect-unknown"}), work);
    const fs::path bin = work / "unknown" / "faces.bin";
    REQUIRE(eventually([&] { return fs::exists(bin) && fs::file_size(bin) > facepipe::kUnknownHeaderBytes + 600; }, 120));
    run.kill_group(SIGKILL);
    const RunResult killed = run.wait();
    CHECK(killed.exit_code == 128 + SIGKILL);
    const auto some = UnknownStore(work / "unknown").faces();  // opens: a torn tail is dropped
    CHECK(some.size() >= 1);
    auto r = run_facepipe_m({"predict", "photos", "-f", "csv", "--collect-unknown"}, work);
    INFO("stderr: ", r.err);
    REQUIRE(r.exit_code == 0);
    const auto all = UnknownStore(work / "unknown").faces();
    CHECK(static_cast<int>(all.size()) == unknown_rows(r.out));
    CHECK(static_cast<int>(all.size()) >= photos - 7);
    std::set<std::string> sources;
    for (const auto& f : all) sources.insert(f.source);
    CHECK(sources.size() == all.size());  // each photo's face once, across the two runs
}
