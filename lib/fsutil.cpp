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

void write_all(int fd, const std::string& bytes, const std::string& path) {
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw Error(path, "write failed: " + errno_text());
        }
        done += static_cast<size_t>(n);
    }
}

std::string temp_name_for(const std::string& path) {
    std::random_device rd;
    return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
}

}  // namespace

void write_file_atomic(const std::string& path, const std::string& bytes, unsigned mode) {
    const std::string tmp = temp_name_for(path);
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) throw Error(path, "cannot create temporary file: " + errno_text());
    try {
        write_all(fd, bytes, path);
        if (::fchmod(fd, mode) != 0) throw Error(path, "chmod failed: " + errno_text());
        if (::fsync(fd) != 0) throw Error(path, "fsync failed: " + errno_text());
        if (::close(fd) != 0) throw Error(path, "close failed: " + errno_text());
    } catch (...) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string cause = errno_text();
        ::unlink(tmp.c_str());
        throw Error(path, "rename failed: " + cause);
    }
    // Persist the rename itself; a failure here is not worth failing the write.
    fs::path dir = fs::path(path).parent_path();
    const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
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
