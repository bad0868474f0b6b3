// walk_kinds.h — a folder's worth of entries that are not readable files, one of
// each kind a walk must leave out (walk.h), for the unit and end-to-end tests.
#pragma once
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "fsutil.h"

namespace facepipe::test {

struct BadEntry {
    std::string name;       // file name, all with an image extension
    FileKind kind;          // what inspect_path must say
    std::string kind_text;  // what its one line must name
};

struct BadEntries {
    std::vector<BadEntry> entries;
};

inline void spit_file(const std::filesystem::path& p, const std::string& bytes) {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << bytes;
    if (!out) throw std::runtime_error("cannot write " + p.string());
}

// An AF_UNIX socket bound at `p` (the socket file stays when the fd is closed).
inline void make_socket(const std::filesystem::path& p) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string s = p.string();
    if (s.size() >= sizeof addr.sun_path) throw std::runtime_error("socket path too long: " + s);
    std::memcpy(addr.sun_path, s.c_str(), s.size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
    const int rc = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    const int err = errno;
    ::close(fd);
    if (rc != 0) throw std::runtime_error("bind " + s + ": " + std::strerror(err));
}

// In `dir` (created): loop1.jpg <-> loop2.jpg (a symlink loop), dangling.jpg ->
// nowhere.jpg, fifo.jpg (a named pipe), socket.jpg (a bound socket), zero.jpg ->
// /dev/zero (a character device behind a symlink).
inline BadEntries make_bad_entries(const std::filesystem::path& dir) {
    namespace fs = std::filesystem;
    fs::create_directories(dir);
    fs::create_symlink("loop2.jpg", dir / "loop1.jpg");
    fs::create_symlink("loop1.jpg", dir / "loop2.jpg");
    fs::create_symlink("nowhere.jpg", dir / "dangling.jpg");
    if (::mkfifo((dir / "fifo.jpg").c_str(), 0600) != 0)
        throw std::runtime_error("mkfifo: " + std::string(std::strerror(errno)));
    make_socket(dir / "socket.jpg");
    fs::create_symlink("/dev/zero", dir / "zero.jpg");
    return BadEntries{{{"dangling.jpg", FileKind::dangling_symlink, "dangling symlink"},
                       {"fifo.jpg", FileKind::fifo, "FIFO"},
                       {"loop1.jpg", FileKind::symlink_loop, "symlink loop"},
                       {"loop2.jpg", FileKind::symlink_loop, "symlink loop"},
                       {"socket.jpg", FileKind::socket, "socket"},
                       {"zero.jpg", FileKind::char_device, "character device"}}};
}

// Gives up CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH on the calling thread only
// (capabilities are per thread): root is then held to mode bits, so mode 000
// means EACCES, as for any user. "" when done, else why not.
inline std::string drop_dac_capabilities_of_this_thread() {
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};  // pid 0: this thread
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &hdr, data) != 0) return std::string("capget: ") + std::strerror(errno);
    for (const int cap : {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH}) {
        const unsigned bit = 1u << (cap % 32);
        data[cap / 32].effective &= ~bit;
        data[cap / 32].permitted &= ~bit;
        data[cap / 32].inheritable &= ~bit;
    }
    if (::syscall(SYS_capset, &hdr, data) != 0) return std::string("capset: ") + std::strerror(errno);
    return "";
}

}  // namespace facepipe::test
