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
#include "version.h"

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

TEST_CASE("BatchPredictor on any thread count gives one Predictor's results, in input order, and its annotated copies") {
    SKIP_IF(shared_data_missing({"faces"}));
    TempDir dir;
    // Real photos, three of them under one name in different folders, and a file
    // of that name that is not a picture (it gets no copy, so no numbered name).
    const fs::path faces = shared_data() / "faces";
    const std::vector<std::pair<std::string, fs::path>> layout = {
        {"a/x.jpg", faces / "obama" / "obama1.jpg"},   {"b/x.jpg", faces / "biden" / "biden.jpg"},
        {"c/x.png", ""},                                {"d/x.jpg", faces / "penny" / "penny1.png"},
        {"e/y.jpg", faces / "amy" / "amy1.png"},         {"f/z.png", faces / "howard" / "howard1.png"},
        {"g/w.jpg", faces / "kit_harington" / "john1.jpeg"}, {"h/v.jpg", faces / "rose_leslie" / "img1.jpg"}};
    std::vector<std::string> files;
    for (const auto& [name, source] : layout) {
        fs::create_directories((dir / name).parent_path());
        if (source.empty()) write_file_atomic((dir / name).string(), "not a picture");
        else fs::copy_file(source, dir / name);
        files.push_back((dir / name).string());
    }
    files.push_back((dir / "missing.jpg").string());
    const auto classifier = made_up_classifier(test_model_files().model_id());
    const std::string model = (dir / "model.bin").string();

    // BatchPredictor runs BLAS on one thread (OpenBLAS's split changes a
    // descriptor's last bits): the serial reference does too.
    set_blas_threads(1);
    PredictOptions o;
    o.annotate_dir = dir / "serial";
    Predictor one(test_models(), classifier, o, model);
    std::vector<ImageLabels> expected;
    for (const auto& f : files) expected.push_back(one.label_image(f));
    int faces_found = 0;
    for (const auto& r : expected) faces_found += static_cast<int>(r.faces.size());
    REQUIRE(faces_found >= 7);

    for (int threads : {1, 2, 3}) {
        CAPTURE(threads);
        o.annotate_dir = dir / ("threads" + std::to_string(threads));
        BatchPredictor batch(test_models(), classifier, o, model, threads);
        std::vector<ImageLabels> got;
        batch.run(files, [&](const ImageLabels& r) { got.push_back(r); });
        REQUIRE(got.size() == expected.size());
        for (std::size_t i = 0; i < got.size(); ++i) {
            CAPTURE(expected[i].input);
            CHECK(got[i].input == expected[i].input);
            CHECK(got[i].error == expected[i].error);
            CHECK(got[i].width == expected[i].width);
            CHECK(got[i].height == expected[i].height);
            REQUIRE(got[i].faces.size() == expected[i].faces.size());
            for (std::size_t k = 0; k < got[i].faces.size(); ++k) {
                CHECK(got[i].faces[k].box == expected[i].faces[k].box);
                CHECK(got[i].faces[k].score == expected[i].faces[k].score);
                CHECK(got[i].faces[k].prediction.name == expected[i].faces[k].prediction.name);
                CHECK(got[i].faces[k].prediction.distance == expected[i].faces[k].prediction.distance);
                CHECK(got[i].faces[k].descriptor == expected[i].faces[k].descriptor);
            }
        }
        // The same copies under the same names: x.jpg is a/x.jpg's, x-1.jpg b's, x-2.jpg d's.
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(o.annotate_dir)) names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        CHECK(names == std::vector<std::string>{"v.jpg", "w.jpg", "x-1.jpg", "x-2.jpg", "x.jpg", "y.jpg", "z.jpg"});
        for (const auto& n : names) CHECK_MESSAGE(slurp_file(o.annotate_dir / n) == slurp_file(dir / "serial" / n), n);
    }
}
