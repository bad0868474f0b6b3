// fuzz_seeds OUT [FACE_API_MODEL_DIR] — writes the seed corpora of the
// harnesses (tests/fuzz/fuzz_*.cpp) into OUT/<harness>/: valid files made by
// facepipe's own writers (write_encodings, the journal, save_model,
// make_manifest, the SSD model's format), images and videos made with OpenCV, each framed as its
// harness expects. With FACE_API_MODEL_DIR, face-api's real weights manifest
// is a seed of the TF.js harness too (without its 6 MB of weights).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <string>
#include <vector>

#include "container.h"
#include "encodings.h"
#include "fsutil.h"
#include "fuzz_models.h"
#include "fuzz_util.h"
#include "model_file.h"
#include "ssd_model.h"
#include "sync_manifest.h"

using namespace facepipe;
namespace fs = std::filesystem;

namespace {

fs::path g_out;

void seed(const std::string& harness, const std::string& name, const std::string& bytes) {
    fs::create_directories(g_out / harness);
    std::ofstream(g_out / harness / name, std::ios::binary) << bytes;
}

std::string payload_of(const std::string& file) { return file.substr(kContainerHeaderBytes); }

std::string sp(const std::string& a, const std::string& b) { return a + std::string(fuzz::kSplit) + b; }

EncodingRecord record(const std::string& person, int i, EncodeStatus status, int faces) {
    EncodingRecord r;
    r.person = person;
    r.path = person + "/" + std::to_string(i) + ".jpg";
    r.source = r.path;
    r.content_hash = std::string(64, 'a' + i % 6);
    r.status = status;
    r.faces_found = faces;
    if (status == EncodeStatus::ok) {
        r.box = {1, 2, 30 + i, 40};
        for (std::size_t d = 0; d < kDescriptorDim; ++d) r.descriptor[d] = 0.01f * std::cos(float(i + d));
        if (faces > 1) {
            r.face_choice = FaceChoice::largest;
            r.note = multi_face_note(faces, FaceChoice::largest);
        }
    } else {
        r.note = status == EncodeStatus::no_face ? "no face found" : "cannot decode";
        if (status == EncodeStatus::unreadable) r.content_hash.clear();
    }
    return r;
}

void encodings_seeds(const fs::path& tmp) {
    EncodingsFile f{"fuzz-model", {}};
    f.records.push_back(record("Ada", 1, EncodeStatus::ok, 1));
    f.records.push_back(record("Ada", 2, EncodeStatus::ok, 3));
    f.records.push_back(record("Bo", 3, EncodeStatus::no_face, 0));
    f.records.push_back(record("Bo", 4, EncodeStatus::unreadable, 0));
    EncodingRecord aug = record("Bo", 5, EncodeStatus::ok, 1);
    aug.augmentation = "rotate";
    aug.path = "Bo/augmented/5.jpg~1a2b3c4d~02-rotate.jpg";
    aug.source = "Bo/5.jpg";
    f.records.push_back(aug);
    const std::string path = (tmp / "encodings.bin").string();
    write_encodings(path, f);
    const std::string file = read_file(path);
    seed("fuzz_encodings", "file", std::string(1, '\0') + file);
    seed("fuzz_encodings", "payload", std::string(1, '\1') + char(1) + payload_of(file));
    write_encodings(path, EncodingsFile{"fuzz-model", {}});
    seed("fuzz_encodings", "empty-payload", std::string(1, '\1') + char(1) + payload_of(read_file(path)));

    const std::string jpath = (tmp / "encodings.bin.journal").string();
    {
        EncodingsJournal j(jpath, "fuzz-model");
        for (const auto& r : f.records) j.append(r);
    }
    const std::string journal = read_file(jpath);
    seed("fuzz_encodings", "journal", std::string(1, '\2') + journal);
    // The same entries without their length and checksum, for mode 3.
    std::string entries;
    std::size_t at = 8 + 4 + 4 + std::string("fuzz-model").size();
    while (at + 36 <= journal.size()) {
        const std::uint32_t len = std::uint8_t(journal[at]) | std::uint8_t(journal[at + 1]) << 8 |
                                  std::uint8_t(journal[at + 2]) << 16 | std::uint32_t(std::uint8_t(journal[at + 3])) << 24;
        if (!entries.empty()) entries += fuzz::kSplit;
        entries += journal.substr(at + 36, len);
        at += 36 + len;
    }
    seed("fuzz_encodings", "journal-entries", std::string(1, '\3') + entries);
}

void model_seeds(const fs::path& tmp) {
    for (bool index : {false, true}) {
        const std::string mp = (tmp / "model.bin").string(), lp = (tmp / "labels.bin").string();
        save_model(fuzz::small_model(index), mp, lp);
        const std::string model = read_file(mp), labels = read_file(lp);
        const std::string tag = index ? "-hnsw" : "-exact";
        seed("fuzz_model", "files" + tag, std::string(1, '\0') + sp(model, labels));
        seed("fuzz_model", "payloads" + tag, std::string(1, '\1') + sp(char(3) + payload_of(model), payload_of(labels)));
        if (!index) {
            seed("fuzz_labels", "file", std::string(1, '\0') + labels);
            seed("fuzz_labels", "payload", std::string(1, '\1') + payload_of(labels));
        }
    }
}

void manifest_seeds(const fs::path& tmp) {
    const fs::path dir = tmp / "bucket";
    fs::create_directories(dir);
    const ArtifactPaths paths = artifacts_in(dir);
    EncodingsFile f{"fuzz-model", {record("Ada", 1, EncodeStatus::ok, 1), record("Bo", 2, EncodeStatus::ok, 1)}};
    write_encodings(paths.encodings.string(), f);
    save_model(fuzz::small_model(false), paths.model.string(), paths.labels.string());
    seed("fuzz_sync_manifest", "manifest.json", to_json(make_manifest(paths)));
}

void pairs_seeds() {
    seed("fuzz_pairs", "pairs.txt",
         "2 2\nAda 1 2\nBo 1 3\nAda 1 Bo 2\nCy 4 Ada 2\nCy 1 2\nDee 2 3\nBo 1 Cy 1\nDee 1 Ada 3\n");
    seed("fuzz_pairs", "pairs-crlf-tabs.txt", "2\t1\r\nAda\t1\t2\r\nAda 1\tBo 1\r\nBo 1 2\r\nCy 3 Bo 1\r\n\r\n");
}

void tfjs_seeds(const std::string& face_api_dir) {
    // Two tensors: one uint8-quantized, one float32, as face-api's manifest has them.
    const std::string manifest =
        R"([{"paths":["face_recognition_model.bin"],"weights":[)"
        R"({"name":"conv32_down/conv/filters","shape":[2,3],"dtype":"float32","quantization":{"dtype":"uint8","scale":0.5,"min":-1.0}},)"
        R"({"name":"fc","shape":[2,2],"dtype":"float32"}]}])";
    std::string weights = "\x01\x02\x03\x04\x05\x06";
    const float fc[4] = {0.5f, -1.f, 2.f, 0.25f};
    weights.append(reinterpret_cast<const char*>(fc), sizeof fc);
    seed("fuzz_tfjs_weights", "small", manifest + std::string(1, '\0') + weights);
    if (!face_api_dir.empty()) {
        const std::string real = read_file(face_api_dir + "/face_recognition_model-weights_manifest.json");
        seed("fuzz_tfjs_weights", "face-api-manifest", real + std::string(1, '\0'));
    }
}

// The converted SSD detector: the first two tensors whole (the real file is 22 MB),
// then the file ends; and the same payload inside its container (mode 0).
void ssd_seeds() {
    const auto& specs = ssd_tensor_specs();
    PayloadWriter w;
    w.count(specs.size());
    for (int i = 0; i < 2; ++i) {
        w.str(specs[i].name);
        w.count(specs[i].shape.size());
        long n = 1;
        for (long d : specs[i].shape) {
            w.u32(static_cast<std::uint32_t>(d));
            n *= d;
        }
        std::vector<float> v(static_cast<std::size_t>(n));
        for (long k = 0; k < n; ++k) v[k] = 0.01f * std::sin(float(k));
        w.floats(v.data(), v.size());
    }
    seed("fuzz_ssd_model", "payload", std::string(1, '\1') + w.bytes());
    seed("fuzz_ssd_model", "file", std::string(1, '\0') + container_bytes(std::string_view(kSsdModelMagic, 8), 1, w.bytes()));
}

// A JPEG with an EXIF APP1 segment holding only the orientation tag.
std::string jpeg_with_orientation(const std::vector<uchar>& jpeg, int orientation) {
    std::string tiff = "MM";
    tiff += std::string("\x00\x2a\x00\x00\x00\x08", 6);                      // big-endian, IFD0 at 8
    tiff += std::string("\x00\x01", 2);                                        // one entry
    tiff += std::string("\x01\x12\x00\x03\x00\x00\x00\x01", 8);               // Orientation, SHORT, 1
    tiff += std::string(1, '\0') + char(orientation) + std::string(2, '\0');  // the value, padded
    tiff += std::string(4, '\0');                                              // no next IFD
    const std::string body = std::string("Exif\0\0", 6) + tiff;
    const std::size_t len = body.size() + 2;
    std::string app1 = std::string("\xff\xe1", 2) + char(len >> 8) + char(len & 0xff) + body;
    std::string out(jpeg.begin(), jpeg.end());
    out.insert(2, app1);  // right after SOI
    return out;
}

void image_seeds() {
    cv::Mat img(24, 32, CV_8UC3);
    for (int y = 0; y < img.rows; ++y)
        for (int x = 0; x < img.cols; ++x) img.at<cv::Vec3b>(y, x) = cv::Vec3b(x * 8, y * 10, (x + y) * 4);
    std::vector<uchar> buf;
    auto put = [&](const std::string& name, const cv::Mat& m, const std::string& ext, std::vector<int> params = {}) {
        if (cv::imencode(ext, m, buf, params)) seed("fuzz_image", name, std::string(buf.begin(), buf.end()));
    };
    put("rgb.jpg", img, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 70});
    put("progressive.jpg", img, ".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1});
    put("rgb.png", img, ".png");
    put("rgb.bmp", img, ".bmp");
    put("rgb.webp", img, ".webp");
    put("lossless.webp", img, ".webp", {cv::IMWRITE_WEBP_QUALITY, 101});
    put("rgb.tiff", img, ".tiff");
    put("rgb.ppm", img, ".ppm");
    cv::Mat grey, rgba, deep;
    cv::cvtColor(img, grey, cv::COLOR_BGR2GRAY);
    cv::cvtColor(img, rgba, cv::COLOR_BGR2BGRA);
    img.convertTo(deep, CV_16UC3, 257);
    put("grey.pgm", grey, ".pgm");
    put("grey.png", grey, ".png");
    put("grey.jpg", grey, ".jpg");
    put("rgba.png", rgba, ".png");
    put("16bit.png", deep, ".png");
    put("16bit.tiff", deep, ".tiff");
    cv::imencode(".jpg", img, buf);
    for (int o = 1; o <= 8; ++o) seed("fuzz_image", "exif-" + std::to_string(o) + ".jpg", jpeg_with_orientation(buf, o));
}

void video_seeds(const fs::path& tmp) {
    auto record = [&](const std::string& name, int fourcc) {
        const std::string path = (tmp / name).string();
        cv::VideoWriter w(path, cv::CAP_FFMPEG, fourcc, 10, cv::Size(32, 24), true);
        if (!w.isOpened()) return;
        for (int i = 0; i < 3; ++i) w.write(cv::Mat(24, 32, CV_8UC3, cv::Scalar(i * 80, 40, 200 - i * 60)));
        w.release();
        seed("fuzz_video", name, read_file(path));
    };
    record("mjpeg.avi", cv::VideoWriter::fourcc('M', 'J', 'P', 'G'));
    record("mpeg4.mp4", cv::VideoWriter::fourcc('m', 'p', '4', 'v'));
    // YUV4MPEG2: a text header and raw 4:2:0 frames.
    std::string y4m = "YUV4MPEG2 W16 H8 F10:1 Ip A1:1 C420jpeg\n";
    for (int i = 0; i < 2; ++i) y4m += "FRAME\n" + std::string(16 * 8, char(16 + 60 * i)) + std::string(2 * 8 * 4, char(128));
    seed("fuzz_video", "raw.y4m", y4m);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: fuzz_seeds OUT [FACE_API_MODEL_DIR]\n";
        return 2;
    }
    g_out = argv[1];
    const fs::path tmp = g_out / ".tmp";
    fs::create_directories(tmp);
    try {
        encodings_seeds(tmp);
        model_seeds(tmp);
        manifest_seeds(tmp);
        pairs_seeds();
        tfjs_seeds(argc > 2 ? argv[2] : "");
        ssd_seeds();
        image_seeds();
        video_seeds(tmp);
    } catch (const std::exception& e) {
        std::cerr << "fuzz_seeds: " << e.what() << "\n";
        return 1;
    }
    fs::remove_all(tmp);
    return 0;
}
