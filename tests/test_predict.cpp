// Tests of lib/predict.h's Predictor in process, on real faces (faces.h): a
// model trained on the demo's seven people, asked about one of them, a stranger,
// a picture without a face and files that are not pictures.
#include <doctest/doctest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "classifier.h"
#include "train.h"
#include "encode.h"
#include "encodings.h"
#include "error.h"
#include "faces.h"
#include "fsutil.h"
#include "predict.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe;
using namespace facepipe::test;

namespace {

const char* const kPeople[] = {"sample1-a", "sample1-b", "sample1-c", "sample2-a",
                               "sample3-a", "sample3-b", "sample3-c"};

// The demo dataset (one portrait per person), encoded and trained in process.
std::shared_ptr<const Classifier> demo_classifier(const TempDir& dir) {
    for (const char* p : kPeople) {
        fs::create_directories(dir / "dataset" / p);
        write_image(dir / "dataset" / p / (std::string(p) + ".jpg"), portrait(p));
    }
    EncodeOptions o;
    o.dataset = dir / "dataset";
    o.output = dir / "encodings.bin";
    REQUIRE(encode_dataset(o, test_models()).ok == 7);
    return std::make_shared<const Classifier>(train(read_encodings(o.output.string()), {}, nullptr));
}


}  // namespace

TEST_CASE("Predictor names a known face, calls a stranger unknown, and finds no face where there is none") {
    SKIP_IF(npm_samples_missing());
    TempDir dir;
    const auto classifier = demo_classifier(dir);
    // Not the training photo: sample2-a mirrored and at 80 %.
    cv::Mat known;
    cv::flip(portrait("sample2-a"), known, 1);
    cv::resize(known, known, {}, 0.8, 0.8, cv::INTER_AREA);
    write_image(dir / "known.jpg", known);
    write_image(dir / "stranger.png", portrait("stranger"));
    write_image(dir / "blank.jpg", faceless_picture());

    PredictOptions o;
    o.annotate_dir = dir / "annotated";
    Predictor predictor(test_models(), classifier, o, (dir / "model.bin").string());

    const ImageLabels k = predictor.label_image((dir / "known.jpg").string());
    CHECK(k.ok());
    CHECK(k.input == (dir / "known.jpg").string());
    CHECK(k.width == known.cols);
    CHECK(k.height == known.rows);
    REQUIRE(k.faces.size() == 1);
    CHECK(k.faces[0].prediction.name == "sample2-a");
    CHECK(k.faces[0].prediction.label >= 0);
    CHECK(k.faces[0].prediction.distance < classifier->threshold());
    // The face is the middle half of the portrait.
    const Box& b = k.faces[0].box;
    CHECK(b.x + b.width / 2 == doctest::Approx(known.cols / 2).epsilon(0.1));

    const ImageLabels s = predictor.label_image((dir / "stranger.png").string());
    CHECK(s.ok());
    REQUIRE(s.faces.size() == 1);
    CHECK(s.faces[0].prediction.name == "unknown");
    CHECK(s.faces[0].prediction.label == -1);

    const ImageLabels n = predictor.label_image((dir / "blank.jpg").string());
    CHECK(n.ok());
    CHECK(n.faces.empty());

    // --annotate's copies: one per input, named after it, the picture's size,
    // readable by their owner only (photos of people are biometric data).
    for (const char* name : {"known.jpg", "stranger.jpg", "blank.jpg"}) {
        const cv::Mat a = cv::imread((o.annotate_dir / name).string());
        CHECK_MESSAGE(!a.empty(), name);
        CHECK_MESSAGE(file_mode(o.annotate_dir / name) == 0600, name);
    }
    CHECK(cv::imread((o.annotate_dir / "known.jpg").string()).size() == known.size());
}

TEST_CASE("Predictor reports an unreadable or missing file on its result, without throwing") {
    TempDir dir;
    write_file_atomic((dir / "notes.jpg").string(), "this is not a picture\n");
    write_file_atomic((dir / "empty.png").string(), "");
    Predictor predictor(test_models(), made_up_classifier(test_model_files().model_id()), {},
                        (dir / "model.bin").string());
    for (const char* name : {"notes.jpg", "empty.png", "missing.jpg"}) {
        ImageLabels r;
        CHECK_NOTHROW(r = predictor.label_image((dir / name).string()));
        CHECK_MESSAGE(!r.ok(), name);
        CHECK_MESSAGE(!r.error.empty(), name);
        CHECK_MESSAGE(r.error.find('\n') == std::string::npos, name, ": ", r.error);  // one line
        CHECK(r.faces.empty());
        CHECK(r.input == (dir / name).string());
    }
    // A good picture after the bad ones is still looked at.
    write_image(dir / "blank.jpg", faceless_picture());
    CHECK(predictor.label_image((dir / "blank.jpg").string()).ok());
}

TEST_CASE("Predictor refuses a model trained on other face models") {
    TempDir dir;
    CHECK_THROWS_WITH_AS(Predictor(test_models(), made_up_classifier("resnet:000000000000/landmarks:000000000000"),
                                   {}, (dir / "model.bin").string()),
                         doctest::Contains("different face model"), Error);
}
