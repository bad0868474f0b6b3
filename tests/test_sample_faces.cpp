// Implementation of sample_faces.h, and a check that its portraits are faces.
#include "sample_faces.h"

#include <doctest/doctest.h>

#include <map>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

namespace fs = std::filesystem;

namespace facepipe::test {
namespace {

struct Cut {
    const char* photo;
    cv::Rect face;  // as `facepipe predict` reports it on the pinned photo
};

const std::map<std::string, Cut>& cuts() {
    static const std::map<std::string, Cut> m = {
        {"sample1-a", {"sample1.jpg", {366, 366, 227, 227}}}, {"sample1-c", {"sample1.jpg", {1466, 243, 189, 188}}},
        {"sample2-a", {"sample2.jpg", {1437, 192, 225, 225}}}, {"sample3-a", {"sample3.jpg", {1037, 231, 272, 270}}},
        {"stranger", {"sample4.jpg", {636, 119, 189, 188}}},
    };
    return m;
}

}  // namespace

cv::Mat sample_portrait(const std::string& name) {
    const auto it = cuts().find(name);
    REQUIRE_MESSAGE(it != cuts().end(), "no sample face called ", name);
    const fs::path file = fs::path(FACEPIPE_SOURCE_DIR) / ".cache/npm/face-api/package/demo" / it->second.photo;
    const cv::Mat photo = cv::imread(file.string());
    REQUIRE_MESSAGE(!photo.empty(), file.string(), " cannot be read (run scripts/setup.sh --tests)");
    const cv::Rect f = it->second.face;
    const int m = f.width / 2;
    return photo(cv::Rect(f.x - m, f.y - m, f.width + 2 * m, f.height + 2 * m)).clone();
}

cv::Mat mirrored(const cv::Mat& image) {
    cv::Mat out;
    cv::flip(image, out, 1);
    return out;
}

std::string image_bytes(const cv::Mat& image, const std::string& ext) {
    std::vector<uchar> buf;
    REQUIRE(cv::imencode(ext, image, buf));
    return std::string(buf.begin(), buf.end());
}

cv::Mat picture_without_face() {
    cv::Mat m(240, 320, CV_8UC3);
    for (int y = 0; y < m.rows; ++y)
        for (int x = 0; x < m.cols; ++x) m.at<cv::Vec3b>(y, x) = cv::Vec3b(x * 255 / 320, y * 255 / 240, 128);
    return m;
}

cv::Mat picture_of_two() {
    const cv::Mat a = sample_portrait("sample1-a"), b = sample_portrait("sample2-a");
    cv::Mat canvas(std::max(a.rows, b.rows), a.cols + 60 + b.cols, CV_8UC3, cv::Scalar(90, 100, 110));
    a.copyTo(canvas(cv::Rect(0, 0, a.cols, a.rows)));
    b.copyTo(canvas(cv::Rect(a.cols + 60, 0, b.cols, b.rows)));
    return canvas;
}

EnrollOptions enroll_options_in(const fs::path& dir, int copies) {
    EnrollOptions o;
    o.dataset = dir / "dataset";
    o.encodings = dir / "encodings.bin";
    o.model = dir / "model.bin";
    o.labels = dir / "labels.bin";
    o.augment.copies = copies;
    o.threads = 2;
    return o;
}

const ModelFiles& sample_model_files() {
    static const ModelFiles files = locate_models(FACEPIPE_TEST_MODEL_DIR);
    return files;
}

std::shared_ptr<const LoadedModels> sample_models() {
    static const auto models = LoadedModels::load(sample_model_files());
    return models;
}

}  // namespace facepipe::test

using namespace facepipe;
using namespace facepipe::test;

TEST_CASE("sample_faces: each portrait shows one face, the two-person picture two, the plain one none") {
    FaceAnalyzer analyzer(sample_models());
    for (const char* name : {"sample1-a", "sample1-c", "sample2-a", "sample3-a", "stranger"}) {
        int found = 0;
        analyzer.analyze(sample_portrait(name), 1, &found);
        CHECK_MESSAGE(found == 1, name);
    }
    int found = -1;
    analyzer.analyze(picture_of_two(), 1, &found);
    CHECK(found == 2);
    analyzer.analyze(picture_without_face(), 1, &found);
    CHECK(found == 0);
}
