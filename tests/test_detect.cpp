// Tests of lib/detect.h: one image's detection shared among threads finds
// exactly what one thread finds (boxes, scores and their order), on real photos.
#include <doctest/doctest.h>

#include <algorithm>
#include <opencv2/imgcodecs.hpp>

#include "detect.h"
#include "error.h"
#include "recognizer.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe;
using namespace facepipe::test;

namespace {

std::vector<fs::path> photos_under(const fs::path& dir) {
    std::vector<fs::path> found;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        const std::string ext = e.path().extension().string();
        if (e.is_regular_file() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png")) found.push_back(e.path());
    }
    std::sort(found.begin(), found.end());
    return found;
}

// Every photo of the shared faces (all 54 at upsample 0; every third at upsample 1,
// the slower one) and npm's group photos. 2 threads on each, 3 on a third of them.
std::vector<fs::path> test_photos(int upsample) {
    std::vector<fs::path> photos;
    const auto shared = photos_under(shared_data() / "faces");
    for (std::size_t i = 0; i < shared.size(); ++i)
        if (upsample == 0 || i % 3 == 0) photos.push_back(shared[i]);
    for (const auto& p : photos_under(npm_samples()))
        if (p.filename().string().rfind("sample", 0) == 0) photos.push_back(p);
    return photos;
}

void check_same(const std::vector<Detection>& serial, const std::vector<Detection>& parallel) {
    REQUIRE(parallel.size() == serial.size());
    for (std::size_t i = 0; i < serial.size(); ++i) {
        CAPTURE(i);
        CHECK(parallel[i].box == serial[i].box);
        CHECK(parallel[i].score == serial[i].score);  // bit for bit, not approximately
    }
}

}  // namespace

TEST_CASE("detection on several threads finds exactly what one thread finds, on real photos") {
    SKIP_IF(shared_data_missing({"faces"}));
    SKIP_IF(npm_samples_missing());
    int faces = 0, photos = 0;
    for (int upsample : {0, 1}) {
        DetectorOptions one;
        one.upsample = upsample;
        FaceDetector serial(one);
        std::vector<FaceDetector> parallel;
        for (int threads : {2, 3}) {
            DetectorOptions o = one;
            o.threads = threads;
            parallel.emplace_back(o);
        }
        for (const auto& path : test_photos(upsample)) {
            CAPTURE(path);
            CAPTURE(upsample);
            const cv::Mat img = cv::imread(path.string());
            REQUIRE(!img.empty());
            const auto expected = serial.detect(img);
            check_same(expected, parallel[0].detect(img));
            if (photos % 3 == 0) check_same(expected, parallel[1].detect(img));  // an uneven split, on a third of them
            faces += static_cast<int>(expected.size());
            ++photos;
        }
    }
    MESSAGE(photos, " photos, ", faces, " faces");
    CHECK(faces > photos);  // faces were found: the comparison was not of empty lists
}

TEST_CASE("detection on several threads keeps the serial order and suppression among many candidates") {
    // A lower threshold lets hundreds of weak windows through: the sorts and the
    // non-max suppression that follow the scan then decide most of the output.
    SKIP_IF(npm_samples_missing());
    DetectorOptions o;
    o.min_score = -0.6;
    FaceDetector serial(o);
    o.threads = 2;
    FaceDetector parallel(o);
    int found = 0;
    for (const auto& path : photos_under(npm_samples())) {
        if (path.filename().string().rfind("sample", 0) != 0) continue;
        CAPTURE(path);
        const cv::Mat img = cv::imread(path.string());
        REQUIRE(!img.empty());
        const auto expected = serial.detect(img);
        check_same(expected, parallel.detect(img));
        found += static_cast<int>(expected.size());
    }
    CHECK(found > 20);
}

TEST_CASE("detection on several threads handles images of one pyramid level and none") {
    DetectorOptions o;
    o.upsample = 0;
    o.max_side = 0;  // no scaling: the image's own size
    FaceDetector serial(o);
    o.threads = 4;
    FaceDetector parallel(o);
    for (const cv::Size size : {cv::Size(40, 40), cv::Size(80, 80), cv::Size(100, 90), cv::Size(300, 200)}) {
        CAPTURE(size.width);
        cv::Mat img(size, CV_8UC3);
        cv::randu(img, cv::Scalar::all(0), cv::Scalar::all(255));
        check_same(serial.detect(img), parallel.detect(img));
    }
}

TEST_CASE("detector kinds: the CLI spelling both ways, and each kind's default score threshold") {
    CHECK(std::string(to_string(DetectorKind::hog)) == "hog");
    CHECK(std::string(to_string(DetectorKind::ssd)) == "ssd");
    CHECK(parse_detector_kind("hog") == DetectorKind::hog);
    CHECK(parse_detector_kind("ssd") == DetectorKind::ssd);
    CHECK_THROWS_WITH_AS(parse_detector_kind("cnn"), doctest::Contains("unknown detector 'cnn' (expected hog or ssd)"),
                         Error);
    DetectorOptions o;
    CHECK(o.kind == DetectorKind::hog);
    CHECK(o.effective_min_score() == 0.0);  // dlib's own threshold: today's detections
    o.kind = DetectorKind::ssd;
    CHECK(o.effective_min_score() == 0.5);  // face-api's minConfidence
    o.min_score = 0.7;
    CHECK(o.effective_min_score() == 0.7);
}

TEST_CASE("detector_mismatch: nothing for the gallery's own detector, else a line naming both and the fix") {
    CHECK(detector_mismatch(DetectorKind::hog, DetectorKind::hog).empty());
    CHECK(detector_mismatch(DetectorKind::ssd, DetectorKind::ssd).empty());
    CHECK(detector_mismatch(DetectorKind::ssd, DetectorKind::hog) ==
          "its faces were found by the ssd detector, these by hog; pass --detector ssd for the same chips");
}
