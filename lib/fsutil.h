// fsutil.h — reading and writing whole files safely.
//
// Every artifact facepipe writes goes through write_file_atomic: readers either
// see the old file or the complete new one, never a torn write, even after a
// crash or kill -9 mid-write.
//
// Every file facepipe reads goes through read_file (or open_regular_file): a
// path a user names may be anything (a FIFO, a socket, a device, a symlink loop),
// and none of them may block, hang or exhaust a run; each is refused with a
// one-line cause that names what it is (inspect_path).
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace facepipe {

// Writes bytes to a temporary file beside `path` (same folder, so rename is
// atomic), fsyncs it, sets `mode` (0600 by default: our artifacts hold
// biometric data), renames it over `path` and fsyncs the folder.
// Throws Error(path, cause) on failure and leaves no temporary file behind;
// `path` is then unchanged. The cause says what ran out or was refused, e.g.
// "write failed: the disk is full (No space left on device)" or
// "cannot create a file in folder out: Permission denied" (write_error_text).
void write_file_atomic(const std::string& path, const std::string& bytes, unsigned mode = 0600);

// One file of a set written together by write_files_atomic (bytes are not copied).
struct FileToWrite {
    std::string path;
    std::string_view bytes;
    unsigned mode = 0600;
};

// write_files_atomic(files)
//   ensures: writes every file's bytes to its own temporary file first (as
//            write_file_atomic does); only when ALL are written and fsynced
//            does it rename them over their paths, in order. So a full disk or
//            any write error leaves every path as it was (a rename needs no
//            space). Only a crash between two renames can separate them.
//   throws:  Error(path, cause) of the first file that failed; no temporary
//            file is left behind.
void write_files_atomic(const std::vector<FileToWrite>& files);

// The cause of a failed write, for messages: ENOSPC, EDQUOT and EFBIG are
// spelled out ("the disk is full", "the disk quota is exhausted", "the file is
// over the file-size limit"), followed by strerror in parentheses; any other
// errno is strerror alone.
std::string write_error_text(int errno_value);

// write_all(fd, bytes, path)
//   ensures: every byte written to fd (write(2) again after a short write or
//            EINTR). throws: Error(path, "write failed: " + write_error_text).
void write_all(int fd, std::string_view bytes, const std::string& path);


// What a path is to a reader, symlinks followed (see PathInfo::symlink).
enum class FileKind {
    regular,           // a regular file that can be read
    folder,            // a folder that can be listed
    fifo,              // named pipe: reading it waits for a writer, maybe for ever
    socket,
    char_device,       // e.g. /dev/zero, /dev/tty: endless, or blocking
    block_device,
    other,             // any other type the system has
    symlink_loop,      // ELOOP: the chain of symlinks never ends
    dangling_symlink,  // a symlink to nothing
    missing,           // no such entry (nor a symlink)
    unreadable,        // the file or folder exists but cannot be read or listed (EACCES...)
};

struct PathInfo {
    FileKind kind = FileKind::missing;
    bool symlink = false;   // the path itself is a symlink (kind is what it leads to)
    bool is_folder = false; // for unreadable: it is a folder (it cannot be listed)
    std::string cause;      // "" for regular and folder; else one line naming the kind, e.g.
                            // "is a FIFO, not a regular file", "is a symlink to a character
                            // device, not a regular file", "is a symlink loop", "is a dangling
                            // symlink (to x.jpg)", "cannot be read: Permission denied"
};

// inspect_path(path)
//   ensures: what `path` is, from lstat, stat and access(R_OK, effective ids)
//            alone: nothing is opened, so no FIFO or device is touched. Never throws.
PathInfo inspect_path(const std::string& path);

// open_regular_file(path)
//   ensures: a read-only descriptor (O_CLOEXEC) of `path`, which fstat shows to
//            be a regular file; the caller closes it. The open is O_NONBLOCK and
//            is preceded by inspect_path, so neither a FIFO nor a device can block
//            it, and a file swapped for one in between is still caught by fstat.
//            *size (when given) is the file's size at the fstat.
//   throws:  Error(path, cause) otherwise, cause as in inspect_path for the kinds
//            it names, "is a directory, not a file" for a folder, and
//            "cannot open: <strerror>" for a missing or unreadable file.
int open_regular_file(const std::string& path, std::uint64_t* size = nullptr);

// Reads a whole regular file (open_regular_file). Throws Error(path, cause) when
// it cannot be read or is not a regular file (the cause names what it is), and
// LimitError (error.h) when it is larger than max_bytes, also a file that grows
// past it while read (a guard against hostile or mistaken inputs).
std::string read_file(const std::string& path, std::uint64_t max_bytes = (1ull << 32));

// read_file_or_pipe(path, max_bytes)
//   ensures: read_file(path, max_bytes), except that a FIFO (a named pipe, or the
//            /dev/fd/N of a shell's `<(...)`) is read too, to its end: for a secret
//            a user passes through a pipe on purpose (serve's --api-key-file). It
//            waits for the pipe's writer. Devices, sockets and folders are refused
//            as by read_file.
std::string read_file_or_pipe(const std::string& path, std::uint64_t max_bytes = (1ull << 32));

// The folder of the running binary (/proc/self/exe), from which facepipe finds
// the files installed beside it (models.h models_dir, media.h's module); empty
// when unknown.
std::filesystem::path running_binary_dir();

}  // namespace facepipe
