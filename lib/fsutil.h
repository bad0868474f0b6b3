// fsutil.h — reading and writing whole files safely.
//
// Every artifact facepipe writes goes through write_file_atomic: readers either
// see the old file or the complete new one, never a torn write, even after a
// crash or kill -9 mid-write.
#pragma once
#include <cstdint>
#include <string>

namespace facepipe {

// Writes bytes to a temporary file beside `path` (same folder, so rename is
// atomic), fsyncs it, sets `mode` (0600 by default: our artifacts hold
// biometric data), renames it over `path` and fsyncs the folder.
// Throws Error(path, cause) on failure and leaves no temporary file behind.
void write_file_atomic(const std::string& path, const std::string& bytes, unsigned mode = 0600);

// Reads a whole file. Throws Error(path, cause) when it cannot be read, and
// LimitError (error.h) when it is larger than max_bytes (a guard against
// hostile or mistaken inputs).
std::string read_file(const std::string& path, std::uint64_t max_bytes = (1ull << 32));

}  // namespace facepipe
