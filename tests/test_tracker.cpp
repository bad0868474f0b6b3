// Tests of lib/tracker.h with a fake sensor: frames hold textured squares
// ("faces") moving over a background, the fake detector reports where they
// really are, and the fake describer gives each square its person's descriptor.
#include <doctest/doctest.h>

#include <map>
#include <opencv2/imgproc.hpp>
#include <random>

#include "classifier.h"
#include "train.h"
#include "error.h"
#include "tracker.h"

using namespace facepipe;

namespace {

Descriptor axis(int a, float v = 1.f) {
    Descriptor d{};
    d[a] = v;
    return d;
}

// Gallery: alice near axis 0, bob near axis 1; threshold 0.45.
Classifier make_classifier(const std::string& alice = "alice") {
    EncodingsFile f;
    f.model_id = "test";
    int n = 0;
    for (const auto& [name, a] : std::map<std::string, int>{{alice, 0}, {"bob", 1}}) {
        for (int i = 0; i < 3; ++i) {
            EncodingRecord r;
            r.person = name;
            r.path = r.source = name + "/" + std::to_string(n++) + ".jpg";
            r.faces_found = 1;
            r.box = {0, 0, 100, 100};
            r.descriptor = axis(a, 1.f + 0.05f * i);
            f.records.push_back(r);
        }
    }
    TrainOptions o;
    o.threshold = 0.45f;
    return Classifier(train(f, o, nullptr));
}

struct Square {
    std::string person;  // whose descriptor it yields
    int size = 60;
    cv::Point at;        // top-left
    bool visible = true;
    Box box() const { return {at.x, at.y, size, size}; }
};

cv::Mat texture(int size, unsigned seed) {
    cv::Mat t(size, size, CV_8UC3);
    std::mt19937 rng(seed);
    for (int y = 0; y < size; ++y)
        for (int x = 0; x < size; ++x) t.at<cv::Vec3b>(y, x) = cv::Vec3b::all(static_cast<uchar>(rng() % 256));
    cv::GaussianBlur(t, t, {5, 5}, 1.5);  // blobs, not pixel noise: something to correlate
    return t;
}

class FakeScene : public FaceSensor {
public:
    std::vector<Square> squares;
    int detect_calls = 0, describe_calls = 0;
    std::map<std::string, Descriptor> identity{{"alice", axis(0)}, {"bob", axis(1)}, {"stranger", axis(5)}};
    std::map<std::string, Descriptor> override_once;  // person -> descriptor for the next describe

    cv::Mat frame() const {
        cv::Mat f(240, 400, CV_8UC3, cv::Scalar::all(110));
        unsigned seed = 7;
        for (const auto& s : squares) {
            ++seed;
            if (!s.visible) continue;
            const cv::Rect r(s.at.x, s.at.y, s.size, s.size);
            texture(s.size, seed).copyTo(f(r & cv::Rect(0, 0, f.cols, f.rows) ));
        }
        return f;
    }
    std::vector<Detection> detect(const cv::Mat&) override {
        ++detect_calls;
        std::vector<Detection> out;
        for (const auto& s : squares)
            if (s.visible) out.push_back({s.box(), 1.0});
        return out;
    }
    std::vector<Descriptor> describe(const cv::Mat&, const std::vector<Box>& boxes) override {
        ++describe_calls;
        std::vector<Descriptor> out;
        for (const auto& b : boxes) {
            // The square whose centre is nearest the box's centre.
            const Square* best = nullptr;
            double best_d = 1e9;
            for (const auto& s : squares) {
                const double dx = (s.at.x + s.size / 2.0) - (b.x + b.width / 2.0);
                const double dy = (s.at.y + s.size / 2.0) - (b.y + b.height / 2.0);
                if (s.visible && dx * dx + dy * dy < best_d) best_d = dx * dx + dy * dy, best = &s;
            }
            REQUIRE(best != nullptr);
            auto once = override_once.find(best->person);
            if (once != override_once.end()) {
                out.push_back(once->second);
                override_once.erase(once);
            } else {
                out.push_back(identity.at(best->person));
            }
        }
        return out;
    }
};

std::vector<TrackEvent> of_kind(const std::vector<TrackEvent>& all, TrackEvent::Kind k) {
    std::vector<TrackEvent> out;
    for (const auto& e : all)
        if (e.kind == k) out.push_back(e);
    return out;
}

}  // namespace

