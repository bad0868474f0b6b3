// The SSD MobileNet v1 face detector (lib/ssd_detector.h): loading errors, what
// it finds, and parity with face-api's own JavaScript forward pass (tests/js/face_api_ssd.js).
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <limits>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "container.h"
#include "error.h"
#include "model_import.h"
#include "models.h"
#include "ssd_detector.h"
#include "ssd_model.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe;
using facepipe::test::npm_samples;
using facepipe::test::npm_samples_missing;

namespace {

fs::path ssd_model() {
    const fs::path p = fs::path(FACEPIPE_TEST_MODEL_DIR) / kSsdModelFile;
    REQUIRE_MESSAGE(fs::is_regular_file(p), p.string() << " missing: run scripts/setup.sh (facepipe models import)");
    return p;
}

cv::Mat sample(int i) { return cv::imread((npm_samples() / ("sample" + std::to_string(i) + ".jpg")).string()); }

void write_ppm(const cv::Mat& bgr, const fs::path& path) {
    std::ofstream out(path, std::ios::binary);
    out << "P6\n" << bgr.cols << " " << bgr.rows << "\n255\n";
    for (int y = 0; y < bgr.rows; ++y)
        for (int x = 0; x < bgr.cols; ++x) {
            const cv::Vec3b p = bgr.at<cv::Vec3b>(y, x);
            out.put(static_cast<char>(p[2])).put(static_cast<char>(p[1])).put(static_cast<char>(p[0]));
        }
}

std::vector<nlohmann::json> face_api_ssd(const std::vector<fs::path>& files) {
    std::string cmd = "node " + (fs::path(FACEPIPE_SOURCE_DIR) / "tests/js/face_api_ssd.js").string() +
                      " --model-dir " + (npm_samples().parent_path() / "model").string();
    for (const auto& f : files) cmd += " " + f.string();
    int status = -1;
    const std::string out = test::command_stdout(cmd, status);
    REQUIRE_MESSAGE(status == 0, "face_api_ssd.js failed; run scripts/setup.sh --tests");
    std::vector<nlohmann::json> result;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) result.push_back(nlohmann::json::parse(line));
    return result;
}

bool same(const std::vector<Detection>& a, const std::vector<Detection>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (!(a[i].box == b[i].box) || a[i].score != b[i].score) return false;
    return true;
}

}  // namespace

TEST_CASE("ssd: a missing converted model is a ModelError naming the file and what to run") {
    test::TempDir dir;
    const fs::path missing = dir / kSsdModelFile;
    try {
        SsdFaceDetector d(missing);
        FAIL("no error");
    } catch (const ModelError& e) {
        CHECK(e.subject() == missing.string());
        CHECK(std::string(e.what()).find("facepipe models import") != std::string::npos);
    }
    ModelFiles files;
    files.ssd = missing;
    CHECK_THROWS_WITH_AS(verify_ssd_model(files), doctest::Contains(missing.string().c_str()), ModelError);
}

TEST_CASE("ssd: a damaged converted model is a ModelError naming the file") {
    const std::string good = test::slurp_file(ssd_model());
    REQUIRE(good.size() > 1000);
    test::TempDir dir;
    const fs::path bad = dir / kSsdModelFile;
    auto refused = [&](const std::string& bytes, const char* cause) {
        std::ofstream(bad, std::ios::binary | std::ios::trunc) << bytes;
        try {
            SsdFaceDetector d(bad);
            FAIL("no error for " << cause);
        } catch (const ModelError& e) {
            CHECK(e.subject() == bad.string());
            CHECK_MESSAGE(std::string(e.what()).find(cause) != std::string::npos, e.what());
        }
    };
    refused(good.substr(0, good.size() / 2), "truncated");
    std::string flipped = good;
    flipped[flipped.size() / 2] ^= 0x10;
    refused(flipped, "checksum mismatch");
    refused("not a model at all, but long enough to hold a header of fifty-two bytes....", "bad magic");
    // A well-formed container whose tensors are not the network's.
    PayloadWriter w;
    w.count(1);
    w.str("MobilenetV1/Conv2d_0_pointwise/weights");
    w.count(1);
    w.u32(2);
    const float v[2] = {0, 1};
    w.floats(v, 2);
    refused(container_bytes(std::string_view(kSsdModelMagic, 8), kSsdModelVersion, w.bytes()), "corrupted: 1 tensors");
}

