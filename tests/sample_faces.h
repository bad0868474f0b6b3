// sample_faces.h — real faces for the in-process tests of the serve pieces
// (label_bytes, enroll from bytes, people, rollback, LiveSession): portraits cut
// from npm's @vladmandic/face-api sample photos, which scripts/setup.sh --tests
// fetches into .cache/npm. A test that uses them REQUIREs them (it fails, never
// passes, when they are missing).
#pragma once
#include <filesystem>
#include <memory>
#include <opencv2/core.hpp>
#include <string>

#include "enroll.h"
#include "models.h"
#include "recognizer.h"

namespace facepipe::test {

// A face with half a face of margin on every side, as scripts/make_demo_dataset.sh
// cuts it: "sample1-a", "sample1-c", "sample2-a", "sample3-a" (people the demo
// enrols) or "stranger" (a face from sample4.jpg). Its face is the middle half.
cv::Mat sample_portrait(const std::string& name);

// `image` mirrored left to right: another photo of the same face.
cv::Mat mirrored(const cv::Mat& image);

// `image` encoded as ".jpg" or ".png" bytes.
std::string image_bytes(const cv::Mat& image, const std::string& ext = ".jpg");

// A 320x240 picture with no face in it (a smooth gradient).
cv::Mat picture_without_face();

// Two portraits side by side on one canvas.
cv::Mat picture_of_two();

// Options for enroll and people.h that keep everything under `dir`: dataset/,
// encodings.bin, model.bin, labels.bin (and so the lock); `copies` augmented
// copies per photo, two encode threads.
EnrollOptions enroll_options_in(const std::filesystem::path& dir, int copies = 1);

// The models in FACEPIPE_TEST_MODEL_DIR, verified and loaded once per process.
const ModelFiles& sample_model_files();
std::shared_ptr<const LoadedModels> sample_models();

}  // namespace facepipe::test