TEST_CASE("tracker: iou of boxes") {
    CHECK(iou({0, 0, 10, 10}, {0, 0, 10, 10}) == doctest::Approx(1.0));
    CHECK(iou({0, 0, 10, 10}, {5, 0, 10, 10}) == doctest::Approx(50.0 / 150.0));
    CHECK(iou({0, 0, 10, 10}, {10, 10, 5, 5}) == 0.0);
    CHECK(iou({0, 0, 0, 10}, {0, 0, 10, 10}) == 0.0);
}

TEST_CASE("tracker: bad options are refused naming the flag") {
    TrackerOptions o;
    o.detect_every = 0;
    CHECK_THROWS_WITH_AS(FaceTracks{o}, doctest::Contains("--detect-every"), Error);
    o = {};
    o.vote_window = 0;
    CHECK_THROWS_WITH_AS(FaceTracks{o}, doctest::Contains("--vote-window"), Error);
}

TEST_CASE("tracker: moving faces are followed between detections and named once") {
    FakeScene scene;
    scene.squares = {{"alice", 60, {20, 60}}, {"stranger", 70, {300, 100}}};
    const Classifier c = make_classifier();
    TrackerOptions o;  // detect every 10, describe every 15
    FaceTracks tracks(o);
    std::vector<TrackEvent> events;
    for (int f = 0; f < 60; ++f) {
        scene.squares[0].at.x += 3;  // alice walks right, 3 px a frame
        scene.squares[1].at.y -= 1;  // the stranger drifts up
        for (auto& e : tracks.update(scene.frame(), f, scene, c)) events.push_back(e);
        // Between detections the tracker keeps the box on the face.
        REQUIRE(tracks.faces().size() == 2);
        for (const auto& face : tracks.faces()) {
            const Square& truth = face.label == "alice" ? scene.squares[0] : scene.squares[1];
            CHECK(iou(face.box, truth.box()) > 0.6);
        }
    }
    CHECK(scene.detect_calls == 6);                   // frames 0, 10, ..., 50
    CHECK(tracks.counters().descriptors == 2 * 4);    // frames 0, 15, 30, 45 for each
    const auto appeared = of_kind(events, TrackEvent::Kind::appeared);
    REQUIRE(appeared.size() == 2);
    CHECK(appeared[0].face.label == "alice");
    CHECK(appeared[0].face.known);
    CHECK(appeared[1].face.label == "unknown");
    CHECK_FALSE(appeared[1].face.known);
    CHECK(of_kind(events, TrackEvent::Kind::label_changed).empty());
    CHECK(tracks.counters().tracks == 2);

    const auto end = tracks.finish();
    CHECK(of_kind(end, TrackEvent::Kind::gone).size() == 2);
    CHECK(tracks.faces().empty());
}

TEST_CASE("tracker: one odd descriptor does not rename a track") {
    FakeScene scene;
    scene.squares = {{"alice", 60, {100, 80}}};
    const Classifier c = make_classifier();
    TrackerOptions o;
    o.describe_every = 5;
    FaceTracks tracks(o);
    std::vector<TrackEvent> events;
    for (int f = 0; f < 40; ++f) {
        if (f == 20) scene.override_once["alice"] = axis(1);  // one frame looks like bob
        for (auto& e : tracks.update(scene.frame(), f, scene, c)) events.push_back(e);
    }
    CHECK(of_kind(events, TrackEvent::Kind::appeared).size() == 1);
    CHECK(of_kind(events, TrackEvent::Kind::label_changed).empty());
    REQUIRE(tracks.faces().size() == 1);
    CHECK(tracks.faces()[0].label == "alice");
}

