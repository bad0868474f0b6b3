// container.h — the versioned, checksummed envelope around every file facepipe
// writes (encodings.bin, model.bin, labels.bin), and a bounds-checked payload
// codec for what goes inside it.
//
// On-disk layout (all integers little-endian):
//     offset  0   8 bytes   magic, names the kind of file (e.g. "FPENCODE")
//     offset  8   u32       format version of the payload (1, 2, ...)
//     offset 12   u64       payload length in bytes
//     offset 20   32 bytes  raw SHA-256 of the payload
//     offset 52   payload
//
// Why the checksum: these files are inputs to decisions about who a person is,
// so a torn copy or flipped bit must be refused, never half-read. Why the
// payload codec still checks every length: the checksum proves integrity, not
// good intent; a hand-crafted file with a valid checksum must not be able to
// make us allocate gigabytes or read out of bounds.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

namespace cereal {
class PortableBinaryInputArchive;
class PortableBinaryOutputArchive;
}  // namespace cereal

namespace facepipe {

constexpr std::size_t kContainerHeaderBytes = 8 + 4 + 8 + 32;

// Longest string a payload may hold (names, paths, notes, ids).
constexpr std::size_t kMaxPayloadString = 4096;

// requires: magic8.size() == 8 (else std::invalid_argument: a programming error).
// ensures:  `path` holds header + payload, written with write_file_atomic, mode
//           `mode` (0600: biometric data, the default; 0644 for derived public data).
//           Throws Error(path, ...) when the file cannot be written.
void write_container(const std::string& path, std::string_view magic8, std::uint32_t version,
                     const std::string& payload, unsigned mode = 0600);

// The bytes write_container writes (header + payload), for writing several
// files together (fsutil.h write_files_atomic).
std::string container_bytes(std::string_view magic8, std::uint32_t version, const std::string& payload);

struct Container {
    std::uint32_t version = 0;
    std::string payload;  // checksum verified
};

// requires: magic8.size() == 8; kind is a word for messages ("encodings", "model").
// ensures:  returns the payload of a well-formed file whose version is in
//           [1, max_version]. Otherwise throws Error(path, cause), cause one of
//             "cannot open: ..."                (missing / unreadable; from read_file)
//             "empty file"
//             "not a facepipe <kind> file (bad magic)"
//             "truncated: file ends inside the header (N of 52 bytes)"
//             "corrupted: format version 0"
//             "format version N is newer than this facepipe supports (M); upgrade facepipe"
//             "truncated: header says N payload bytes, file has M"
//             "unexpected trailing bytes (N after the payload)"
//             "corrupted: checksum mismatch"
//           checked in that order.
Container read_container(const std::string& path, std::string_view magic8, const std::string& kind,
                         std::uint32_t max_version);

// The same file, checked in the same way and order as read_container, but read
// in place through a read-only memory map instead of copied: for large payloads
// that are used where they lie (lib/landmark_cache.h). The payload starts at file
// offset kContainerHeaderBytes of a page-aligned mapping, so an array at file
// offset k*A (A <= the page size) is A-aligned in memory.
class MappedContainer {
public:
    // Same contract and messages as read_container (plus "cannot map: ...").
    MappedContainer(const std::string& path, std::string_view magic8, const std::string& kind,
                    std::uint32_t max_version);
    ~MappedContainer();
    MappedContainer(const MappedContainer&) = delete;
    MappedContainer& operator=(const MappedContainer&) = delete;

    std::uint32_t version() const { return version_; }
    // The checksum-verified payload, valid while this object lives.
    std::string_view payload() const;

private:
    void* map_ = nullptr;
    std::size_t size_ = 0;
    std::uint32_t version_ = 0;
};

// Builds a payload with cereal's portable binary archive (little-endian on any
// host). Every variable-length item is a u64 length/count followed by its data;
// PayloadReader reads it back in the same order.
class PayloadWriter {
public:
    PayloadWriter();
    ~PayloadWriter();
    PayloadWriter(const PayloadWriter&) = delete;
    PayloadWriter& operator=(const PayloadWriter&) = delete;

    void u8(std::uint8_t v);
    void u32(std::uint32_t v);
    void i32(std::int32_t v);
    void u64(std::uint64_t v);
    void f32(float v);
    // requires: s.size() <= kMaxPayloadString (else std::invalid_argument).
    void str(const std::string& s);
    // The count in front of a sequence of items; the caller then writes the items.
    void count(std::size_t n) { u64(n); }
    void floats(const float* v, std::size_t n);
    // ensures: the bytes written so far (the writer stays usable).
    std::string bytes() const;

private:
    std::ostringstream out_;
    std::unique_ptr<cereal::PortableBinaryOutputArchive> ar_;
};

// Reads a payload written by PayloadWriter. Every read first checks that enough
// bytes remain, every length against its cap, so any malformed payload ends in
// Error(subject, "corrupted: <what>") before any large allocation.
class PayloadReader {
public:
    // subject: the file name used in errors. Throws if the payload is empty.
    PayloadReader(const std::string& payload, std::string subject);
    ~PayloadReader();
    PayloadReader(const PayloadReader&) = delete;
    PayloadReader& operator=(const PayloadReader&) = delete;

    std::uint8_t u8();
    std::uint32_t u32();
    std::int32_t i32();
    std::uint64_t u64();
    float f32();  // any bit pattern; callers check finiteness where it matters
    // ensures: a string of at most max_len bytes (max_len <= kMaxPayloadString).
    std::string str(std::size_t max_len = kMaxPayloadString);
    // Reads a count of items that each occupy at least min_bytes_per_item (>= 1)
    // bytes, and refuses any count the remaining bytes could not hold.
    std::size_t count(std::size_t min_bytes_per_item);
    void floats(float* out, std::size_t n);

    std::size_t remaining() const { return remaining_; }
    // Throws unless every byte was consumed.
    void finish() const;
    // Throws Error(subject, "corrupted: " + what).
    [[noreturn]] void fail(const std::string& what) const;
    const std::string& subject() const { return subject_; }

private:
    void take(void* out, std::size_t n, std::size_t elem, const char* what);

    std::string subject_;
    std::istringstream in_;
    std::unique_ptr<cereal::PortableBinaryInputArchive> ar_;
    std::size_t remaining_ = 0;
};

}  // namespace facepipe
