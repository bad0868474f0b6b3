// models.h — finding, verifying and describing the model files facepipe runs on.
//
// Two files make a descriptor:
//   - shape_predictor_68_face_landmarks.dat: dlib's 68-point landmark model,
//     shipped by Debian's libdlib-data in /usr/share/dlib/;
//   - dlib_face_recognition_resnet_model_v1.dat: dlib's face ResNet. Either the
//     official file (a user with internet drops it into the models folder) or the
//     one `facepipe models import` converts from npm's @vladmandic/face-api.
// Descriptors from different model files must never be mixed, so every artifact
// records model_id(), which names both files by checksum.
//
// A third, optional file finds faces with a CNN instead of dlib's HOG:
//   - ssd_mobilenetv1_face.fpm (ssd_model.h): face-api's SSD MobileNet v1,
//     converted by `facepipe models import` into the models folder.
// It is not part of model_id() (which must not change for existing users); a
// caller that records the detector records ssd_id() beside it.
#pragma once
#include <filesystem>
#include <string>

namespace facepipe {

inline constexpr const char* kRecognitionModelFile = "dlib_face_recognition_resnet_model_v1.dat";
inline constexpr const char* kLandmarkModelFile = "shape_predictor_68_face_landmarks.dat";
inline constexpr const char* kSystemLandmarkPath = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat";
// Written by the importer beside the converted model: where it came from and checksums.
inline constexpr const char* kProvenanceSuffix = ".provenance.json";

// The folder facepipe reads models from, first match wins:
//   1. `flag_value` (--models DIR), when not empty;
//   2. $FACEPIPE_MODELS;
//   3. <dir of the running binary>/../share/facepipe/models (after `cmake --install`);
//   4. <build tree>/models (where scripts/setup.sh puts them).
// Ensures: an absolute path; it may not exist (locate_models says so).
std::filesystem::path models_dir(const std::string& flag_value = "");

struct ModelFiles {
    std::filesystem::path recognition;   // the ResNet .dat
    std::filesystem::path landmarks;     // the 68-point shape predictor .dat
    std::filesystem::path landmark_cache;  // its cache in the models folder (landmark_cache.h); may not exist
    std::string recognition_sha256;
    std::string landmarks_sha256;
    std::string origin;                  // "converted from npm @vladmandic/face-api@1.7.15" or "unrecorded (e.g. the official dlib file)"
    std::filesystem::path ssd;           // the SSD detector (dir/kSsdModelFile); may not exist (verify_ssd_model says so)
    std::string ssd_sha256;              // set by verify_ssd_model
    std::string ssd_origin;              // set by verify_ssd_model, as origin

    // "resnet:<12 hex>/landmarks:<12 hex>": stored in every encodings/model file.
    std::string model_id() const;
    // "ssd:<12 hex>" of the verified SSD file (requires verify_ssd_model).
    std::string ssd_id() const;
};

// Finds both model files for `dir` (landmarks: dir first, then /usr/share/dlib),
// and names the landmark cache's place (dir/kLandmarkCacheFile, present or not);
// cheap, no checksums yet. Throws ModelError naming a missing file and what to
// run to fix it (`facepipe models import`).
ModelFiles find_models(const std::filesystem::path& dir);

// Fills in the checksums (reading the files in full; a landmarks_sha256 already
// set, e.g. by the landmark cache's check, is kept) and, when a provenance file
// sits beside the recognition model, checks the recorded output checksum.
// Throws ModelError naming the unreadable or mismatching file.
void verify_models(ModelFiles& files);

// Fills in the checksums and origin as recorded, reading no model file in full:
// the recognition model's from its provenance file, the landmark model's from the
// landmark cache's record (landmark_cache.h recorded_landmark_sha256), the SSD
// detector's from its provenance file, when there is one. A checksum
// that nothing records is left empty. Verifies nothing (verify_models does): for
// `facepipe --version`, which must answer at once, never for computing.
// Throws ModelError when the provenance file is unreadable.
void recall_checksums(ModelFiles& files);

// For the SSD detector only, when it is asked for: checks files.ssd exists
// (else ModelError naming it: "run `facepipe models import`"), fills ssd_sha256
// and checks it against the provenance file beside it (ssd_origin), as
// verify_models does for the ResNet. Reads the file in full.
void verify_ssd_model(ModelFiles& files);

// find_models + verify_models.
ModelFiles locate_models(const std::filesystem::path& dir);

}  // namespace facepipe
