// Implementation of faces.h.
#include "faces.h"

#include "train.h"

#include <doctest/doctest.h>

#include <map>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "testutil.h"

namespace facepipe::test {

namespace {

struct Cut {
    const char* photo;
    cv::Rect face;  // as `facepipe predict` reports it on the pinned photo
};

// The boxes of scripts/make_demo_dataset.sh, plus one face it leaves out.
const std::map<std::string, Cut>& cuts() {
    static const std::map<std::string, Cut> m = {
        {"sample1-a", {"sample1.jpg", {366, 366, 227, 227}}}, {"sample1-b", {"sample1.jpg", {815, 467, 225, 225}}},
        {"sample1-c", {"sample1.jpg", {1466, 243, 189, 188}}}, {"sample2-a", {"sample2.jpg", {1437, 192, 225, 225}}},
        {"sample3-a", {"sample3.jpg", {1037, 231, 272, 270}}}, {"sample3-b", {"sample3.jpg", {566, 366, 225, 227}}},
        {"sample3-c", {"sample3.jpg", {1487, 342, 225, 225}}}, {"stranger", {"sample4.jpg", {636, 119, 189, 188}}},
    };
    return m;
}

}  // namespace

cv::Mat portrait(const std::string& name) {
    const auto it = cuts().find(name);
    REQUIRE_MESSAGE(it != cuts().end(), "no sample face called ", name);
    const cv::Mat photo = cv::imread((npm_samples() / it->second.photo).string());
    REQUIRE_MESSAGE(!photo.empty(), (npm_samples() / it->second.photo).string(), " cannot be read");
    const cv::Rect f = it->second.face;
    const int m = f.width / 2;
    return photo(cv::Rect(f.x - m, f.y - m, f.width + 2 * m, f.height + 2 * m)).clone();
}

void write_image(const std::filesystem::path& path, const cv::Mat& image) {
    REQUIRE_MESSAGE(cv::imwrite(path.string(), image), path.string(), " cannot be written");
}

cv::Mat faceless_picture() {
    cv::Mat m(240, 320, CV_8UC3);
    for (int y = 0; y < m.rows; ++y)
        for (int x = 0; x < m.cols; ++x) m.at<cv::Vec3b>(y, x) = cv::Vec3b(x * 255 / 320, y * 255 / 240, 128);
    return m;
}

cv::Mat two_faces() {
    const cv::Mat big = portrait("sample1-a"), small = portrait("sample1-c");
    cv::Mat canvas(big.rows, big.cols + 60 + small.cols + 400, CV_8UC3, cv::Scalar(90, 100, 110));
    big.copyTo(canvas(cv::Rect(0, 0, big.cols, big.rows)));
    small.copyTo(canvas(cv::Rect(big.cols + 60, (big.rows - small.rows) / 2, small.cols, small.rows)));
    return canvas;
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

EnrollOptions enroll_options_in(const std::filesystem::path& dir, int copies) {
    EnrollOptions o;
    o.dataset = dir / "dataset";
    o.encodings = dir / "encodings.bin";
    o.model = dir / "model.bin";
    o.labels = dir / "labels.bin";
    o.augment.copies = copies;
    o.threads = 2;
    return o;
}

std::shared_ptr<const Classifier> made_up_classifier(const std::string& model_id) {
    EncodingsFile f;
    f.model_id = model_id;
    for (int p = 0; p < 2; ++p) {
        EncodingRecord r;
        r.person = p ? "bob" : "alice";
        r.path = r.source = r.person + "/1.jpg";
        r.faces_found = 1;
        r.box = {0, 0, 10, 10};
        r.descriptor[p] = 1.f;
        f.records.push_back(r);
    }
    return std::make_shared<const Classifier>(train(f, {}, nullptr));
}

const ModelFiles& test_model_files() {
    static const ModelFiles files = locate_models(FACEPIPE_TEST_MODEL_DIR);
    return files;
}

std::shared_ptr<const LoadedModels> test_models() {
    // Loaded to the end before first use: a test that never reaches a face
    // would otherwise let the process exit while the loading threads still run
    // (and log), after static destructors (spdlog's registry) have run; ASan
    // caught it as a use after free.
    static const auto models = [] {
        auto m = LoadedModels::load(test_model_files());
        m->wait();
        return m;
    }();
    return models;
}

}  // namespace facepipe::test
