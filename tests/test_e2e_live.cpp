// End-to-end tests of `facepipe live` on a video the test makes itself: two
// enrolled faces and a stranger, cut from npm's face-api sample photos, moving
// and zooming over a plain background, with empty frames before and after.
// The model is trained on the demo dataset (scripts/make_demo_dataset.sh).
#include <doctest/doctest.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "e2e.h"
#include "e2e_script.h"
#include "faces.h"
#include "serve_util.h"  // make_demo_model
#include "testutil.h"
#include "tracker.h"
#include "types.h"

using namespace facepipe::test;
using facepipe::Box;
using facepipe::iou;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The scripted scene: frame i shows each portrait at rect(i) (none in the
// first and last kEmpty frames). A portrait is a face crop with half a face of
// margin on every side, so its face box is the middle half of it.
constexpr int kW = 640, kH = 360, kEmpty = 12, kMoving = 60, kFrames = kEmpty + kMoving + 2 * kEmpty;

struct Actor {
    std::string label;  // what live should call it
    cv::Mat portrait;
    cv::Rect rect(int i) const;  // i in [0, kMoving)
    int slot = 0;
};

cv::Rect Actor::rect(int i) const {
    const double t = i / double(kMoving - 1);
    switch (slot) {
        case 0: return {static_cast<int>(4 + 20 * t), static_cast<int>(70 + 40 * t), 200, 200};  // walks
        case 1: {  // zooms in, centred
            const int s = static_cast<int>(180 + 50 * t);
            return {320 - s / 2, 180 - s / 2, s, s};
        }
        default: return {436, static_cast<int>(150 - 90 * t), 200, 200};  // rises
    }
}

Box face_in(const cv::Rect& r) { return {r.x + r.width / 4, r.y + r.height / 4, r.width / 2, r.height / 2}; }

// The demo dataset, encoded and trained, plus the scripted video. Built once
// per test process (each TEST_CASE runs in its own). Without npm's samples it
// is not `ready`: the test has been skipped (skip_test) and returns.
struct LiveFixture {
    TempDir dir;
    std::vector<Actor> actors;
    fs::path video = dir / "scene.avi";
    bool ready = false;

    LiveFixture() {
        if (const std::string why = npm_samples_missing(); !why.empty()) {
            skip_test(why);
            return;
        }
        make_demo_model(dir.path());

        actors.push_back({"sample1-a", portrait("sample1-a"), 0});
        actors.push_back({"sample2-a", portrait("sample2-a"), 1});
        actors.push_back({"unknown", portrait("stranger"), 2});  // not enrolled
        write_video(video, 15);
        ready = true;
    }

    cv::Mat frame(int f) const {
        cv::Mat canvas(kH, kW, CV_8UC3, cv::Scalar(90, 100, 110));
        const int i = f - kEmpty;
        if (i < 0 || i >= kMoving) return canvas;
        for (const auto& a : actors) {
            cv::Mat scaled;
            const cv::Rect r = a.rect(i);
            cv::resize(a.portrait, scaled, r.size(), 0, 0, cv::INTER_AREA);
            scaled.copyTo(canvas(r));
        }
        return canvas;
    }

    void write_video(const fs::path& path, double fps, int frames = kFrames) const {
        cv::VideoWriter w(path.string(), cv::CAP_FFMPEG, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), fps, {kW, kH});
        REQUIRE(w.isOpened());
        for (int f = 0; f < frames; ++f) w.write(frame(f % kFrames));
    }
};

std::vector<Json> json_lines(const std::string& text) {
    std::vector<Json> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(Json::parse(line));
    return out;
}

std::vector<Json> events_of(const std::vector<Json>& all, const std::string& kind) {
    std::vector<Json> out;
    for (const auto& j : all)
        if (j.at("event") == kind) out.push_back(j);
    return out;
}

Box box_of(const Json& j) { return {j["box"][0], j["box"][1], j["box"][2], j["box"][3]}; }

// The complete lines a running Child has written to stdout since `offset`
// (advanced past them), parsed as JSON.
std::vector<Json> new_lines(const Child& c, std::size_t& offset) {
    const std::string out = c.out_so_far();
    const auto end = out.rfind('\n');
    if (end == std::string::npos || end + 1 <= offset) return {};
    auto lines = json_lines(out.substr(offset, end + 1 - offset));
    offset = end + 1;
    return lines;
}

}  // namespace

