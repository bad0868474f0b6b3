// End-to-end test of the web pages: `facepipe serve` on 127.0.0.1 and Debian's
// headless chromium, driven by tests/browser/pages.js (puppeteer-core), with a
// fake webcam playing a video this test makes from npm's face-api sample photos.
// The server starts on the demo dataset (scripts/make_demo_dataset.sh) with an
// API key; the pages are opened through the login form. A new person is
// enrolled through the Enrol page (uploads, and a webcam snapshot it must
// refuse), the Live page (two tabs) must name them and call a stranger unknown,
// then the CLI enrols the stranger and the open pages must name them too,
// without a reload. The Photo page annotates a group photo; the Enrol page
// removes a photo and a person. The Unknown faces page shows the faces
// `predict --collect-unknown` kept before the server started, grouped; naming the
// largest group enrols that person, whom recognize then names.
//
// Screenshots of the pages go to $FACEPIPE_SCREENSHOT_DIR when set (the README's
// docs/serve-*.png are made with FACEPIPE_SCREENSHOT_DIR=docs), else to the
// test's temp folder.
#include <doctest/doctest.h>
#include <signal.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "e2e.h"
#include "e2e_script.h"
#include "serve_util.h"
#include "testutil.h"

using namespace facepipe::test;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const fs::path kSource = FACEPIPE_SOURCE_DIR;
const fs::path kSamples = kSource / ".cache/npm/face-api/package/demo";
const fs::path kNodeModules = kSource / ".cache/npm/browser/node_modules";
constexpr const char* kChromium = "/usr/bin/chromium";

// The fake webcam: 640x360, two portraits side by side swaying a little, in a
// loop of kFrames that chromium plays over and over.
constexpr int kW = 640, kH = 360, kFrames = 30, kFps = 15;

// A face cut from a sample photo with half a face of margin on every side (the
// face is the middle half of the portrait), as test_e2e_live.cpp does.
cv::Mat portrait(const std::string& photo, const cv::Rect& face, double margin = 0.5) {
    const cv::Mat img = cv::imread((kSamples / photo).string());
    REQUIRE(!img.empty());
    const int m = static_cast<int>(face.width * margin);
    return img(cv::Rect(face.x - m, face.y - m, face.width + 2 * m, face.height + 2 * m)).clone();
}

// Boxes as `facepipe predict` reports them on these pinned photos; neither
// person is in the demo dataset.
const cv::Rect kAdaFace{1163, 366, 225, 227};   // sample6.jpg
const cv::Rect kGraceFace{366, 939, 227, 225};  // sample5.jpg

cv::Rect ada_at(int f) {
    const int dx = static_cast<int>(std::lround(15 * std::sin(2 * M_PI * f / kFrames)));
    return {70 + dx, 80, 200, 200};
}
cv::Rect grace_at(int f) { return {370 - (ada_at(f).x - 70), 80, 200, 200}; }

// The middle half of a portrait's rect, as [x, y, w, h] in video pixels.
Json face_box(const cv::Rect& r) { return {r.x + r.width / 4, r.y + r.height / 4, r.width / 2, r.height / 2}; }

// YUV4MPEG2 with 4:2:0 frames: the format chromium's fake capture device reads.
void write_y4m(const fs::path& path, const cv::Mat& ada, const cv::Mat& grace) {
    std::ofstream out(path, std::ios::binary);
    out << "YUV4MPEG2 W" << kW << " H" << kH << " F" << kFps << ":1 Ip A1:1 C420jpeg\n";
    for (int f = 0; f < kFrames; ++f) {
        cv::Mat canvas(kH, kW, CV_8UC3, cv::Scalar(90, 100, 110)), scaled, yuv;
        for (const auto& [img, r] : {std::pair{ada, ada_at(f)}, std::pair{grace, grace_at(f)}}) {
            cv::resize(img, scaled, r.size(), 0, 0, cv::INTER_AREA);
            scaled.copyTo(canvas(r));
        }
        cv::cvtColor(canvas, yuv, cv::COLOR_BGR2YUV_I420);  // Y plane, then U, then V
        out << "FRAME\n";
        out.write(reinterpret_cast<const char*>(yuv.data), static_cast<std::streamsize>(yuv.total()));
    }
    REQUIRE(out.good());
}

}  // namespace

