// Tests of lib/unknown_collect.h: the gates, once per photo, a few per track.
#include <doctest/doctest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "error.h"
#include "faces.h"
#include "testutil.h"
#include "unknown_collect.h"

using namespace facepipe;
namespace fs = std::filesystem;

namespace {

Box middle_half(const cv::Mat& m) { return {m.cols / 4, m.rows / 4, m.cols / 2, m.rows / 2}; }

ImageLabels labelled(const std::string& name, const cv::Mat& img, bool known = false) {
    ImageLabels r;
    r.input = name;
    r.width = img.cols;
    r.height = img.rows;
    FaceLabel f;
    f.box = middle_half(img);
    f.prediction.label = known ? 0 : -1;
    f.prediction.name = known ? "alice" : "unknown";
    f.score = 1.0;
    for (int i = 0; i < kDescriptorDim; ++i) f.descriptor[i] = 0.01f * i;
    r.faces.push_back(f);
    return r;
}

const std::string kHash(64, 'c');

}  // namespace

TEST_CASE("unknown collect: the crop box grows by the margin and stays in the picture") {
    CHECK(crop_box({100, 100, 40, 60}, 0.5, 1000, 1000) == Box{80, 70, 80, 120});
    CHECK(crop_box({5, 10, 40, 60}, 0.5, 60, 1000) == Box{0, 0, 60, 100});
    CHECK(crop_box({5, 10, 40, 60}, 0, 1000, 1000) == Box{5, 10, 40, 60});
}

TEST_CASE("unknown collect: sharpness is high for edges, low once blurred, zero for a flat face") {
    cv::Mat checker(100, 100, CV_8UC3);
    for (int y = 0; y < 100; ++y)
        for (int x = 0; x < 100; ++x) checker.at<cv::Vec3b>(y, x) = ((x / 5 + y / 5) % 2) ? cv::Vec3b(255, 255, 255) : cv::Vec3b(0, 0, 0);
    cv::Mat blurred;
    cv::GaussianBlur(checker, blurred, {0, 0}, 6);
    const Box all{0, 0, 100, 100};
    CHECK(face_sharpness(checker, all) > 10 * face_sharpness(blurred, all));
    CHECK(face_sharpness(cv::Mat(100, 100, CV_8UC3, cv::Scalar(90, 90, 90)), all) == doctest::Approx(0));
}

TEST_CASE("unknown collect: options out of range are usage errors") {
    CollectOptions o;
    o.dir = "x";
    o.per_track = 0;
    CHECK_THROWS_AS(validate(o), UsageError);
    o = CollectOptions{};
    o.min_sharpness = -1;
    CHECK_THROWS_AS(validate(o), UsageError);
}

