#include "lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.h"

namespace facepipe {

std::filesystem::path default_lock_path(const std::filesystem::path& model_path) {
    return model_path.parent_path() / "facepipe.lock";
}

FileLock::FileLock(const std::filesystem::path& path, bool wait, const std::function<void()>& on_busy)
    : path_(path) {
    // O_CLOEXEC: the programs we run must not inherit (and so prolong) our lock.
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw Error(path.string(), std::string("cannot open lock file: ") + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
    const int first = errno;
    if (first == EWOULDBLOCK && on_busy) on_busy();
    if (first == EWOULDBLOCK && wait) {
        int rc;
        while ((rc = ::flock(fd_, LOCK_EX)) != 0 && errno == EINTR) {}
        if (rc == 0) return;
    }
    const int err = errno;
    ::close(fd_);
    if (first == EWOULDBLOCK && !wait) throw Error(path.string(), "locked by another facepipe run");
    throw Error(path.string(), std::string("cannot lock: ") + std::strerror(err));
}

FileLock::~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the lock
}

}  // namespace facepipe
