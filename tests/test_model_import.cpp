// The conversion of face-api's TF.js ResNet into dlib's format, proven against
// face-api's own JavaScript forward pass on the same chips (tests/js/).
#include <doctest/doctest.h>
#include <dlib/image_transforms/interpolation.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "error.h"
#include "model_import.h"
#include "models.h"
#include "recognizer.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe;

namespace {

const fs::path kCache = fs::path(FACEPIPE_SOURCE_DIR) / ".cache" / "npm";

// Chips of the faces in the face-api sample photos (the largest `per_photo` of
// each, all when 0), in a fixed order.
std::vector<Chip> sample_chips(const LoadedModels& models, size_t per_photo = 0) {
    std::vector<Chip> chips;
    FaceDetector detector;
    for (int i = 1; i <= 6; ++i) {
        const cv::Mat img = cv::imread((kCache / "face-api/package/demo" / ("sample" + std::to_string(i) + ".jpg")).string());
        REQUIRE_MESSAGE(!img.empty(), "run scripts/setup.sh: npm sample photos missing");
        auto dets = detector.detect(img);
        if (per_photo && dets.size() > per_photo) dets.resize(per_photo);
        for (const auto& d : dets)
            chips.push_back(Aligner::chip(img, models.aligner().landmarks(img, d.box)));
    }
    return chips;
}

void write_rgb(const Chip& chip, const fs::path& path) {
    std::ofstream out(path, std::ios::binary);
    for (long r = 0; r < chip.nr(); ++r)
        for (long c = 0; c < chip.nc(); ++c) out.put(chip(r, c).red).put(chip(r, c).green).put(chip(r, c).blue);
}

std::vector<std::vector<float>> face_api_descriptors(const std::vector<fs::path>& files) {
    std::string cmd = "node " + (fs::path(FACEPIPE_SOURCE_DIR) / "tests/js/face_api_descriptors.js").string() +
                      " --model-dir " + (kCache / "face-api/package/model").string();
    for (const auto& f : files) cmd += " " + f.string();
    int status = -1;
    const std::string out = test::command_stdout(cmd, status);
    REQUIRE_MESSAGE(status == 0, "face_api_descriptors.js failed; run scripts/setup.sh --tests");
    std::vector<std::vector<float>> result;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);)
        result.push_back(nlohmann::json::parse(line).at("descriptor").get<std::vector<float>>());
    return result;
}

}  // namespace

TEST_CASE("converted ResNet matches face-api's JavaScript forward pass within 1e-4") {
    const auto models = LoadedModels::load(locate_models(FACEPIPE_TEST_MODEL_DIR));
    REQUIRE_MESSAGE(models->files().origin.find("face-api") != std::string::npos,
                    "the test proves the converted model; models dir holds " << models->files().origin);
    // The JS forward pass takes ~2 s a chip: two faces of each photo are enough.
    const auto chips = sample_chips(*models, 2);
    REQUIRE(chips.size() >= 6);

    test::TempDir dir;
    std::vector<fs::path> files;
    for (size_t i = 0; i < chips.size(); ++i) {
        files.push_back(dir / ("chip" + std::to_string(i) + ".rgb"));
        write_rgb(chips[i], files.back());
    }
    Embedder embedder(models->files().recognition);
    const auto ours = embedder.compute(chips);
    const auto theirs = face_api_descriptors(files);
    REQUIRE(theirs.size() == ours.size());
    float worst = 0;
    for (size_t i = 0; i < ours.size(); ++i) {
        REQUIRE(theirs[i].size() == 128);
        for (int k = 0; k < 128; ++k) worst = std::max(worst, std::abs(ours[i][k] - theirs[i][k]));
    }
    MESSAGE(chips.size() << " chips, max |dlib - face-api| = " << worst);
    CHECK(worst <= 1e-4f);
}

TEST_CASE("descriptors: a face is near its mirror image, different people are far apart") {
    const auto models = LoadedModels::load(locate_models(FACEPIPE_TEST_MODEL_DIR));
    auto chips = sample_chips(*models);
    const size_t n = chips.size();
    for (size_t i = 0; i < n; ++i) {
        Chip flipped;
        dlib::flip_image_left_right(chips[i], flipped);
        chips.push_back(flipped);
    }
    Embedder embedder(models->files().recognition);
    const auto d = embedder.compute(chips);
    for (size_t i = 0; i < n; ++i) CHECK(distance(d[i], d[n + i]) < 0.4f);
    // The sample photos show different people (a few may repeat): most pairs must be > 0.6 apart.
    int far = 0, pairs = 0;
    for (size_t i = 0; i < n; ++i)
        for (size_t j = i + 1; j < n; ++j, ++pairs) far += distance(d[i], d[j]) > 0.6f;
    MESSAGE(far << " of " << pairs << " pairs of sample faces are > 0.6 apart");
    CHECK(far >= 0.9 * pairs);
}

TEST_CASE("import refuses inputs that are not the tested face-api files") {
    test::TempDir dir;
    std::ofstream(dir / "face_recognition_model-weights_manifest.json") << "[]";
    std::ofstream(dir / "face_recognition_model.bin") << "x";
    CHECK_THROWS_WITH_AS(import_face_api_model(dir.path(), dir / "out"), doctest::Contains("is not the tested"), Error);
    CHECK_THROWS_WITH_AS(import_face_api_model(dir.path(), dir / "out", true), doctest::Contains("unread bytes"), Error);
}

TEST_CASE("a models folder whose model does not match its provenance is refused") {
    test::TempDir dir;
    fs::copy_file(fs::path(FACEPIPE_TEST_MODEL_DIR) / kRecognitionModelFile, dir / kRecognitionModelFile);
    std::ofstream(dir / (std::string(kRecognitionModelFile) + kProvenanceSuffix))
        << R"({"sha256": "0000", "origin": "x"})";
    CHECK_THROWS_WITH_AS(locate_models(dir.path()), doctest::Contains("differs from the one recorded"), Error);
}
