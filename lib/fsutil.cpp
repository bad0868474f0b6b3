#include "fsutil.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <utility>

#include "error.h"

namespace facepipe {
namespace fs = std::filesystem;
namespace {

std::string errno_text() { return std::strerror(errno); }

std::string temp_name_for(const std::string& path) {
    std::random_device rd;
    return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
}

std::string folder_of(const std::string& path) {
    const fs::path dir = fs::path(path).parent_path();
    return dir.empty() ? "." : dir.string();
}

// Writes `bytes` to a new temporary file beside `path` and returns its name.
// On failure: the temporary is removed and Error(path, cause) thrown.
std::string write_temporary(const std::string& path, std::string_view bytes, unsigned mode) {
    const std::string tmp = temp_name_for(path);
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        const int err = errno;
        if (err == EACCES || err == EPERM || err == EROFS)
            throw Error(path, "cannot create a file in folder " + folder_of(path) + ": " + std::strerror(err));
        throw Error(path, "cannot create temporary file: " + write_error_text(err));
    }
    try {
        write_all(fd, bytes, path);
        if (::fchmod(fd, mode) != 0) throw Error(path, "chmod failed: " + errno_text());
        // A file system may only find out at fsync or close that the space is gone.
        if (::fsync(fd) != 0) throw Error(path, "write failed: " + write_error_text(errno));
    } catch (const Error&) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    if (::close(fd) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw Error(path, "write failed: " + write_error_text(err));
    }
    return tmp;
}

void rename_into_place(const std::string& tmp, const std::string& path) {
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string cause = errno_text();
        ::unlink(tmp.c_str());
        throw Error(path, "rename failed: " + cause);
    }
}

// Persist the renames themselves; a failure here is not worth failing the write.
void sync_folder(const std::string& path) {
    const int dfd = ::open(folder_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

}  // namespace

void write_all(int fd, std::string_view bytes, const std::string& path) {
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw Error(path, "write failed: " + write_error_text(errno));
        }
        done += static_cast<size_t>(n);
    }
}

std::string write_error_text(int e) {
    const std::string text = std::strerror(e);
    switch (e) {
        case ENOSPC: return "the disk is full (" + text + ")";
        case EDQUOT: return "the disk quota is exhausted (" + text + ")";
        case EFBIG: return "the file is over the file-size limit (" + text + ")";
        default: return text;
    }
}

void write_file_atomic(const std::string& path, const std::string& bytes, unsigned mode) {
    write_files_atomic({FileToWrite{path, bytes, mode}});
}

void write_files_atomic(const std::vector<FileToWrite>& files) {
    std::vector<std::string> temps;
    try {
        for (const auto& f : files) temps.push_back(write_temporary(f.path, f.bytes, f.mode));
    } catch (...) {
        for (const auto& t : temps) ::unlink(t.c_str());
        throw;
    }
    for (std::size_t i = 0; i < files.size(); ++i) {
        try {
            rename_into_place(temps[i], files[i].path);
        } catch (...) {
            for (std::size_t j = i + 1; j < temps.size(); ++j) ::unlink(temps[j].c_str());
            throw;
        }
    }
    for (const auto& f : files) sync_folder(f.path);
}

namespace {

// The noun of a file type that is neither a regular file nor a folder.
const char* special_noun(mode_t mode, FileKind* kind) {
    switch (mode & S_IFMT) {
        case S_IFIFO: return *kind = FileKind::fifo, "FIFO";
        case S_IFSOCK: return *kind = FileKind::socket, "socket";
        case S_IFCHR: return *kind = FileKind::char_device, "character device";
        case S_IFBLK: return *kind = FileKind::block_device, "block device";
        default: return *kind = FileKind::other, "special file";
    }
}

std::string special_cause(mode_t mode, bool symlink, FileKind* kind) {
    return std::string(symlink ? "is a symlink to a " : "is a ") + special_noun(mode, kind) + ", not a regular file";
}

std::string link_target(const std::string& path) {
    char buf[4096];
    const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("?");
}

// Closes a descriptor on every way out of a scope, unless released.
struct FdGuard {
    int fd;
    ~FdGuard() {
        if (fd >= 0) ::close(fd);
    }
    int release() { return std::exchange(fd, -1); }
};

}  // namespace