TEST_CASE("e2e: live headless follows and names the faces it was shown") {
    LiveFixture fx;
    if (!fx.ready) return;
    const auto r = run_facepipe_m({"live", "--video", "scene.avi", "--headless", "--every-frame", "--print-frames",
                                   "--record", "annotated.mp4"},
                                  fx.dir.path());
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto all = json_lines(r.out);
    REQUIRE(!all.empty());

    // Each actor: one track, named right from its first frame, never renamed.
    const auto appeared = events_of(all, "appeared");
    REQUIRE(appeared.size() == fx.actors.size());
    std::map<int, const Actor*> track_actor;
    for (const auto& e : appeared) {
        const int i = e["frame"].get<int>() - kEmpty;
        REQUIRE(i >= 0);
        CHECK(i < 10);  // found at the first detections after the faces come in
        const Actor* best = nullptr;
        for (const auto& a : fx.actors)
            if (iou(box_of(e), face_in(a.rect(i))) > 0.4) best = &a;
        REQUIRE_MESSAGE(best != nullptr, "a track appeared where no face was put: " << e.dump());
        CHECK(e["label"] == best->label);
        CHECK(e["known"] == (best->label != "unknown"));
        track_actor[e["track"]] = best;
    }
    CHECK(track_actor.size() == fx.actors.size());
    CHECK(events_of(all, "label_changed").empty());

    // Every frame: the boxes stay on the faces (detection or tracking alike).
    int frames_checked = 0;
    for (const auto& f : events_of(all, "frame")) {
        const int i = f["frame"].get<int>() - kEmpty;
        for (const auto& face : f["faces"]) {
            REQUIRE(i >= 0);
            REQUIRE(i < kMoving + 2);  // gone within two frames of the faces leaving
            if (i >= kMoving) continue;
            const Actor* a = track_actor.at(face["track"]);
            CHECK_MESSAGE(iou(box_of(face), face_in(a->rect(i))) > 0.4, "frame " << f["frame"] << " " << face.dump());
            CHECK(face["label"] == a->label);
        }
        ++frames_checked;
    }
    CHECK(frames_checked == kFrames);

    // Each track ends once the faces are gone, and the summary adds up.
    const auto gone = events_of(all, "gone");
    CHECK(gone.size() == fx.actors.size());
    for (const auto& g : gone) CHECK(g["frame"].get<int>() <= kEmpty + kMoving + 1);
    const Json s = all.back();
    REQUIRE(s["event"] == "summary");
    CHECK(s["frames"] == kFrames);
    CHECK(s["dropped"] == 0);
    CHECK(s["tracks"] == 3);
    CHECK(s["unknown_tracks"] == 1);
    CHECK(s["people"] == Json::array({"sample1-a", "sample2-a"}));
    CHECK(s["detections"].get<int>() < kFrames / 5);  // tracked, not detected, most of the time

    // The recording holds every frame, annotated.
    cv::VideoCapture rec((fx.dir / "annotated.mp4").string());
    REQUIRE(rec.isOpened());
    CHECK(rec.get(cv::CAP_PROP_FRAME_COUNT) == doctest::Approx(kFrames));
    cv::Mat mid;
    rec.set(cv::CAP_PROP_POS_FRAMES, kEmpty + kMoving / 2);
    REQUIRE(rec.read(mid));
    cv::Mat green;
    cv::inRange(mid, cv::Scalar(40, 170, 40), cv::Scalar(90, 230, 90), green);  // lossy codec: a loose range
    CHECK(cv::countNonZero(green) > 400);
}

TEST_CASE("e2e: live stops cleanly on Ctrl-C and still reports") {
    LiveFixture fx;
    if (!fx.ready) return;
    Child live(facepipe_argv_m({"live", "--video", "scene.avi", "--headless", "--print-frames"}), fx.dir.path());
    REQUIRE(eventually([&] { return !live.out_so_far().empty(); }, 20));  // running, in real time (~6 s of video)
    live.kill_group(SIGINT);
    const auto r = live.wait();
    CHECK(r.exit_code == 0);
    const auto rest = json_lines(r.out);
    REQUIRE(!rest.empty());
    CHECK(rest.back()["event"] == "summary");
    CHECK(rest.back()["interrupted"] == true);
    CHECK(rest.back()["frames"].get<int>() < kFrames);
    CHECK(r.err.find("faces seen") != std::string::npos);
}

