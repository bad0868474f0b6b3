// Tests of Predictor::label_bytes and image_labels_json (lib/predict.h): an
// image already in memory is labelled as its file would be, bad bytes give an
// error on the result (never a throw), and predict's jsonl line is that object.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "encode.h"
#include "encodings.h"
#include "fsutil.h"
#include "predict.h"
#include "faces.h"
#include "testutil.h"
#include "train.h"

namespace fs = std::filesystem;
using namespace facepipe;
using namespace facepipe::test;

namespace {

// Three people, one portrait each, encoded and trained in process.
std::shared_ptr<const Classifier> three_people(const TempDir& dir) {
    for (const char* p : {"sample1-a", "sample2-a", "sample3-a"}) {
        fs::create_directories(dir / "dataset" / p);
        write_file_atomic((dir / "dataset" / p / "1.jpg").string(), image_bytes(portrait(p)));
    }
    EncodeOptions o;
    o.dataset = dir / "dataset";
    o.output = dir / "encodings.bin";
    o.threads = 2;
    REQUIRE(encode_dataset(o, test_models()).ok == 3);
    return std::make_shared<const Classifier>(train(read_encodings(o.output.string()), {}, nullptr));
}

}  // namespace

TEST_CASE("label_bytes names the faces of an image in memory exactly as label_image does for its file") {
    SKIP_IF(npm_samples_missing());
    TempDir dir;
    const auto classifier = three_people(dir);
    Predictor predictor(test_models(), classifier, {}, (dir / "model.bin").string());

    cv::Mat known;  // not the training photo: mirrored and at 80 %
    cv::resize(mirrored(portrait("sample2-a")), known, {}, 0.8, 0.8, cv::INTER_AREA);
    const std::string jpeg = image_bytes(known);
    write_file_atomic((dir / "known.jpg").string(), jpeg);

    const ImageLabels b = predictor.label_bytes(jpeg, "upload.jpg");
    const ImageLabels f = predictor.label_image((dir / "known.jpg").string());
    CHECK(b.ok());
    CHECK(b.input == "upload.jpg");
    CHECK(b.width == known.cols);
    CHECK(b.height == known.rows);
    REQUIRE(b.faces.size() == 1);
    CHECK(b.faces[0].prediction.name == "sample2-a");
    CHECK(b.faces[0].prediction.label >= 0);
    REQUIRE(f.faces.size() == 1);
    CHECK(f.faces[0].box == b.faces[0].box);
    CHECK(f.faces[0].prediction.name == b.faces[0].prediction.name);
    CHECK(f.faces[0].prediction.distance == b.faces[0].prediction.distance);

    // Two faces, largest first; a stranger is unknown; no face is ok without faces.
    const ImageLabels two = predictor.label_bytes(image_bytes(two_faces(), ".png"), "two.png");
    CHECK(two.ok());
    CHECK(two.faces.size() == 2);
    const ImageLabels s = predictor.label_bytes(image_bytes(portrait("stranger")), "stranger");
    REQUIRE(s.faces.size() == 1);
    CHECK(s.faces[0].prediction.name == "unknown");
    const ImageLabels none = predictor.label_bytes(image_bytes(faceless_picture()), "plain");
    CHECK(none.ok());
    CHECK(none.faces.empty());
}

TEST_CASE("label_bytes gives bad bytes a one-line error on the result and never throws") {
    SKIP_IF(npm_samples_missing());
    TempDir dir;
    PredictOptions o;
    o.limits.max_pixels = 100 * 100;
    Predictor predictor(test_models(), made_up_classifier(test_model_files().model_id()), o,
                        (dir / "model.bin").string());
    const std::string jpeg = image_bytes(faceless_picture());
    const std::pair<std::string, std::string> bad[] = {
        {"", "empty file"},
        {"this is not a picture\n", "not a recognised image format"},
        {jpeg.substr(0, jpeg.size() / 2), "truncated JPEG"},
        {image_bytes(faceless_picture(), ".png"), "over the 10000 pixels limit"},  // (a JPEG would be reduced)
    };
    for (const auto& [bytes, cause] : bad) {
        ImageLabels r;
        CHECK_NOTHROW(r = predictor.label_bytes(bytes, "in\nput"));
        CHECK(!r.ok());
        CHECK_MESSAGE(r.error.find(cause) != std::string::npos, r.error);
        CHECK(r.error.find('\n') == std::string::npos);
        CHECK(r.faces.empty());
        CHECK(r.input == "in\nput");
    }
}

TEST_CASE("image_labels_json is the object predict --format jsonl prints for the image") {
    ImageLabels ok;
    ok.input = "a/b.jpg";
    ok.width = 640;
    ok.height = 480;
    Prediction known;
    known.name = "alice";
    known.label = 0;
    known.distance = 0.312345f;
    Prediction stranger;
    stranger.name = "unknown";
    stranger.label = -1;
    stranger.distance = 0.7f;
    ok.faces = {{{10, 20, 100, 110}, known}, {{300, 40, 50, 50}, stranger}};
    ImageLabels none;
    none.input = "c.png";
    ImageLabels bad;
    bad.input = "d.jpg";
    bad.error = "truncated JPEG";

    std::ostringstream out;
    ResultWriter w(out, OutputFormat::jsonl);
    for (const auto* r : {&ok, &none, &bad}) w.write(*r);
    std::istringstream lines(out.str());
    for (const auto* r : {&ok, &none, &bad}) {
        std::string line;
        REQUIRE(std::getline(lines, line));
        CHECK(nlohmann::json::parse(line) == image_labels_json(*r));
    }

    const auto j = image_labels_json(ok);
    CHECK(j["file"] == "a/b.jpg");
    CHECK(j["status"] == "ok");
    CHECK(j["width"] == 640);
    CHECK(j["faces"].size() == 2);
    CHECK(j["faces"][0]["box"] == nlohmann::json{{"x", 10}, {"y", 20}, {"width", 100}, {"height", 110}});
    CHECK(j["faces"][0]["label"] == "alice");
    CHECK(j["faces"][0]["known"] == true);
    CHECK(j["faces"][0]["distance"].get<double>() == doctest::Approx(0.3123));
    CHECK(j["faces"][1]["known"] == false);
    CHECK(j["error"].is_null());
    CHECK(image_labels_json(none)["status"] == "no_face");
    CHECK(image_labels_json(none)["faces"].empty());
    CHECK(image_labels_json(bad)["status"] == "error");
    CHECK(image_labels_json(bad)["error"] == "truncated JPEG");
}