TEST_CASE("ssd: the payload parser refuses a wrong shape and a non-finite value") {
    const Container c = read_container(ssd_model().string(), std::string_view(kSsdModelMagic, 8), "model", 1);
    CHECK(parse_ssd_payload(c.payload, "m").size() == ssd_tensor_specs().size());
    // The first tensor's first dimension (u32) follows its name and the rank (u64).
    const std::string& first = ssd_tensor_specs()[0].name;
    const size_t at = c.payload.find(first);
    REQUIRE(at < 64);
    const size_t dim0 = at + first.size() + 8;
    REQUIRE(c.payload[dim0] == 3);
    std::string shape = c.payload;
    shape[dim0] = 4;  // [3,3,3,32] -> [4,3,3,32]
    CHECK_THROWS_WITH_AS(parse_ssd_payload(shape, "m"), doctest::Contains("has shape [4,3,3,32]"), Error);
    std::string nan = c.payload;
    const float q = std::numeric_limits<float>::quiet_NaN();
    std::memcpy(&nan[dim0 + 4 * 4], &q, 4);  // the first value
    CHECK_THROWS_WITH_AS(parse_ssd_payload(nan, "m"), doctest::Contains("non-finite"), Error);
}

TEST_CASE("ssd: an image without a face gives no detection") {
    SsdFaceDetector d(ssd_model());
    cv::Mat img(480, 640, CV_8UC3);
    for (int y = 0; y < img.rows; ++y)
        for (int x = 0; x < img.cols; ++x)
            img.at<cv::Vec3b>(y, x) = cv::Vec3b(x * 255 / img.cols, y * 255 / img.rows, 128);
    cv::rectangle(img, {100, 100, 200, 120}, {30, 200, 60}, cv::FILLED);
    CHECK(d.detect(img).empty());
    CHECK(d.detect(cv::Mat(1, 1, CV_8UC3, cv::Scalar::all(0))).empty());  // tiny: still runs
    CHECK_THROWS_AS(d.detect(cv::Mat()), std::invalid_argument);
    CHECK_THROWS_AS(d.detect(cv::Mat(10, 10, CV_8UC1)), std::invalid_argument);
}

TEST_CASE("ssd: finds the faces of npm's sample photos, the same every time, whatever the threads") {
    SKIP_IF(npm_samples_missing());
    SsdFaceDetector one(ssd_model());
    SsdOptions o;
    o.threads = 2;
    SsdFaceDetector two(ssd_model(), o);
    int faces = 0;
    for (int i = 1; i <= 6; ++i) {
        CAPTURE(i);
        const cv::Mat img = sample(i);
        REQUIRE(!img.empty());
        const auto a = one.detect(img);
        CHECK(a.size() >= 1);
        faces += static_cast<int>(a.size());
        for (size_t k = 0; k < a.size(); ++k) {
            CHECK(a[k].score > 0.5);
            CHECK(a[k].score <= 1.0);
            CHECK(a[k].box.width > 20);
            const cv::Point centre(a[k].box.x + a[k].box.width / 2, a[k].box.y + a[k].box.height / 2);
            CHECK(cv::Rect(0, 0, img.cols, img.rows).contains(centre));
            if (k) CHECK(a[k - 1].box.area() >= a[k].box.area());
        }
        CHECK(same(a, one.detect(img)));  // deterministic
        CHECK(same(a, two.detect(img)));  // threads change nothing
        SsdFaceDetector copy(one);
        CHECK(same(a, copy.detect(img)));
    }
    MESSAGE(faces << " faces in the 6 sample photos");
    // sample1.jpg: three people, each face near face-api's box for it.
    const auto s1 = one.detect(sample(1));
    CHECK(s1.size() == 3);
}

