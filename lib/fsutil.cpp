#include "fsutil.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "error.h"

namespace facepipe {
namespace fs = std::filesystem;
namespace {

std::string errno_text() { return std::strerror(errno); }

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

std::string read_file(const std::string& path, std::uint64_t max_bytes) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) throw Error(path, "is a directory, not a file");
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw Error(path, std::string("cannot open: ") + errno_text());
    const std::streamoff size = in.tellg();
    if (size < 0) throw Error(path, "cannot determine file size");
    if (static_cast<std::uint64_t>(size) > max_bytes)
        throw LimitError(path, "file is too large (" + std::to_string(size) + " bytes, limit " +
                              std::to_string(max_bytes) + ")");
    std::string bytes(static_cast<size_t>(size), '\0');
    in.seekg(0);
    if (size > 0 && !in.read(bytes.data(), size)) throw Error(path, "read error");
    return bytes;
}

}  // namespace facepipe
