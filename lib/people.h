// people.h — the people of a dataset: who is enrolled with which photos, and
// taking a photo or a person out (which retrains, as enroll does).
//
// A photo is identified by its id: its file name inside <dataset>/<person>/
// (originals only; the augmented copies in <person>/augmented/ follow their
// original). Names and ids are checked as enroll checks names (enroll_name):
// an unsafe one is a UsageError, one that is safe but absent a NotFoundError
// (error.h), before anything is touched.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "enroll.h"

namespace facepipe {

struct PhotoInfo {
    std::string id;            // the file name inside <dataset>/<person>/
    std::string path;          // <dataset>/<person>/<id>
    std::uintmax_t bytes = 0;  // the file's size
};

struct PersonInfo {
    std::string name;               // the folder name, which is the label
    std::vector<PhotoInfo> photos;  // sorted by id (byte order)
};

// list_people(dataset)
//   ensures: the people with at least one original photo, sorted by name, as
//            scan_dataset (dataset.h) sees them: unsafe folders, hidden entries
//            and non-image files are skipped (its warnings are logged at debug
//            level). Empty when the dataset folder does not exist yet.
//   throws:  nothing for a missing dataset; Error when it cannot be listed.
std::vector<PersonInfo> list_people(const std::filesystem::path& dataset);

// person_folder(dataset, name)
//   requires: name is an NFC name (enroll_name).
//   ensures:  the folder of <dataset> that holds this person: `name` when it
//             exists, else an existing folder whose NFC form is `name` (a
//             dataset copied from macOS has NFD names); "" when there is none.
std::string person_folder(const std::filesystem::path& dataset, const std::string& name);

// find_photo(dataset, person, photo_id)
//   ensures: the photo <dataset>/<person's folder>/<photo_id>, an original
//            (a regular file with an image extension; not a symbolic link).
//   throws:  UsageError("person name '<person>'", ...) for an unsafe name;
//            UsageError("photo id '<id>'", why) for an unsafe id (empty, a path
//            separator, hidden, control characters, not printable, no image
//            extension, over 255 bytes); NotFoundError("person '<person>'",
//            "not in the dataset") or NotFoundError("photo '<id>'", "not a photo
//            of <person>") when absent.
PhotoInfo find_photo(const std::filesystem::path& dataset, std::string_view person, std::string_view photo_id);

struct RemoveReport : RetrainReport {
    std::string person;                  // the person's folder
    std::vector<std::string> removed;    // dataset-relative paths of the originals removed
    int augmented_removed = 0;           // their augmented copies removed
    bool person_removed = false;         // the person's folder is gone (and the label from the model)
};

// remove_photo(person, photo_id, options, models)
// remove_person(person, options, models)
//   ensures:  under enroll's lock (waiting for it): the photo (with its
//             augmented copies), or the person's whole folder, is taken out of
//             the dataset, then retrain_dataset (enroll.h) brings encodings.bin
//             and the model up to date: the model no longer knows the photo or
//             the person. Removing a person's last photo removes the person.
//             On any failure (or an exception from options.progress), the
//             dataset and the artifacts are put back as they were (rollback.h).
//   throws:   UsageError / NotFoundError as find_photo, before anything is
//             touched; UsageError("person '<p>'" or "photo '<id>'", "... the last
//             photo in the dataset ...") when nothing would be left to train a
//             model on (a model needs at least one person: remove the dataset and
//             the model files by hand to start over); otherwise what
//             retrain_dataset throws (after undoing).
RemoveReport remove_photo(std::string_view person, std::string_view photo_id, const EnrollOptions& options,
                          std::shared_ptr<const LoadedModels> models);
RemoveReport remove_photo(std::string_view person, std::string_view photo_id, const EnrollOptions& options,
                          const ModelFiles& models);
RemoveReport remove_person(std::string_view person, const EnrollOptions& options,
                           std::shared_ptr<const LoadedModels> models);
RemoveReport remove_person(std::string_view person, const EnrollOptions& options, const ModelFiles& models);

}  // namespace facepipe
