// Tests of lib/live_session.h: a stream of frames showing an enrolled person
// and a stranger is named frame by frame; a model retrained mid-stream is taken
// up and the stranger renamed; a change of frame size starts tracking afresh;
// an analyzer passed in gives the same answers as the session's own. Real faces
// from npm's samples (faces.h), a model made by enroll.
#include <doctest/doctest.h>

#include <opencv2/imgproc.hpp>

#include "classifier.h"
#include "enroll.h"
#include "error.h"
#include "live_session.h"
#include "faces.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe;
using namespace facepipe::test;

namespace {

// A 640x360 frame: sample1-a on the left, the stranger on the right, each
// portrait 200x200 (so a 100x100 face in its middle), moved by `shift` pixels.
cv::Mat scene(int shift = 0, cv::Size size = {640, 360}) {
    cv::Mat canvas(size, CV_8UC3, cv::Scalar(90, 100, 110));
    const std::pair<const char*, cv::Rect> actors[] = {{"sample1-a", {40 + shift, 80, 200, 200}},
                                                       {"stranger", {size.width - 240 - shift, 80, 200, 200}}};
    for (const auto& [name, rect] : actors) {
        cv::Mat scaled;
        cv::resize(portrait(name), scaled, rect.size(), 0, 0, cv::INTER_AREA);
        scaled.copyTo(canvas(rect));
    }
    return canvas;
}

// The label of the face whose box centre is left (true) or right of the middle.
std::string label_at(const LiveSession::Result& r, bool left, int width = 640) {
    for (const auto& f : r.faces)
        if ((f.box.x + f.box.width / 2 < width / 2) == left) return f.label;
    return "(none)";
}

// alice = sample1-a and bob = sample2-a: the stranger is nobody.
struct Model {
    TempDir dir;
    EnrollOptions o = enroll_options_in(dir.path(), 0);
    Model() {
        REQUIRE(enroll("alice", {Photo{"a.jpg", image_bytes(portrait("sample1-a"))}}, o, test_models())
                    .retrained);
        REQUIRE(enroll("bob", {Photo{"b.jpg", image_bytes(portrait("sample2-a"))}}, o, test_models())
                    .retrained);
    }
    std::unique_ptr<ModelWatcher> watcher() const {
        return std::make_unique<ModelWatcher>(o.model.string(), o.labels.string(), test_model_files().model_id(),
                                              std::chrono::milliseconds(0));
    }
};

}  // namespace

TEST_CASE("LiveSession names the faces of each frame, numbers the frames and reports what changed") {
    SKIP_IF(npm_samples_missing());
    Model m;
    const auto watcher = m.watcher();
    LiveSession session(test_models());
    std::vector<TrackEvent> events;
    for (int i = 0; i < 12; ++i) {
        const LiveSession::Result r = session.process(scene(2 * i), *watcher);
        CHECK(r.frame == i);
        CHECK(!r.model_changed);
        CHECK(r.ms >= 0);
        REQUIRE_MESSAGE(r.faces.size() == 2, "frame ", i);
        CHECK(label_at(r, true) == "alice");
        CHECK(label_at(r, false) == "unknown");
        for (const auto& f : r.faces) CHECK(f.known == (f.label != "unknown"));
        events.insert(events.end(), r.events.begin(), r.events.end());
    }
    REQUIRE(events.size() == 2);  // each face appeared once, on the first frame, and kept its name
    for (const auto& e : events) CHECK(e.kind == TrackEvent::Kind::appeared);
    CHECK(session.frames() == 12);
    CHECK(session.counters().tracks == 2);
    CHECK(session.counters().detections >= 2);
    CHECK(session.classifier().names() == std::vector<std::string>{"alice", "bob"});

    const auto gone = session.finish();
    CHECK(gone.size() == 2);
    for (const auto& e : gone) CHECK(e.kind == TrackEvent::Kind::gone);

    // Frame indexes given by the caller (live passes the source's).
    LiveSession numbered(test_models());
    CHECK(numbered.process(scene(), *watcher, 5).frame == 5);
    CHECK(numbered.process(scene(), *watcher).frame == 6);
    CHECK(numbered.process(scene(), *watcher, 9).frame == 9);
}

