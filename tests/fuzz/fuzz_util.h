// fuzz_util.h — what the libFuzzer harnesses of tests/fuzz/ share.
//
// Most of facepipe's parsers take a path, not bytes: a harness writes its input
// to a file in a private folder under /dev/shm (or $TMPDIR), one name per use,
// and the folder is removed at exit. The checksummed formats (container.h, the
// encodings journal) would refuse nearly every mutated input at the checksum,
// so their harnesses also wrap the input in a valid envelope to reach the
// payload parsers.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "hash.h"

namespace facepipe::fuzz {

// The harness's private folder, created on first use and removed at exit.
inline const std::string& work_dir() {
    static const std::string dir = [] {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : (base ? base : "/tmp");
        tmpl += "/facepipe-fuzz-XXXXXX";
        if (!::mkdtemp(tmpl.data())) std::abort();
        static const std::string keep = tmpl;
        std::atexit([] {
            std::error_code ec;
            std::filesystem::remove_all(keep, ec);
        });
        return tmpl;
    }();
    return dir;
}

// Writes bytes to work_dir()/name (replacing it) and returns the path.
inline std::string write_temp(const std::string& name, std::string_view bytes) {
    const std::string path = work_dir() + "/" + name;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) std::abort();
    if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) std::abort();
    std::fclose(f);
    return path;
}

inline std::string le(std::uint64_t v, int bytes) {
    std::string out;
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return out;
}

// A container file (container.h) around `payload` with a correct length and checksum.
inline std::string container_bytes(std::string_view magic8, std::uint32_t version, std::string_view payload) {
    return std::string(magic8) + le(version, 4) + le(payload.size(), 8) + sha256_raw(payload) + std::string(payload);
}

// The separator that splits one fuzz input into several files (in the dictionaries).
inline constexpr std::string_view kSplit = "@@FUZZ@@";

// Splits at kSplit: at most max_parts parts (the last one keeps any further separators).
inline std::vector<std::string_view> split(std::string_view data, std::size_t max_parts) {
    std::vector<std::string_view> parts;
    while (parts.size() + 1 < max_parts) {
        const auto at = data.find(kSplit);
        if (at == std::string_view::npos) break;
        parts.push_back(data.substr(0, at));
        data.remove_prefix(at + kSplit.size());
    }
    parts.push_back(data);
    return parts;
}

inline std::string_view view(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

}  // namespace facepipe::fuzz
