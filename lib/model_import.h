// model_import.h — converts face-api's TF.js port of dlib's face ResNet into
// dlib's own serialized format, and face-api's SSD MobileNet v1 face detector
// into a facepipe file (ssd_model.h).
//
// @vladmandic/face-api ships dlib's ResNet-29 as TF.js weights: a JSON manifest
// plus one binary of 117 tensors (29 conv+scale layers and the final fc), most
// uint8-quantized. import_face_api_model() dequantizes them (q*scale + min),
// reorders them into dlib's layouts and serializes a net of dlib's own
// `anet_type` (lib/face_net.h). The result loads with `deserialize(file) >> net`
// exactly like dlib_face_recognition_resnet_model_v1.dat.
//
// Layout facts the conversion depends on (all checked by the importer):
//   - face-api order, input to output: conv32_down; conv32_1..3; conv64_down;
//     conv64_1..3; conv128_down; conv128_1..2; conv256_down; conv256_1..2;
//     conv256_down_out; each block conv1 then conv2; then fc.
//   - TF.js filters are [rows][cols][in][out]; dlib con_ params are
//     [out][in][rows][cols] followed by the biases; both cross-correlate.
//   - face-api's scale layer is dlib's affine_ in CONV_MODE (gamma, beta per channel).
//   - fc is [256][128] in both, no transpose.
#pragma once
#include <filesystem>
#include <string>

namespace facepipe {

// The npm package and the checksums of the two input files we converted and tested.
inline constexpr const char* kFaceApiPackage = "@vladmandic/face-api@1.7.15";
inline constexpr const char* kFaceApiManifestSha256 =
    "cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b";
inline constexpr const char* kFaceApiWeightsSha256 =
    "b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589";

// The SSD MobileNet v1 detector's two input files, as tested (same package).
inline constexpr const char* kFaceApiSsdManifestSha256 =
    "888f744dffbc84f5f060d1f8427d9742341943a2dfaaf9205d10029b7e7a2955";
inline constexpr const char* kFaceApiSsdWeightsSha256 =
    "2835640602d53718aa6ae9a42896327eaa21beefed056c218d32ca7d79e1e2f8";

struct ImportResult {
    std::filesystem::path output;      // the .dat written
    std::filesystem::path provenance;  // the .provenance.json written beside it
    std::string output_sha256;
    int tensors = 0;                   // tensors read from the manifest (117; SSD: 151, 147 kept)
};

// Requires: face_api_model_dir holds face_recognition_model-weights_manifest.json
// and face_recognition_model.bin. Unless allow_unknown_inputs, their checksums
// must be the pinned ones above (another face-api version may change layouts).
// Ensures: output_dir/dlib_face_recognition_resnet_model_v1.dat and its
// provenance file are written atomically; the written file is re-loaded and its
// forward pass compared with the in-memory net before returning.
// Throws Error naming the offending file on any mismatch.
ImportResult import_face_api_model(const std::filesystem::path& face_api_model_dir,
                                   const std::filesystem::path& output_dir,
                                   bool allow_unknown_inputs = false);

// Requires: face_api_model_dir holds ssd_mobilenetv1_model-weights_manifest.json
// and ssd_mobilenetv1_model.bin, with the pinned checksums above unless
// allow_unknown_inputs. Ensures: output_dir/kSsdModelFile (ssd_model.h) and its
// provenance file are written atomically (0644); the written file is re-read and
// its network run once on a probe image before returning.
// Throws Error naming the offending file on any mismatch.
ImportResult import_face_api_ssd_model(const std::filesystem::path& face_api_model_dir,
                                       const std::filesystem::path& output_dir,
                                       bool allow_unknown_inputs = false);

}  // namespace facepipe