TEST_CASE("LiveSession takes up a model retrained mid-stream and renames the tracks") {
    SKIP_IF(npm_samples_missing());
    Model m;
    const auto watcher = m.watcher();
    LiveSession session(test_models());
    for (int i = 0; i < 3; ++i) REQUIRE(label_at(session.process(scene(i), *watcher), false) == "unknown");

    REQUIRE(enroll("carol", {Photo{"c.jpg", image_bytes(portrait("stranger"))}}, m.o, test_models()).retrained);
    watcher->poll();
    watcher->poll();  // changed, then held still: loaded
    REQUIRE(watcher->generation() == 1);

    const LiveSession::Result r = session.process(scene(3), *watcher);
    CHECK(r.model_changed);
    CHECK(session.classifier().names() == std::vector<std::string>{"alice", "bob", "carol"});
    CHECK(label_at(r, false) == "carol");
    CHECK(label_at(r, true) == "alice");
    REQUIRE(r.events.size() == 1);
    CHECK(r.events[0].kind == TrackEvent::Kind::label_changed);
    CHECK(r.events[0].previous_label == "unknown");
    CHECK(r.events[0].face.label == "carol");
    CHECK(!session.process(scene(4), *watcher).model_changed);  // once
}

TEST_CASE("LiveSession starts tracking afresh when the frame size changes, and refuses a frame that is not BGR") {
    SKIP_IF(npm_samples_missing());
    Model m;
    const auto watcher = m.watcher();
    LiveSession session(test_models());
    REQUIRE(session.process(scene(), *watcher).faces.size() == 2);
    const LiveSession::Result r = session.process(scene(0, {800, 450}), *watcher);
    int gone = 0, appeared = 0;
    for (const auto& e : r.events) {
        gone += e.kind == TrackEvent::Kind::gone;
        appeared += e.kind == TrackEvent::Kind::appeared;
    }
    CHECK(gone == 2);
    CHECK(appeared == 2);
    REQUIRE(r.faces.size() == 2);
    CHECK(label_at(r, true, 800) == "alice");
    CHECK(session.counters().tracks == 4);  // across both trackers

    CHECK_THROWS_AS(session.process(cv::Mat(), *watcher), Error);
    cv::Mat grey(360, 640, CV_8UC1, cv::Scalar(0));
    CHECK_THROWS_AS(session.process(grey, *watcher), Error);
    CHECK(session.process(scene(0, {800, 450}), *watcher).faces.size() == 2);  // still usable
}

TEST_CASE("LiveSession with an analyzer passed in answers as with its own") {
    SKIP_IF(npm_samples_missing());
    Model m;
    const auto watcher = m.watcher();
    LiveSession own(test_models()), shared(test_models());
    FaceAnalyzer analyzer(test_models(), LiveOptions::live_analyzer_defaults());
    for (int i = 0; i < 4; ++i) {
        const auto a = own.process(scene(3 * i), *watcher);
        const auto b = shared.process(scene(3 * i), *watcher, analyzer);
        REQUIRE(a.faces.size() == b.faces.size());
        for (std::size_t k = 0; k < a.faces.size(); ++k) {
            CHECK(a.faces[k].box == b.faces[k].box);
            CHECK(a.faces[k].label == b.faces[k].label);
            CHECK(a.faces[k].distance == b.faces[k].distance);
        }
    }
    // The analyzer passed in is the one used: one that looks at 64-pixel
    // thumbnails finds no face where the session's own found two (above).
    AnalyzerOptions blind_options = LiveOptions::live_analyzer_defaults();
    blind_options.detector.max_side = 64;
    blind_options.detector.upsample = 0;
    FaceAnalyzer blind(test_models(), blind_options);
    LiveSession other(test_models());
    CHECK(other.process(scene(), *watcher, blind).faces.empty());
}
