// ssd_model.h — the converted SSD MobileNet v1 face detector file
// (build/models/ssd_mobilenetv1_face.fpm), written by `facepipe models import`
// (model_import.h) and read by SsdFaceDetector (ssd_detector.h).
//
// A facepipe container (container.h), magic "FPSSDMV1", version 1, 0644 (no
// biometric data). Payload: a count of tensors, then for each: its name
// (face-api's TF name, e.g. "MobilenetV1/Conv2d_1_depthwise/depthwise_weights"),
// a count of dimensions, each dimension (u32, TF.js layout: filters
// [rows][cols][in][out], depthwise [rows][cols][channels][1]) and the values
// (f32, row-major), dequantized from face-api's uint8 weights.
// The tensors are exactly those of ssd_tensor_specs(), in that order: every
// parameter of the network (conv filters and biases, depthwise batch norm) and
// the 5118 anchors ("Output/extra_dim", [1][5118][4]: ymin, xmin, ymax, xmax).
#pragma once
#include <string>
#include <vector>

#include "tfjs_weights.h"

namespace facepipe {

inline constexpr const char* kSsdModelFile = "ssd_mobilenetv1_face.fpm";
inline constexpr const char kSsdModelMagic[] = "FPSSDMV1";
inline constexpr unsigned kSsdModelVersion = 1;

struct TensorSpec {
    std::string name;
    std::vector<long> shape;
};

// The tensors of the network, in the file's order (mobilenet, prediction, anchors).
const std::vector<TensorSpec>& ssd_tensor_specs();

// requires: tensors hold every ssd_tensor_specs() name with its shape (others
//           are ignored: face-api's manifest also holds int32 graph constants).
// ensures:  the container's bytes (header + payload); throws Error(subject, ...)
//           naming the first missing or misshapen tensor.
std::string ssd_model_bytes(const std::vector<Tensor>& tensors, const std::string& subject);

// Parses a payload (the container already checked). Throws Error(subject,
// "corrupted: ...") unless it holds exactly ssd_tensor_specs(), in order, with
// their shapes, and every value finite. Any bytes are acceptable input.
std::vector<Tensor> parse_ssd_payload(const std::string& payload, const std::string& subject);

// read_container + parse_ssd_payload. Throws ModelError(path, cause): a missing
// file's cause says to run `facepipe models import`.
std::vector<Tensor> read_ssd_model(const std::string& path);

}  // namespace facepipe