TEST_CASE("slow e2e: browser logs in, enrols, names live in two tabs, follows a CLI retrain, annotates a photo") {
    REQUIRE_MESSAGE(fs::exists(kSamples / "sample6.jpg"), "npm samples missing: run scripts/setup.sh --tests");
    REQUIRE_MESSAGE(fs::exists(kChromium), "chromium missing: scripts/setup.sh --tests installs it");
    REQUIRE_MESSAGE(fs::exists(kNodeModules / "puppeteer-core"),
                    "puppeteer-core missing: run scripts/npm_cache.sh --with-js (setup.sh --tests does)");
    REQUIRE(std::system("command -v node >/dev/null") == 0);

    TempDir dir;
    make_demo_model(dir.path());  // the server starts with seven people

    // Ada's photos go through the Enrol page, with a group photo and a text file
    // it must refuse; the stranger's ("Grace") through the CLI later.
    const fs::path up = dir / "upload";
    fs::create_directories(up);
    cv::imwrite((up / "ada-1.jpg").string(), portrait("sample6.jpg", kAdaFace));
    cv::imwrite((up / "ada-2.jpg").string(), portrait("sample6.jpg", kAdaFace, 0.8));
    fs::copy_file(kSamples / "sample1.jpg", up / "group.jpg");
    spit(up / "notes.txt", "not a photo\n");
    cv::imwrite((dir / "grace.jpg").string(), portrait("sample5.jpg", kGraceFace));
    write_y4m(dir / "webcam.y4m", portrait("sample6.jpg", kAdaFace), portrait("sample5.jpg", kGraceFace));

    // Unknown faces for the Unknown faces page: the stranger ("Grace") three
    // times, and the other faces of sample5.jpg; collected into unknown/ beside
    // the model, where serve looks.
    cv::imwrite((up / "grace-2.jpg").string(), portrait("sample5.jpg", kGraceFace, 0.8));
    cv::imwrite((up / "grace-3.jpg").string(), portrait("sample5.jpg", kGraceFace, 0.3));
    const auto collect = run_facepipe_m({"predict", "--collect-unknown=unknown", (up / "grace-2.jpg").string(),
                                       (up / "grace-3.jpg").string(), (kSamples / "sample5.jpg").string()},
                                      dir.path());
    REQUIRE_MESSAGE(collect.exit_code == 0, collect.err);

    const char* keep = std::getenv("FACEPIPE_SCREENSHOT_DIR");
    const fs::path shots = keep ? fs::absolute(keep) : dir / "shots";
    fs::create_directories(shots);
    for (const char* name : {"serve-enrol.png", "serve-live.png", "serve-photo.png", "serve-unknown.png"})
        fs::remove(shots / name);

    // With a key, as a server that is not only on loopback must have: the pages
    // go through the login form first, then use its cookie.
    const std::string key = "browser-test-key-7f3a";
    spit(dir / "api.key", key + "\n");
    fs::permissions(dir / "api.key", fs::perms::owner_read | fs::perms::owner_write);
    ServeProcess server(dir.path(), {"--api-key-file", "api.key"});

    const Json ada = {{"label", "Ada"}, {"box", face_box(ada_at(0))}};
    const Json config = {
        {"base", "http://127.0.0.1:" + std::to_string(server.port()) + "/"},
        {"chromium", kChromium},
        {"profile", (dir / "chromium-profile").string()},
        {"node_modules", kNodeModules.string()},
        {"video", (dir / "webcam.y4m").string()},
        {"video_width", kW},
        {"screenshots", shots.string()},
        {"timeout_ms", 120000},
        {"total_timeout_ms", 480000},
        {"key", key},
        {"people_before", 7},
        {"enrol",
         {{"name", "Ada"},
          {"photos", {(up / "ada-1.jpg").string(), (up / "ada-2.jpg").string(), (up / "group.jpg").string(),
                      (up / "notes.txt").string()}},
          {"verdicts",
           {{"ada-1.jpg", "accepted"},
            {"ada-2.jpg", "accepted"},
            {"group.jpg", "several_faces"},
            {"notes.txt", "not_an_image"},
            {"webcam-1.jpg", "several_faces"}}}}},  // a snapshot of the fake webcam: Ada and the stranger
        {"scene", {ada, {{"label", "unknown"}, {"box", face_box(grace_at(0))}}}},
        {"reload",
         {{"argv", facepipe_argv_m({"enroll", "Grace", "grace.jpg"})},
          {"cwd", dir.path().string()},
          {"scene", {ada, {{"label", "Grace"}, {"box", face_box(grace_at(0))}}}}}},
        {"photo",
         {{"file", (kSamples / "sample5.jpg").string()},
          {"labels", {"Grace", "unknown", "unknown", "unknown", "unknown"}}}},
        {"remove",
         {{"photo_of", "Ada"},
          {"person", "Grace"},
          {"scene", {ada, {{"label", "unknown"}, {"box", face_box(grace_at(0))}}}}}},
        {"unknown",
         {{"groups_at_least", 2}, {"faces_at_least", 3}, {"name", "Grace"},
          {"photo", (dir / "grace.jpg").string()}, {"label", "Grace"}}},
    };
    spit(dir / "browser.json", config.dump(2));

    Child node({"node", (kSource / "tests/browser/pages.js").string(), (dir / "browser.json").string()}, dir.path());
    const bool finished = eventually([&] { return !node.running(); }, 540);
    if (!finished) {  // SIGTERM first: puppeteer then ends chromium, which runs in a process group of its own
        node.kill_group(SIGTERM);
        if (!eventually([&] { return !node.running(); }, 10)) node.kill_group(SIGKILL);
    }
    const auto run = node.wait();
    CHECK_MESSAGE(finished, "pages.js did not finish in 9 minutes");

    std::map<std::string, Json> steps;
    std::istringstream lines(run.out);
    for (std::string line; std::getline(lines, line);) {
        if (line.empty() || line[0] != '{') continue;
        const Json j = Json::parse(line);
        steps[j.at("step")] = j;
        if (j.at("ok") == true) MESSAGE(j["step"].get<std::string>() << " (" << j["ms"] << " ms): " << j["detail"].dump());
    }
    for (const char* name :
         {"the pages need the key: the login form refuses a wrong one, opens them with the right one",
          "enrol page lists the people", "enrol a person by upload",
          "live names the person and calls a stranger unknown, in two tabs at once",
          "live names a person the CLI enrols, without a reload", "photo page annotates an upload",
          "enrol page removes a photo, then a person; the Live page follows",
          "unknown faces page shows the groups, names one; the person is then recognised",
          "no script errors on the pages"}) {
        INFO("step: " << std::string(name));
        REQUIRE_MESSAGE(steps.count(name) == 1, "not reached; pages.js exit " << run.exit_code << "\n"
                                                                              << run.out << run.err);
        CHECK_MESSAGE(steps[name]["ok"] == true, steps[name].value("error", ""));
    }
    CHECK(run.exit_code == 0);

    for (const char* name : {"serve-enrol.png", "serve-live.png", "serve-photo.png", "serve-unknown.png"}) {
        const cv::Mat png = cv::imread((shots / name).string());
        CHECK_MESSAGE(png.cols >= 800, name);
    }

    const auto s = server.stop();  // SIGTERM: finishes what is in flight, exits 0
    CHECK_MESSAGE(s.exit_code == 0, s.err);
}
