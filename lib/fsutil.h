// fsutil.h — reading and writing whole files safely.
//
// Every artifact facepipe writes goes through write_file_atomic: readers either
// see the old file or the complete new one, never a torn write, even after a
// crash or kill -9 mid-write.
#pragma once
#include <cstdint>
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

// Reads a whole file. Throws Error(path, cause) when it cannot be read, and
// LimitError (error.h) when it is larger than max_bytes (a guard against
// hostile or mistaken inputs).
std::string read_file(const std::string& path, std::uint64_t max_bytes = (1ull << 32));

}  // namespace facepipe
