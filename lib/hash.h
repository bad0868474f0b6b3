// hash.h — content hashes. SHA-256 everywhere, so that a user can check any
// checksum facepipe prints with `sha256sum`.
#pragma once
#include <string>
#include <string_view>

namespace facepipe {

// Lower-case hex SHA-256 of the bytes.
std::string sha256_hex(std::string_view bytes);

// The 32 raw digest bytes (binary file headers store these).
std::string sha256_raw(std::string_view bytes);

// Lower-case hex SHA-256 of a regular file's contents, streamed (opened by
// fsutil.h open_regular_file). Throws Error(path, ...) when the file cannot be
// read or is not a regular file.
std::string sha256_file(const std::string& path);

}  // namespace facepipe
