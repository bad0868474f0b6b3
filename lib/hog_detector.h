// hog_detector.h — dlib's HOG frontal face detector, loaded in milliseconds.
//
// dlib::get_frontal_face_detector() rebuilds the detector from a compressed
// string at every call: about a third of a second of CPU, which a one-shot
// `predict` paid before anything else. The build serialises that same detector
// (cmake/make_hog_detector.cpp, from this build's dlib headers) into the binary;
// this deserialises it once per process. tests/test_landmark_cache.cpp checks it
// is byte for byte dlib's. detect.h's FaceDetector copies it.
#pragma once
#include <dlib/image_processing/frontal_face_detector.h>

namespace facepipe {

// Ensures: the detector get_frontal_face_detector() returns. Thread-safe.
const dlib::frontal_face_detector& frontal_face_detector();

}  // namespace facepipe
