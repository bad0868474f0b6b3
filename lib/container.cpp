#include "container.h"

#include <cereal/archives/portable_binary.hpp>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "error.h"
#include "fsutil.h"
#include "hash.h"

namespace facepipe {
namespace {

constexpr std::size_t kSha256Bytes = 32;

void put_le(std::string& out, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t get_le(std::string_view in, std::size_t at, int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
        v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
    return v;
}

void require_magic8(std::string_view magic8) {
    if (magic8.size() != 8) throw std::invalid_argument("container magic must be 8 bytes");
}

// Every check of read_container's contract but "cannot open", in its order;
// returns the format version.
std::uint32_t check_container(const std::string& path, std::string_view file, std::string_view magic8,
                              const std::string& kind, std::uint32_t max_version) {
    if (file.empty()) throw Error(path, "empty file");
    // A file shorter than the magic that agrees with it so far was cut short;
    // anything else that disagrees is some other kind of file.
    const std::size_t probe = std::min<std::size_t>(file.size(), 8);
    if (file.compare(0, probe, magic8.data(), probe) != 0)
        throw Error(path, "not a facepipe " + kind + " file (bad magic)");
    if (file.size() < kContainerHeaderBytes)
        throw Error(path, "truncated: file ends inside the header (" + std::to_string(file.size()) +
                              " of " + std::to_string(kContainerHeaderBytes) + " bytes)");

    const auto version = static_cast<std::uint32_t>(get_le(file, 8, 4));
    if (version == 0) throw Error(path, "corrupted: format version 0");
    if (version > max_version)
        throw Error(path, "format version " + std::to_string(version) +
                              " is newer than this facepipe supports (" + std::to_string(max_version) +
                              "); upgrade facepipe");

    const std::uint64_t declared = get_le(file, 12, 8);
    const std::uint64_t actual = file.size() - kContainerHeaderBytes;
    if (actual < declared)
        throw Error(path, "truncated: header says " + std::to_string(declared) + " payload bytes, file has " +
                              std::to_string(actual));
    if (actual > declared)
        throw Error(path, "unexpected trailing bytes (" + std::to_string(actual - declared) +
                              " after the payload)");
    if (sha256_raw(file.substr(kContainerHeaderBytes)) != file.substr(20, kSha256Bytes))
        throw Error(path, "corrupted: checksum mismatch");
    return version;
}

}  // namespace

void write_container(const std::string& path, std::string_view magic8, std::uint32_t version,
                     const std::string& payload, unsigned mode) {
    write_file_atomic(path, container_bytes(magic8, version, payload), mode);
}

std::string container_bytes(std::string_view magic8, std::uint32_t version, const std::string& payload) {
    require_magic8(magic8);
    std::string file;
    file.reserve(kContainerHeaderBytes + payload.size());
    file.append(magic8);
    put_le(file, version, 4);
    put_le(file, payload.size(), 8);
    file += sha256_raw(payload);
    file += payload;
    return file;
}

Container read_container(const std::string& path, std::string_view magic8, const std::string& kind,
                         std::uint32_t max_version) {
    require_magic8(magic8);
    const std::string file = read_file(path);
    Container c;
    c.version = check_container(path, file, magic8, kind, max_version);
    c.payload = file.substr(kContainerHeaderBytes);
    return c;
}

MappedContainer::MappedContainer(const std::string& path, std::string_view magic8, const std::string& kind,
                                 std::uint32_t max_version) {
    require_magic8(magic8);
    // The one safe open (fsutil.h): a FIFO or device named here is refused
    // without blocking, and fstat checks what was opened.
    std::uint64_t size = 0;
    const int fd = open_regular_file(path, &size);
    size_ = static_cast<std::size_t>(size);
    if (size_ > 0) {
        map_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
        const int err = errno;
        ::close(fd);
        if (map_ == MAP_FAILED) {
            map_ = nullptr;
            throw Error(path, std::string("cannot map: ") + std::strerror(err));
        }
    } else {
        ::close(fd);
    }
    try {
        version_ = check_container(path, std::string_view(static_cast<const char*>(map_), size_), magic8, kind,
                                   max_version);
    } catch (...) {
        if (map_) ::munmap(map_, size_);
        throw;
    }
}

MappedContainer::~MappedContainer() {
    if (map_) ::munmap(map_, size_);
}

std::string_view MappedContainer::payload() const {
    return std::string_view(static_cast<const char*>(map_) + kContainerHeaderBytes, size_ - kContainerHeaderBytes);
}

// ---- PayloadWriter ----------------------------------------------------------

PayloadWriter::PayloadWriter()
    : out_(std::ios::binary), ar_(std::make_unique<cereal::PortableBinaryOutputArchive>(out_)) {}
PayloadWriter::~PayloadWriter() = default;

void PayloadWriter::u8(std::uint8_t v) { (*ar_)(v); }
void PayloadWriter::u32(std::uint32_t v) { (*ar_)(v); }
void PayloadWriter::i32(std::int32_t v) { (*ar_)(v); }
void PayloadWriter::u64(std::uint64_t v) { (*ar_)(v); }
void PayloadWriter::f32(float v) { (*ar_)(v); }

void PayloadWriter::str(const std::string& s) {
    // Refuse on write what the reader would refuse, so bad data fails early.
    if (s.size() > kMaxPayloadString) throw std::invalid_argument("payload string longer than the limit");
    u64(s.size());
    ar_->saveBinary<1>(s.data(), static_cast<std::streamsize>(s.size()));
}

void PayloadWriter::floats(const float* v, std::size_t n) {
    ar_->saveBinary<sizeof(float)>(v, static_cast<std::streamsize>(n * sizeof(float)));
}

std::string PayloadWriter::bytes() const { return out_.str(); }

// ---- PayloadReader ----------------------------------------------------------

PayloadReader::PayloadReader(const std::string& payload, std::string subject)
    : subject_(std::move(subject)), in_(payload, std::ios::binary) {
    if (payload.empty()) fail("empty payload");
    ar_ = std::make_unique<cereal::PortableBinaryInputArchive>(in_);  // reads the 1-byte endianness tag
    remaining_ = payload.size() - 1;
}
PayloadReader::~PayloadReader() = default;

void PayloadReader::fail(const std::string& what) const { throw Error(subject_, "corrupted: " + what); }

void PayloadReader::take(void* out, std::size_t n, std::size_t elem, const char* what) {
    if (n > remaining_)
        fail(std::string("payload ends early (") + what + " needs " + std::to_string(n) + " bytes, " +
             std::to_string(remaining_) + " left)");
    const auto size = static_cast<std::streamsize>(n);
    try {
        switch (elem) {
            case 1: ar_->loadBinary<1>(out, size); break;
            case 4: ar_->loadBinary<4>(out, size); break;
            case 8: ar_->loadBinary<8>(out, size); break;
            default: throw std::logic_error("PayloadReader: unsupported element size");
        }
    } catch (const cereal::Exception& e) {
        fail(e.what());  // unreachable while remaining_ is right; kept as a backstop
    }
    remaining_ -= n;
}

std::uint8_t PayloadReader::u8() {
    std::uint8_t v;
    take(&v, 1, 1, "a byte");
    return v;
}
std::uint32_t PayloadReader::u32() {
    std::uint32_t v;
    take(&v, 4, 4, "an integer");
    return v;
}
std::int32_t PayloadReader::i32() {
    std::int32_t v;
    take(&v, 4, 4, "an integer");
    return v;
}
std::uint64_t PayloadReader::u64() {
    std::uint64_t v;
    take(&v, 8, 8, "an integer");
    return v;
}
float PayloadReader::f32() {
    float v;
    take(&v, 4, 4, "a number");
    return v;
}

std::string PayloadReader::str(std::size_t max_len) {
    max_len = std::min(max_len, kMaxPayloadString);
    const std::uint64_t n = u64();
    if (n > max_len)
        fail("string of " + std::to_string(n) + " bytes exceeds the limit of " + std::to_string(max_len));
    if (n > remaining_)
        fail("string of " + std::to_string(n) + " bytes, but only " + std::to_string(remaining_) + " left");
    std::string s(static_cast<std::size_t>(n), '\0');
    take(s.data(), s.size(), 1, "a string");
    return s;
}

std::size_t PayloadReader::count(std::size_t min_bytes_per_item) {
    if (min_bytes_per_item == 0) min_bytes_per_item = 1;
    const std::uint64_t n = u64();
    // Divide rather than multiply: n * min_bytes could overflow.
    if (n > remaining_ / min_bytes_per_item)
        fail("count of " + std::to_string(n) + " items needs at least " + std::to_string(min_bytes_per_item) +
             " bytes each, but only " + std::to_string(remaining_) + " bytes left");
    return static_cast<std::size_t>(n);
}

void PayloadReader::floats(float* out, std::size_t n) {
    if (n > remaining_ / sizeof(float)) fail("payload ends early (" + std::to_string(n) + " numbers)");
    take(out, n * sizeof(float), sizeof(float), "numbers");
}

void PayloadReader::finish() const {
    if (remaining_ != 0) fail(std::to_string(remaining_) + " unexpected bytes at the end of the payload");
}

}  // namespace facepipe