TEST_CASE("e2e: live refuses what it cannot use, with documented exit codes") {
    TempDir dir;
    // No model: exit 2, naming the file.
    auto r = run_facepipe_m({"live", "--video", "none.mp4", "--headless"}, dir.path());
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("model.bin") != std::string::npos);
    CHECK(r.out.empty());

    LiveFixture fx;
    if (!fx.ready) return;
    // No such file: exit 1, one line naming it.
    r = run_facepipe_m({"live", "--video", "missing.mp4", "--headless"}, fx.dir.path());
    CHECK(r.exit_code == 1);
    CHECK(lines_with(r.err, "missing.mp4: no such file").size() == 1);
    // No camera device on these machines.
    r = run_facepipe_m({"live", "--camera", "7", "--headless"}, fx.dir.path());
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("camera 7: no such camera device") != std::string::npos);
    // A window without a display: exit 2, and the way out.
    r = run_facepipe({"live", "--video", "scene.avi"}, fx.dir.path());  // DISPLAY is unset under ctest
    if (std::getenv("DISPLAY") == nullptr) {
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("use --headless") != std::string::npos);
    }
    // Both sources, or none: a usage error.
    CHECK(run_facepipe_m({"live", "--headless"}, fx.dir.path()).exit_code == 2);
    CHECK(run_facepipe_m({"live", "--camera", "0", "--video", "scene.avi", "--headless"}, fx.dir.path()).exit_code == 2);
    // A stream that never answers: retried, then exit 1.
    r = run_facepipe_m({"live", "--video", "http://127.0.0.1:9/cam.mjpg", "--headless", "--retries", "1"},
                       fx.dir.path());
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("retry 1 of 1") != std::string::npos);
    CHECK(r.err.find("gave up") != std::string::npos);
}

