// lock.h — the lock that serialises everything that rewrites the dataset or the
// artifacts: `facepipe enroll` takes it with flock(2), scripts/retrain.sh and
// scripts/sync.sh with flock(1) on the same file, so an enrol during a cron
// retrain waits instead of racing it.
//
// The lock file is never deleted: removing a lock file while another process
// waits on it would let two holders lock two different files.
#pragma once
#include <filesystem>
#include <functional>
#include <string>

namespace facepipe {

// The lock file that guards the artifacts at `model_path`: "facepipe.lock" in
// the same folder (scripts/retrain.sh derives the same path; FACEPIPE_LOCK
// overrides both).
std::filesystem::path default_lock_path(const std::filesystem::path& model_path);

class FileLock {
public:
    // FileLock(path, wait, on_busy)
    //   ensures: the calling process holds an exclusive flock(2) on `path`
    //            (created, mode 0600, when missing) until this object dies.
    //            When the lock is busy, calls on_busy (if set) once, then blocks
    //            until it is free when `wait`, else throws
    //            Error(path, "locked by another facepipe run").
    //   throws:  Error(path, cause) when the file cannot be opened or locked.
    FileLock(const std::filesystem::path& path, bool wait, const std::function<void()>& on_busy = {});
    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
    int fd_ = -1;
};

}  // namespace facepipe
