// faces.h — real faces for in-process tests of the face pipeline: portraits cut
// from npm's @vladmandic/face-api sample photos (testutil.h npm_samples(); a test
// that uses them starts with SKIP_IF(npm_samples_missing())), and the face models
// under test, loaded once per test process.
#pragma once
#include <filesystem>
#include <memory>
#include <opencv2/core.hpp>
#include <string>

#include "classifier.h"
#include "enroll.h"
#include "models.h"
#include "recognizer.h"

namespace facepipe::test {

// A face with half a face of margin on every side, as scripts/make_demo_dataset.sh
// cuts it: "sample1-a", "sample1-b", "sample1-c", "sample2-a", "sample3-a",
// "sample3-b", "sample3-c" (the demo's enrolled people), or "stranger" (a face
// from sample4.jpg, whom the demo never enrols). Its face is the middle half.
cv::Mat portrait(const std::string& name);

// Writes `image` to `path` (the extension picks the format); REQUIREs success.
void write_image(const std::filesystem::path& path, const cv::Mat& image);

// A 320x240 picture with no face in it (a smooth gradient).
cv::Mat faceless_picture();

// Two faces on one wide canvas: sample1-a, the largest, at the left edge, and
// sample1-c, smaller, nearest the centre.
cv::Mat two_faces();

// `image` mirrored left to right: another photo of the same face.
cv::Mat mirrored(const cv::Mat& image);

// `image` encoded as ".jpg" or ".png" bytes; REQUIREs success.
std::string image_bytes(const cv::Mat& image, const std::string& ext = ".jpg");

// Options for enroll and people.h that keep everything under `dir`: dataset/,
// encodings.bin, model.bin, labels.bin (and so the lock); `copies` augmented
// copies per photo, two encode threads.
EnrollOptions enroll_options_in(const std::filesystem::path& dir, int copies = 1);

// A classifier of two made-up people, alice and bob (no face is ever near
// them), tagged with `model_id`: enough for tests that never reach a face.
std::shared_ptr<const Classifier> made_up_classifier(const std::string& model_id);

// The models in FACEPIPE_TEST_MODEL_DIR (scripts/setup.sh --tests makes them),
// verified; and loaded, once per process.
const ModelFiles& test_model_files();
std::shared_ptr<const LoadedModels> test_models();

}  // namespace facepipe::test
