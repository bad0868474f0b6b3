// rollback.h — undoing a change to the dataset and its artifacts that failed
// half-way, so that a failed or cancelled enroll (enroll.h) or removal
// (people.h) changes nothing.
//
// Made under the lock (lock.h), before the change touches anything, a Rollback
// remembers:
//   - each artifact as it was (encodings.bin, model.bin, labels.bin: files that
//     are only ever replaced by a rename, so a hard link "<file>.undo" beside
//     each keeps the old one at no cost; encode's journal, which is rewritten in
//     place, is copied instead);
//   - which augmented copies exist (<person>/augmented/*), so that the ones the
//     change's augment makes can be told apart;
//   - the files and folders the change says it adds (added, added_folder);
//   - what the change takes out of the dataset (move_aside): renamed into a
//     hidden folder of the dataset ("<dataset>/.facepipe-undo-*", ignored by
//     every dataset walk, on the same file system), not deleted.
// commit() keeps the change: what was moved aside is deleted, the snapshots
// dropped. Without it, the destructor undoes: the added files, folders and new
// augmented copies are removed, what was moved aside is put back, and each
// artifact is renamed back (or removed, when it did not exist before).
//
// Limits: augment's pruning of stale copies (of an original changed since they
// were made) is not undone: those copies are derived, and any augment run
// removes them. A process killed mid-change cannot undo: it may leave
// "<file>.undo" links and an undo folder behind; the next Rollback under the
// same lock deletes them (a removal killed mid-way is thereby completed).
#pragma once
#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace facepipe {

class Rollback {
public:
    // requires: the caller holds the lock for `dataset` and `artifacts`;
    //           `dataset` exists. `artifacts` are replaced only by rename;
    //           `rewritten` (encode's journal) may be rewritten in place.
    // throws:   Error(path, cause) when a snapshot cannot be made (nothing
    //           has changed then).
    Rollback(std::filesystem::path dataset, const std::vector<std::filesystem::path>& artifacts,
             const std::vector<std::filesystem::path>& rewritten);
    ~Rollback();  // undoes unless committed; never throws (logs what it cannot undo)
    Rollback(const Rollback&) = delete;
    Rollback& operator=(const Rollback&) = delete;

    // A file the change is about to create (removed when undoing).
    void added(const std::filesystem::path& file);
    // A folder the change is about to create (removed when undoing, if then empty).
    void added_folder(const std::filesystem::path& folder);
    // Takes `entry` (a file or folder inside the dataset) out of the dataset now,
    // restorably. Throws Error(entry, cause) when it cannot be moved.
    void move_aside(const std::filesystem::path& entry);

    // The change is complete: keep it.
    void commit();

private:
    struct Snapshot {
        std::filesystem::path file, undo;
        bool existed = false, copied = false;
        std::string bytes;  // a rewritten file's contents
    };
    void undo() noexcept;
    std::filesystem::path undo_folder();
    std::set<std::string> augmented_copies() const;

    std::filesystem::path dataset_;
    std::vector<Snapshot> snapshots_;
    std::set<std::string> augmented_before_;             // dataset-relative paths
    std::vector<std::filesystem::path> added_, added_folders_;
    std::filesystem::path undo_folder_;                  // "" until something is moved aside
    std::vector<std::pair<std::filesystem::path, std::filesystem::path>> moved_;  // from, to
    bool committed_ = false;
};

}  // namespace facepipe
