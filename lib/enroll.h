// enroll.h — `facepipe enroll NAME PHOTO...`: add a person, or more photos of a
// person, and bring the model up to date in one step.
//
//   check the name -> take the lock (lock.h) -> refuse photos that do not decode
//   or do not show exactly one face -> copy the rest into dataset/NAME/ ->
//   augment -> encode (incremental) -> train -> save model.bin + labels.bin
//
// The lock is the one scripts/retrain.sh takes, so an enrol during a cron
// retrain waits for it instead of racing it. If any step after the copy fails,
// the enrolment is undone (rollback.h): all or nothing.
#pragma once
#include <filesystem>
#include <functional>
#include <memory>
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

// Progress of a retrain: `stage` is "augment", "encode", "train" or "save", in
// that order, and `fraction` how much of it is done, from 0 to 1 (each stage
// reports 0 when it starts and 1 when it ends).
using StageProgress = std::function<void(std::string_view stage, double fraction)>;

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
    // Optional. Called on the calling thread or (during "augment") on one of
    // augment's workers, never two at once. It may throw to cancel: the
    // exception is rethrown when the stage ends (or at once, in train and
    // save), and the change is undone as for any other failure.
    StageProgress progress;
};

// A photo already in memory: its name (for messages and the stored file's
// name; only its last path component is ever used) and its encoded bytes.
struct Photo {
    std::string name;
    std::string bytes;
};

// What enroll decided for one photo.
struct PhotoVerdict {
    enum class Kind { accepted, duplicate, not_an_image, no_face, several_faces, too_large, unreadable };
    std::string photo;   // the photo's name, as given
    Kind kind = Kind::accepted;
    // Why, for people: what follows "<photo>: " in the CLI's line ("" when
    // accepted), e.g. "no face found", "same photo as alice/a.jpg, skipped",
    // "not a usable image: truncated JPEG".
    std::string detail;
    // The file name under <dataset>/<person>/ (PhotoInfo::id, people.h): where an
    // accepted photo was stored, or the stored photo a duplicate repeats ("" when
    // it repeats a photo of this batch that was not stored).
    std::string id;
    bool refused() const { return kind != Kind::accepted && kind != Kind::duplicate; }
    std::string line() const { return photo + ": " + detail; }  // the CLI's log line
};
// "accepted", "duplicate", "not_an_image", "no_face", "several_faces", "too_large", "unreadable".
const char* to_string(PhotoVerdict::Kind k);

// What a retrain of the whole dataset did (enroll, and people.h's removals).
struct RetrainReport {
    bool retrained = false;              // augment, encode and train ran and the model was saved
    int encodings_before = 0, encodings_after = 0;  // records with a descriptor
    int people_before = 0, people_after = 0;        // labels in the model
    std::string training_id;             // of the new model, when retrained
    AugmentSummary augment;
    EncodeSummary encode;
    TrainReport train;
};

struct EnrollReport : RetrainReport {
    std::string person;                  // the folder (and label) the photos went to
    bool new_person = false;             // the folder did not exist before
    std::vector<std::string> added;      // dataset-relative paths of the copied photos
    std::vector<PhotoVerdict> verdicts;  // one per photo, in the order given
    // Derived from `verdicts`, one line each (PhotoVerdict::line), in order:
    std::vector<std::string> duplicates; // "<photo>: same photo as <rel path or photo>, skipped"
    std::vector<std::string> refused;    // "<photo>: <why>"
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
//             <dataset>/<person>/ (mode 0600, atomically) under its own file name
//             (the last component of Photo::name),
//             or "photo-<sha12>.<ext>" when that name is hidden, not printable,
//             holds a backslash, is over 128 bytes or has no image extension,
//             with "-<sha8>" added when the name is taken.
//             <person> is the existing folder whose NFC form equals the name, else
//             the NFC name. A photo whose bytes are already in that folder is a
//             duplicate, not copied again. Every photo gets its verdict; refused
//             ones do not stop the batch. Unless every photo was refused, it then
//             runs retrain_dataset, so the model always matches the dataset when
//             it returns.
//             A failed or cancelled enrolment changes nothing (rollback.h): when
//             anything throws once photos are being copied, they and the augmented
//             copies made since are removed, and encodings.bin (with its journal),
//             model.bin and labels.bin are put back as they were.
//   throws:   UsageError for a bad name (enroll_name), before anything else;
//             Error for a lock, dataset or artifact that cannot be
//             used (e.g. a corrupt encodings.bin), or no usable encodings;
//             ModelError when the face models are missing or corrupt; whatever
//             options.progress throws.
// The models are loaded only when some photo decodes (ModelFiles), or shared
// with the caller (a server keeps them loaded).
EnrollReport enroll(std::string_view name, const std::vector<Photo>& photos, const EnrollOptions& options,
                    std::shared_ptr<const LoadedModels> models);
EnrollReport enroll(std::string_view name, const std::vector<Photo>& photos, const EnrollOptions& options,
                    const ModelFiles& models);
// The same for files: each is read (at most options.limits.max_file_bytes) and
// named by its path; one that cannot be read is refused as unreadable (too_large
// when over the limit).
EnrollReport enroll(std::string_view name, const std::vector<std::filesystem::path>& photos,
                    const EnrollOptions& options, const ModelFiles& models);

class FileLock;
class Rollback;

// The lock (lock.h) that guards options' dataset and artifacts, held until the
// result dies: options.lock, else default_lock_path(options.model). Waits for
// it, with an info log, when another run holds it.
std::unique_ptr<FileLock> lock_dataset(const EnrollOptions& options);

// A Rollback (rollback.h) of options' dataset and of encodings.bin (with its
// journal), model.bin and labels.bin. requires: lock_dataset held.
std::unique_ptr<Rollback> rollback_for(const EnrollOptions& options);

// retrain_dataset(options, models, report)
//   requires: the caller holds the lock (lock.h) for options.model.
//   ensures:  augment_dataset, encode_dataset and train on the whole dataset,
//             then save_model: the model matches the dataset. report's fields
//             are filled as each stage ends; options.progress is called.
//   throws:   what the stages throw (e.g. Error("encodings", "no usable
//             encodings ...")); the caller undoes (rollback_for).
void retrain_dataset(const EnrollOptions& options, std::shared_ptr<const LoadedModels> models,
                     RetrainReport& report);

// What changed, for people: photos added, encodings and people before -> after.
std::string format_enroll_report(const EnrollReport& r, const EnrollOptions& options);

}  // namespace facepipe