TEST_CASE("ssd: boxes and scores match face-api's JavaScript forward pass within 1e-3") {
    SKIP_IF(npm_samples_missing());
    // The JS forward pass takes ~5 s of CPU an image (at any size: the net sees 512x512).
    // Three photos, one of them cropped to a tall image (padding at the right instead of the bottom).
    std::vector<cv::Mat> images = {sample(1), sample(2), sample(3)(cv::Rect(500, 0, 700, 1100)).clone()};
    test::TempDir dir;
    std::vector<fs::path> files;
    for (size_t i = 0; i < images.size(); ++i) {
        REQUIRE(!images[i].empty());
        files.push_back(dir / ("image" + std::to_string(i) + ".ppm"));
        write_ppm(images[i], files.back());
    }
    const auto theirs = face_api_ssd(files);
    REQUIRE(theirs.size() == images.size());
    SsdFaceDetector d(ssd_model());
    double worst_box = 0, worst_score = 0;
    int faces = 0;
    for (size_t i = 0; i < images.size(); ++i) {
        CAPTURE(i);
        const auto ours = d.detect_relative(images[i]);
        const auto& ref = theirs[i].at("faces");
        REQUIRE(ours.size() == ref.size());
        for (size_t k = 0; k < ours.size(); ++k, ++faces) {
            const cv::Rect2d& r = ours[k].relative;
            for (auto [a, key] : {std::pair{r.x, "x"}, {r.y, "y"}, {r.width, "width"}, {r.height, "height"}})
                worst_box = std::max(worst_box, std::abs(a - ref[k].at(key).get<double>()));
            worst_score = std::max(worst_score, std::abs(ours[k].score - ref[k].at("score").get<double>()));
        }
    }
    MESSAGE(faces << " faces; max |facepipe - face-api|: boxes " << worst_box << " (fractions of the image's width/height), scores "
                  << worst_score);
    CHECK(faces >= 7);
    CHECK(worst_box <= 1e-3);
    CHECK(worst_score <= 1e-3);
}

TEST_CASE("ssd: import writes the model with its provenance, and verify_ssd_model checks it") {
    const fs::path src = npm_samples().parent_path() / "model";
    SKIP_IF(npm_samples_missing());
    test::TempDir dir;
    const ImportResult r = import_face_api_ssd_model(src, dir.path());
    CHECK(r.output == dir / kSsdModelFile);
    CHECK(r.tensors == 151);
    CHECK(test::file_mode(r.output) == 0644);
    CHECK(test::slurp_file(r.output) == test::slurp_file(ssd_model()));  // the conversion is reproducible
    ModelFiles files;
    files.ssd = r.output;
    verify_ssd_model(files);
    CHECK(files.ssd_sha256 == r.output_sha256);
    CHECK(files.ssd_origin.find("@vladmandic/face-api@1.7.15") != std::string::npos);
    CHECK(files.ssd_id() == "ssd:" + r.output_sha256.substr(0, 12));
    std::ofstream(r.provenance, std::ios::trunc) << R"({"sha256": "0000", "origin": "x"})";
    CHECK_THROWS_WITH_AS(verify_ssd_model(files), doctest::Contains("differs from the one recorded"), ModelError);
}

TEST_CASE("ssd: import refuses inputs that are not the tested face-api files") {
    test::TempDir dir;
    std::ofstream(dir / "ssd_mobilenetv1_model-weights_manifest.json") << "[]";
    std::ofstream(dir / "ssd_mobilenetv1_model.bin") << "";
    CHECK_THROWS_WITH_AS(import_face_api_ssd_model(dir.path(), dir / "out"), doctest::Contains("is not the tested"), Error);
    CHECK_THROWS_WITH_AS(import_face_api_ssd_model(dir.path(), dir / "out", true),
                         doctest::Contains("tensor MobilenetV1/Conv2d_0_pointwise/weights is missing"), Error);
}