TEST_CASE("unknown collect: a photo's unknown faces once, known ones never, and each gate") {
    SKIP_IF(test::npm_samples_missing());
    test::TempDir tmp;
    const auto classifier = test::made_up_classifier(test::test_models()->files().model_id());
    CollectOptions o;
    o.dir = tmp / "unk";
    UnknownCollector c(o, test::test_models());
    const cv::Mat face = test::portrait("stranger");

    CHECK(c.collect_photo(labelled("a.jpg", face), face, 1.0, kHash, *classifier) == 1);
    CHECK(c.collect_photo(labelled("renamed.jpg", face), face, 1.0, kHash, *classifier) == 0);  // same content
    CHECK(c.counters().duplicates == 1);
    CHECK(c.collect_photo(labelled("k.jpg", face, true), face, 1.0, std::string(64, 'd'), *classifier) == 0);
    CHECK(c.counters().known == 1);
    auto faces = c.store().faces();
    REQUIRE(faces.size() == 1);
    CHECK(faces[0].source == "a.jpg");
    CHECK(faces[0].box == middle_half(face));
    CHECK((faces[0].nearest == "alice" || faces[0].nearest == "bob"));
    CHECK(faces[0].distance > 0);
    CHECK(faces[0].content_hash == kHash);
    CHECK(faces[0].descriptor == labelled("a.jpg", face).faces[0].descriptor);  // the photo's own
    {
        const cv::Mat crop = cv::imread((o.dir / faces[0].crop()).string());
        const Box expect = crop_box(middle_half(face), 0.5, face.cols, face.rows);
        CHECK(crop.cols == expect.width);
        CHECK(crop.rows == expect.height);
    }

    // A reduced decode (scale 2): boxes are full-size, the crop comes from the reduced picture.
    cv::Mat big;
    cv::resize(face, big, {}, 2, 2);
    cv::Mat half;
    cv::resize(big, half, {}, 0.5, 0.5, cv::INTER_AREA);
    CHECK(c.collect_photo(labelled("big.jpg", big), half, 2.0, std::string(64, 'e'), *classifier) == 1);

    cv::Mat blurred;
    cv::GaussianBlur(face, blurred, {0, 0}, 8);
    CHECK(c.collect_photo(labelled("blur.jpg", blurred), blurred, 1.0, std::string(64, 'f'), *classifier) == 0);
    CHECK(c.counters().blurred == 1);

    cv::Mat noise(face.size(), CV_8UC3);
    cv::randu(noise, 0, 255);  // sharp, but no face in it
    CHECK(c.collect_photo(labelled("noise.jpg", noise), noise, 1.0, std::string(64, '0'), *classifier) == 0);
    CHECK(c.counters().not_refound == 1);

    CollectOptions strict = o;
    strict.dir = tmp / "strict";
    strict.min_face_px = 10000;
    UnknownCollector s(strict, test::test_models());
    CHECK(s.collect_photo(labelled("a.jpg", face), face, 1.0, kHash, *classifier) == 0);
    CHECK(s.counters().small == 1);
    strict.min_face_px = 1;
    strict.min_score = 5;
    strict.dir = tmp / "strict2";
    UnknownCollector s2(strict, test::test_models());
    CHECK(s2.collect_photo(labelled("a.jpg", face), face, 1.0, kHash, *classifier) == 0);
    CHECK(s2.counters().low_score == 1);
    CHECK(c.counters().kept == 2);
    CHECK(format_collect_summary(c.counters(), o.dir).find("kept 2 unknown faces in ") == 0);
}

TEST_CASE("unknown collect: a track keeps its sharpest samples when it ends unknown, nothing when it got a name") {
    SKIP_IF(test::npm_samples_missing());
    test::TempDir tmp;
    const auto classifier = test::made_up_classifier(test::test_models()->files().model_id());
    CollectOptions o;
    o.dir = tmp / "unk";
    o.per_track = 2;
    UnknownCollector c(o, test::test_models());
    StreamCollector stream(c, "clip.mp4");
    const cv::Mat face = test::portrait("stranger");
    cv::Mat frame(face.rows * 2, face.cols * 2, CV_8UC3, cv::Scalar(40, 40, 40));
    face.copyTo(frame(cv::Rect(10, 10, face.cols, face.rows)));
    Box box = middle_half(face);
    box.x += 10;
    box.y += 10;
    TrackedFace unknown{1, box, "unknown", 0.8f, false, 0};
    TrackedFace named{2, box, "alice", 0.3f, true, 0};
    // Track 1: 10 frames over 4.5 s, one of them blurred; track 2 is named from the start.
    for (int i = 0; i < 10; ++i) {
        cv::Mat f = frame.clone();
        if (i % 3 != 0) cv::GaussianBlur(frame, f, {0, 0}, 1.0 + i % 3);  // softer samples
        stream.frame(f, 0.5 * i, {unknown, named}, {}, *classifier);
    }
    CHECK(c.store().faces().empty());  // nothing until the track ends
    TrackEvent gone;
    gone.kind = TrackEvent::Kind::gone;
    gone.face = unknown;
    stream.frame(frame, 5.0, {named}, {gone}, *classifier);
    auto faces = c.store().faces();
    REQUIRE(faces.size() == 2);
    for (const auto& f : faces) {
        CHECK(f.source == "clip.mp4");
        CHECK(f.box == box);
        CHECK(f.content_hash.empty());
        CHECK(f.score > 0);
        // Sampled once a second: frames 0, 2, 4, 6, 8; the sharp ones are 0 and 6 (i % 3 == 0).
        CHECK((f.time_s == 0.0 || f.time_s == 3.0));
    }
    stream.finish(*classifier);
    CHECK(c.store().faces().size() == 2);  // track 2 was named: not kept
    CHECK(c.counters().known == 1);
}