TEST_CASE("slow e2e: live switches to a retrained model mid-run without dropping frames") {
    LiveFixture fx;
    if (!fx.ready) return;
    // A second model in which sample1-a is called "alice": same photos, so
    // encode reuses every descriptor.
    fs::rename(fx.dir / "dataset/sample1-a", fx.dir / "dataset/alice");
    REQUIRE(run_facepipe_m({"encode", "--dataset", "dataset", "-o", "enc2.bin"}, fx.dir.path()).exit_code == 0);
    REQUIRE(run_facepipe_m({"train", "-e", "enc2.bin", "-m", "model2.bin", "-l", "labels2.bin"}, fx.dir.path())
                .exit_code == 0);
    fx.write_video(fx.dir / "long.avi", 15, 4 * kFrames);  // the scene, four times over

    Child live(facepipe_argv_m(
                   {"live", "--video", "long.avi", "--headless", "--every-frame", "--print-frames", "--reload-ms", "50"}),
               fx.dir.path());
    std::vector<Json> all;
    std::size_t offset = 0;
    bool swapped = false, corrupted = false;
    auto react = [&](const Json& j) {
        if (!corrupted && j["event"] == "appeared" && j["label"] == "sample1-a") {
            // First a broken model: refused, the old one stays.
            spit(fx.dir / "broken.tmp", "FPMODEL\0 not really");
            fs::rename(fx.dir / "broken.tmp", fx.dir / "model.bin");
            corrupted = true;
        }
        if (corrupted && !swapped && j["event"] == "frame" && j["frame"].get<int>() >= kFrames * 2) {
            // Then what train writes: model, then labels, each renamed into place.
            fs::copy_file(fx.dir / "model2.bin", fx.dir / "m.tmp");
            fs::copy_file(fx.dir / "labels2.bin", fx.dir / "l.tmp");
            fs::rename(fx.dir / "m.tmp", fx.dir / "model.bin");
            fs::rename(fx.dir / "l.tmp", fx.dir / "labels.bin");
            swapped = true;
        }
    };
    while (live.running()) {
        for (const auto& j : new_lines(live, offset)) react(all.emplace_back(j));
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const auto r = live.wait();
    for (const auto& j : new_lines(live, offset)) all.push_back(j);
    CHECK(r.exit_code == 0);
    const std::string& err = r.err;
    REQUIRE(swapped);
    CHECK(err.find("keeping the model in use") != std::string::npos);
    CHECK(err.find("switched to the new model") != std::string::npos);

    const auto models = events_of(all, "model");
    REQUIRE(models.size() == 1);
    const int switched_at = models[0]["frame"];
    CHECK(switched_at < 3 * kFrames);  // within about a second (~100 frames), long before the end
    // Before: sample1-a; after: alice, on the same faces, with no frame missing.
    std::int64_t expected = 0;
    std::set<std::string> before, after;
    for (const auto& f : events_of(all, "frame")) {
        CHECK(f["frame"] == expected++);
        for (const auto& face : f["faces"]) (f["frame"].get<int>() < switched_at ? before : after).insert(face["label"]);
    }
    CHECK(expected == 4 * kFrames);
    CHECK(before.count("sample1-a") == 1);
    CHECK(before.count("alice") == 0);
    CHECK(after.count("alice") == 1);
    CHECK(after.count("sample2-a") == 1);
    const Json s = all.back();
    CHECK(s["reloads"] == 1);
    CHECK(s["refused_reloads"] == 1);
    CHECK(s["dropped"] == 0);
}

TEST_CASE("slow e2e: live shows boxes and names in a window (Xvfb screenshot)") {
    LiveFixture fx;
    if (!fx.ready) return;
    REQUIRE_MESSAGE(std::system("command -v xvfb-run >/dev/null && command -v import >/dev/null") == 0,
                    "xvfb-run and ImageMagick's import are needed (scripts/setup.sh --tests installs them)");
    // Played in real time (15 fps, ~6 s). Screenshots are taken mid-scene, three of
    // them a second apart: on a loaded machine the window may be drawn late, and one
    // of them showing both names is what the test asks.
    const std::string cmd = "cd '" + fx.dir.path().string() + "' && xvfb-run -a -s '-screen 0 1600x900x24' sh -c '" +
                            FACEPIPE_BINARY + " --models " + FACEPIPE_TEST_MODEL_DIR +
                            " live --video scene.avi 2>live.err & sleep 2.5; import -window root shot1.png; sleep 1; "
                            "import -window root shot2.png; sleep 1; import -window root shot3.png; wait'";
    REQUIRE(std::system(cmd.c_str()) == 0);

    // annotate.h draws known faces' boxes and label bands in (60, 200, 60) BGR
    // and unknown ones in (40, 40, 230), with white text on the band.
    // What one screenshot shows: pixels of known and unknown colour, and known
    // faces' bands with white text (the names).
    struct Seen {
        int known = 0, unknown = 0, named = 0;
        bool enough() const { return known > 2 * 400 && unknown > 400 && named == 2; }
    };
    const auto look = [](const cv::Mat& shot) {
        Seen seen;
        cv::Mat known, unknown;
        cv::inRange(shot, cv::Scalar(50, 190, 50), cv::Scalar(70, 210, 70), known);
        cv::inRange(shot, cv::Scalar(30, 30, 220), cv::Scalar(50, 50, 240), unknown);
        seen.known = cv::countNonZero(known);  // two boxes' outlines and bands
        seen.unknown = cv::countNonZero(unknown);
        // Opening removes the 2-pixel box outlines and leaves the filled bands.
        cv::Mat bands, labels_img, stats, centroids;
        cv::morphologyEx(known, bands, cv::MORPH_OPEN, cv::getStructuringElement(cv::MORPH_RECT, {5, 5}));
        const int n = cv::connectedComponentsWithStats(bands, labels_img, stats, centroids);
        for (int c = 1; c < n; ++c) {
            const cv::Rect band(stats.at<int>(c, cv::CC_STAT_LEFT), stats.at<int>(c, cv::CC_STAT_TOP),
                                stats.at<int>(c, cv::CC_STAT_WIDTH), stats.at<int>(c, cv::CC_STAT_HEIGHT));
            cv::Mat white;
            cv::inRange(shot(band), cv::Scalar(200, 200, 200), cv::Scalar(255, 255, 255), white);
            if (band.area() > 300 && cv::countNonZero(white) > 30) ++seen.named;
        }
        return seen;
    };
    bool shown = false;
    for (const char* name : {"shot1.png", "shot2.png", "shot3.png"}) {
        const cv::Mat shot = cv::imread((fx.dir / name).string());
        REQUIRE_MESSAGE(!shot.empty(), slurp(fx.dir / "live.err"));
        const Seen seen = look(shot);
        INFO(name << ": known px " << seen.known << ", unknown px " << seen.unknown << ", named bands " << seen.named);
        if (seen.enough() && !shown) {
            shown = true;
            if (const char* keep = std::getenv("FACEPIPE_SCREENSHOT_OUT")) cv::imwrite(keep, shot);  // for the README
        }
        CHECK(seen.named <= 2);  // never more names than known faces
    }
    CHECK(shown);
    CHECK(slurp(fx.dir / "live.err").find("faces seen") != std::string::npos);  // it ended cleanly, with a summary
}