PathInfo inspect_path(const std::string& path) {
    PathInfo info;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        const int err = errno;
        if (err == ENOENT || err == ENOTDIR) {
            info.kind = FileKind::missing, info.cause = "no such file or folder";
        } else if (err == ELOOP) {  // a symlink loop among the folders leading to it
            info.kind = FileKind::symlink_loop, info.cause = "is inside a symlink loop";
        } else {
            info.kind = FileKind::unreadable, info.cause = "cannot be reached: " + std::string(std::strerror(err));
        }
        return info;
    }
    info.symlink = S_ISLNK(st.st_mode);
    if (info.symlink && ::stat(path.c_str(), &st) != 0) {
        const int err = errno;
        if (err == ELOOP) info.kind = FileKind::symlink_loop, info.cause = "is a symlink loop";
        else if (err == ENOENT || err == ENOTDIR)
            info.kind = FileKind::dangling_symlink, info.cause = "is a dangling symlink (to " + link_target(path) + ")";
        else
            info.kind = FileKind::unreadable, info.cause = "is a symlink that cannot be followed: " + std::string(std::strerror(err));
        return info;
    }
    if (S_ISREG(st.st_mode)) {
        info.kind = FileKind::regular;
        if (::faccessat(AT_FDCWD, path.c_str(), R_OK, AT_EACCESS) != 0 && errno == EACCES)
            info.kind = FileKind::unreadable, info.cause = "cannot be read: " + std::string(std::strerror(EACCES));
    } else if (S_ISDIR(st.st_mode)) {
        info.kind = FileKind::folder;
        if (::faccessat(AT_FDCWD, path.c_str(), R_OK | X_OK, AT_EACCESS) != 0 && errno == EACCES) {
            info.kind = FileKind::unreadable, info.is_folder = true;
            info.cause = "is a folder that cannot be listed: " + std::string(std::strerror(EACCES));
        }
    } else {
        info.cause = special_cause(st.st_mode, info.symlink, &info.kind);
    }
    return info;
}

int open_regular_file(const std::string& path, std::uint64_t* size) {
    // Refuse what lstat/stat already show without opening it: opening a device
    // may have effects of its own (a tape rewinds, a modem line wakes up).
    const PathInfo info = inspect_path(path);
    if (info.kind == FileKind::folder || info.is_folder) throw Error(path, "is a directory, not a file");
    if (info.kind != FileKind::regular && info.kind != FileKind::missing && info.kind != FileKind::unreadable)
        throw Error(path, info.cause);
    FdGuard fd{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
    if (fd.fd < 0) throw Error(path, std::string("cannot open: ") + errno_text());
    struct stat st {};
    if (::fstat(fd.fd, &st) != 0) throw Error(path, std::string("cannot stat: ") + errno_text());
    // Swapped between the stat and the open: what was opened decides.
    if (S_ISDIR(st.st_mode)) throw Error(path, "is a directory, not a file");
    FileKind kind;
    if (!S_ISREG(st.st_mode)) throw Error(path, special_cause(st.st_mode, info.symlink, &kind));
    if (size) *size = static_cast<std::uint64_t>(st.st_size);
    return fd.release();
}

namespace {

// Reads `fd` to its end: `size` bytes are expected (fstat's), more are taken
// while the total stays within max_bytes, else LimitError.
std::string read_to_end(int fd, const std::string& path, std::uint64_t size, std::uint64_t max_bytes) {
    auto too_large = [&](std::uint64_t n) {
        return LimitError(path, "file is too large (" + std::to_string(n) + " bytes, limit " +
                                    std::to_string(max_bytes) + ")");
    };
    if (size > max_bytes) throw too_large(size);
    std::string bytes(static_cast<size_t>(size), '\0');
    size_t done = 0;
    for (;;) {
        if (done == bytes.size()) {  // the size fstat gave is reached: the file may have grown
            if (bytes.size() > max_bytes) throw too_large(bytes.size());
            bytes.resize(bytes.size() + std::min<std::uint64_t>(1 << 16, max_bytes + 1 - bytes.size()));
        }
        const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw Error(path, std::string("read error: ") + errno_text());
        }
        if (n == 0) break;
        done += static_cast<size_t>(n);
    }
    if (done > max_bytes) throw too_large(done);
    bytes.resize(done);
    return bytes;
}

}  // namespace

std::string read_file(const std::string& path, std::uint64_t max_bytes) {
    std::uint64_t size = 0;
    FdGuard fd{open_regular_file(path, &size)};
    return read_to_end(fd.fd, path, size, max_bytes);
}

std::string read_file_or_pipe(const std::string& path, std::uint64_t max_bytes) {
    if (inspect_path(path).kind != FileKind::fifo) return read_file(path, max_bytes);
    // Blocking on purpose: the user named this pipe, and its writer is theirs.
    FdGuard fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (fd.fd < 0) throw Error(path, std::string("cannot open: ") + errno_text());
    struct stat st {};
    if (::fstat(fd.fd, &st) != 0) throw Error(path, std::string("cannot stat: ") + errno_text());
    FileKind kind;
    if (!S_ISFIFO(st.st_mode) && !S_ISREG(st.st_mode)) throw Error(path, special_cause(st.st_mode, false, &kind));
    return read_to_end(fd.fd, path, 0, max_bytes);
}

fs::path running_binary_dir() {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path() : exe.parent_path();
}

}  // namespace facepipe