TEST_CASE("tracker: a face that really changes is renamed once the window agrees") {
    FakeScene scene;
    scene.squares = {{"alice", 60, {100, 80}}};
    const Classifier c = make_classifier();
    TrackerOptions o;
    o.describe_every = 1;
    o.vote_window = 3;
    FaceTracks tracks(o);
    std::vector<TrackEvent> events;
    for (int f = 0; f < 12; ++f) {
        if (f == 6) scene.identity["alice"] = axis(1);  // from now on the face is bob's
        for (auto& e : tracks.update(scene.frame(), f, scene, c)) events.push_back(e);
    }
    const auto changed = of_kind(events, TrackEvent::Kind::label_changed);
    REQUIRE(changed.size() >= 1);
    CHECK(changed.front().previous_label == "alice");
    CHECK(changed.back().face.label == "bob");
    CHECK(tracks.faces()[0].label == "bob");
}

TEST_CASE("tracker: a face that leaves ends its track, a new one starts a new track") {
    FakeScene scene;
    scene.squares = {{"alice", 60, {100, 80}}, {"bob", 60, {250, 80}, false}};
    const Classifier c = make_classifier();
    FaceTracks tracks(TrackerOptions{});
    std::vector<TrackEvent> events;
    for (int f = 0; f < 60; ++f) {
        if (f == 20) scene.squares[0].visible = false, scene.squares[1].visible = true;
        for (auto& e : tracks.update(scene.frame(), f, scene, c)) events.push_back(e);
    }
    const auto gone = of_kind(events, TrackEvent::Kind::gone);
    const auto appeared = of_kind(events, TrackEvent::Kind::appeared);
    REQUIRE(gone.size() == 1);
    CHECK(gone[0].face.label == "alice");
    REQUIRE(appeared.size() == 2);
    CHECK(appeared[1].face.label == "bob");
    CHECK(appeared[1].face.id != appeared[0].face.id);
    REQUIRE(tracks.faces().size() == 1);
    CHECK(tracks.faces()[0].label == "bob");
}

TEST_CASE("tracker: after a model change every track is named again") {
    FakeScene scene;
    scene.squares = {{"alice", 60, {100, 80}}};
    const Classifier before = make_classifier("alice");
    const Classifier after = make_classifier("alice_smith");
    FaceTracks tracks(TrackerOptions{});
    for (int f = 0; f < 5; ++f) tracks.update(scene.frame(), f, scene, before);
    tracks.relabel();
    const auto events = tracks.update(scene.frame(), 5, scene, after);
    const auto changed = of_kind(events, TrackEvent::Kind::label_changed);
    REQUIRE(changed.size() == 1);
    CHECK(changed[0].previous_label == "alice");
    CHECK(changed[0].face.label == "alice_smith");
}

TEST_CASE("tracker: --tolerance overrides the model's threshold") {
    FakeScene scene;
    scene.squares = {{"stranger", 60, {100, 80}}};
    scene.identity["stranger"] = axis(0, 0.5f);  // 0.5 from alice's nearest row: beyond the model's 0.45
    const Classifier c = make_classifier();
    FaceTracks strict(TrackerOptions{});
    strict.update(scene.frame(), 0, scene, c);
    REQUIRE(strict.faces().size() == 1);
    CHECK(strict.faces()[0].label == "unknown");
    TrackerOptions o;
    o.tolerance = 0.6f;
    FaceTracks lenient(o);
    lenient.update(scene.frame(), 0, scene, c);
    REQUIRE(lenient.faces().size() == 1);
    CHECK(lenient.faces()[0].label == "alice");
    CHECK(lenient.faces()[0].distance == doctest::Approx(0.5));
}
