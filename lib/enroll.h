// enroll.h — `facepipe enroll NAME PHOTO...`: add a person, or more photos of a
// person, and bring the model up to date in one step.
//
//   check the name -> take the lock (lock.h) -> refuse photos that do not decode
//   or do not show exactly one face -> copy the rest into dataset/NAME/ ->
//   augment -> encode (incremental) -> train -> save model.bin + labels.bin
//
// The lock is the one scripts/retrain.sh takes, so an enrol during a cron
// retrain waits for it instead of racing it.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "augment.h"
#include "classifier.h"
#include "train.h"
#include "encode.h"
#include "image.h"
#include "models.h"
#include "recognizer.h"

namespace facepipe {

struct EnrollOptions {
    std::filesystem::path dataset = "dataset";
    std::filesystem::path encodings = "encodings.bin";
    std::filesystem::path model = "model.bin";
    std::filesystem::path labels = "labels.bin";
    std::filesystem::path lock;  // "" = default_lock_path(model)
    AugmentOptions augment;      // use the settings the dataset was augmented with
    AnalyzerOptions analyzer;    // encode's too, so a photo accepted here encodes with a face
    ImageLimits limits;
    TrainOptions train;
    int threads = 0;             // encode's worker threads, 0 = all cores
};

struct EnrollReport {
    std::string person;                  // the folder (and label) the photos went to
    bool new_person = false;             // the folder did not exist before
    std::vector<std::string> added;      // dataset-relative paths of the copied photos
    std::vector<std::string> duplicates; // "<photo>: same photo as <rel path or photo>, skipped"
    std::vector<std::string> refused;    // "<photo>: <why>", one line each
    bool retrained = false;              // augment, encode and train ran
    int encodings_before = 0, encodings_after = 0;  // records with a descriptor
    int people_before = 0, people_after = 0;        // labels in the model
    std::string training_id;             // of the new model, when retrained
    AugmentSummary augment;
    EncodeSummary encode;
    TrainReport train;
};

// enroll_name(name)
//   ensures: normalise_person_name(name) (dataset.h): the NFC form of a safe name.
//   throws:  UsageError("person name '<name>'", <why>) for an unsafe one, e.g.
//            "contains a path separator", "starts with '.' (hidden)".
std::string enroll_name(std::string_view name);

// enroll(name, photos, options, models)
//   requires: name passes enroll_name; models found (find_models).
//   ensures:  under the lock (waiting for it, with an info log, when busy):
//             each photo that decodes (image.h) and shows exactly one face
//             (FaceAnalyzer, options.analyzer) is copied into
//             <dataset>/<person>/ (mode 0600, atomically) under its own file name,
//             or "photo-<sha12>.<ext>" when that name is hidden, not printable or
//             not an image extension, with "-<sha8>" added when the name is taken.
//             <person> is the existing folder whose NFC form equals the name, else
//             the NFC name. A photo whose bytes are already in that folder is a
//             duplicate, not copied again. Refused photos are listed with why; the
//             rest of the batch goes on. Unless every photo was refused, it then
//             runs augment_dataset, encode_dataset and train on the whole dataset
//             and saves the model (model_file.h save_model), so the model always
//             matches the dataset when it returns.
//   throws:   UsageError for a bad name (enroll_name), before anything else;
//             Error for a lock, dataset or artifact that cannot be
//             used (e.g. a corrupt encodings.bin), or no usable encodings;
//             ModelError when the face models are missing or corrupt.
EnrollReport enroll(std::string_view name, const std::vector<std::filesystem::path>& photos,
                    const EnrollOptions& options, const ModelFiles& models);

// What changed, for people: photos added, encodings and people before -> after.
std::string format_enroll_report(const EnrollReport& r, const EnrollOptions& options);

}  // namespace facepipe
