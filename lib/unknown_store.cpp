#include "unknown_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>
#include <opencv2/imgcodecs.hpp>  // the IMWRITE_ flags
#include <string_view>
#include <unordered_set>

#include "container.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "lock.h"
#include "media.h"

namespace fs = std::filesystem;

namespace facepipe {
namespace {

constexpr std::size_t kEntryHead = 4 + 32;  // u32 length + SHA-256
// The least a valid payload can hold: endianness tag, id, source's length,
// time, box, seen, distance, nearest's length, score, descriptor, hash's length.
constexpr std::size_t kMinPayload = 1 + 8 + 8 + 8 + 16 + 8 + 4 + 8 + 4 + kDescriptorDim * 4 + 8;

std::string le(std::uint64_t v, int bytes) {
    std::string out;
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return out;
}

std::uint64_t read_le(std::string_view b, std::size_t at, int bytes) {
    std::uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(b[at + i]);
    return v;
}

std::string header_bytes(std::uint64_t next_id) {
    std::string h = std::string(kUnknownMagic, 8) + le(kUnknownVersion, 4) + le(next_id, 8);
    return h + sha256_raw(h);
}

std::string record_payload(const UnknownFace& f) {
    PayloadWriter w;
    w.u64(f.id);
    w.str(f.source);
    std::uint64_t t = 0;
    std::memcpy(&t, &f.time_s, sizeof t);
    w.u64(t);
    w.i32(f.box.x);
    w.i32(f.box.y);
    w.i32(f.box.width);
    w.i32(f.box.height);
    w.u64(static_cast<std::uint64_t>(f.seen_unix_ms));
    w.f32(f.distance);
    w.str(f.nearest);
    w.f32(f.score);
    w.floats(f.descriptor.data(), f.descriptor.size());
    w.str(f.content_hash);
    return w.bytes();
}

std::string record_entry(const UnknownFace& f) {
    const std::string payload = record_payload(f);
    return le(payload.size(), 4) + sha256_raw(payload) + payload;
}

UnknownFace read_record(const std::string& payload, const std::string& subject) {
    PayloadReader in(payload, subject);
    UnknownFace f;
    f.id = in.u64();
    f.source = in.str();
    const std::uint64_t t = in.u64();
    std::memcpy(&f.time_s, &t, sizeof t);
    f.box.x = in.i32();
    f.box.y = in.i32();
    f.box.width = in.i32();
    f.box.height = in.i32();
    f.seen_unix_ms = static_cast<std::int64_t>(in.u64());
    f.distance = in.f32();
    f.nearest = in.str();
    f.score = in.f32();
    in.floats(f.descriptor.data(), f.descriptor.size());
    f.content_hash = in.str(64);
    in.finish();
    return f;
}

// Where each intact record of a faces.bin lies.
struct Scan {
    std::uint64_t header_next_id = 1;
    std::vector<UnknownFace> faces;
    std::vector<std::size_t> offsets;  // of each record's entry
    std::size_t end = 0;               // where the intact records end
};

void parse_header(std::string_view b, const std::string& subject, Scan& s) {
    if (b.empty()) throw Error(subject, "empty file");
    if (b.size() < 8 || b.substr(0, 8) != std::string_view(kUnknownMagic, 8))
        throw Error(subject, "not a facepipe unknown-faces file (bad magic)");
    if (b.size() < kUnknownHeaderBytes)
        throw Error(subject, "truncated: file ends inside the header (" + std::to_string(b.size()) + " of " +
                                 std::to_string(kUnknownHeaderBytes) + " bytes)");
    const auto version = static_cast<std::uint32_t>(read_le(b, 8, 4));
    if (version == 0) throw Error(subject, "corrupted: format version 0");
    if (version > kUnknownVersion)
        throw Error(subject, "format version " + std::to_string(version) + " is newer than this facepipe supports (" +
                                 std::to_string(kUnknownVersion) + "); upgrade facepipe");
    if (sha256_raw(b.substr(0, 20)) != b.substr(20, 32)) throw Error(subject, "corrupted: header checksum mismatch");
    s.header_next_id = read_le(b, 12, 8);
    if (s.header_next_id > kUnknownMaxId + 1)
        throw Error(subject, "corrupted: next id " + std::to_string(s.header_next_id) + " is over the limit");
    s.end = kUnknownHeaderBytes;
}

// Parses the records of b from `at` (b is the whole file, or the file's bytes
// from `base` on). Stops at a torn last record.
void parse_records(std::string_view b, std::size_t base, std::size_t at, const std::string& subject, Scan& s) {
    std::uint64_t prev = s.faces.empty() ? 0 : s.faces.back().id;
    while (at < b.size()) {
        const std::size_t record_no = s.faces.size() + 1;
        const auto where = [&] { return "record " + std::to_string(record_no) + " (at byte " + std::to_string(base + at) + ")"; };
        if (b.size() - at < kEntryHead) break;  // torn: the entry's head is incomplete
        const auto len = static_cast<std::size_t>(read_le(b, at, 4));
        if (len > kUnknownRecordMaxBytes || len < kMinPayload)
            throw Error(subject, "corrupted: " + where() + " claims " + std::to_string(len) +
                                     " bytes, outside the possible " + std::to_string(kMinPayload) + ".." +
                                     std::to_string(kUnknownRecordMaxBytes));
        if (len > b.size() - at - kEntryHead) break;  // torn: the payload is incomplete
        const std::string payload(b.substr(at + kEntryHead, len));
        const bool last = at + kEntryHead + len == b.size();
        if (sha256_raw(payload) != b.substr(at + 4, 32)) {
            if (last) break;  // a power cut can leave the last record's bytes unwritten
            throw Error(subject, "corrupted: " + where() + " checksum mismatch");
        }
        UnknownFace f = read_record(payload, subject);
        const std::string why = validate_unknown_face(f);
        if (!why.empty()) throw Error(subject, "corrupted: " + where() + ": " + why);
        if (f.id > kUnknownMaxId)
            throw Error(subject, "corrupted: " + where() + " has id " + std::to_string(f.id) + ", over the limit");
        if (f.id <= prev || f.id == 0)
            throw Error(subject, "corrupted: " + where() + " has id " + std::to_string(f.id) +
                                     ", not above the previous " + std::to_string(prev));
        prev = f.id;
        s.offsets.push_back(base + at);
        s.faces.push_back(std::move(f));
        at += kEntryHead + len;
        s.end = base + at;
    }
}

Scan parse_all(std::string_view b, const std::string& subject) {
    Scan s;
    parse_header(b, subject, s);
    parse_records(b, 0, kUnknownHeaderBytes, subject, s);
    return s;
}

std::uint64_t next_id_of(const Scan& s) {
    const std::uint64_t after_last = s.faces.empty() ? 1 : s.faces.back().id + 1;
    return std::max({s.header_next_id, after_last, std::uint64_t{1}});
}

void make_private_dir(const fs::path& d) {
    if (::mkdir(d.c_str(), 0700) != 0 && errno != EEXIST)
        throw Error(d.string(), "cannot create folder: " + write_error_text(errno));
    std::error_code ec;
    if (!fs::is_directory(d, ec)) throw Error(d.string(), "is not a folder");
}

std::int64_t now_unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

std::string UnknownFace::crop() const { return "faces/" + std::to_string(id) + ".jpg"; }

std::string validate_unknown_face(const UnknownFace& f) {
    if (f.source.empty()) return "empty source";
    if (f.source.size() > kMaxPayloadString) return "source longer than 4096 bytes";
    if (f.nearest.size() > kMaxPayloadString) return "nearest longer than 4096 bytes";
    if (!std::isfinite(f.time_s) || (f.time_s < 0 && f.time_s != -1)) return "time is neither >= 0 nor -1";
    if (f.box.x < 0 || f.box.y < 0 || f.box.width <= 0 || f.box.height <= 0) return "bad box";
    if (std::isnan(f.distance) || f.distance < 0) return "distance is negative or NaN";
    if (!std::isfinite(f.score)) return "score is not finite";
    for (float v : f.descriptor)
        if (!std::isfinite(v)) return "descriptor value not finite";
    if (!f.content_hash.empty() &&
        (f.content_hash.size() != 64 ||
         f.content_hash.find_first_not_of("0123456789abcdef") != std::string::npos))
        return "content hash is not 64 lower-case hex digits";
    return "";
}

std::vector<UnknownFace> parse_unknown_faces(const std::string& bytes, const std::string& subject,
                                             std::size_t* end_of_valid, std::uint64_t* next_id) {
    Scan s = parse_all(bytes, subject);
    if (end_of_valid) *end_of_valid = s.end;
    if (next_id) *next_id = next_id_of(s);
    return std::move(s.faces);
}

fs::path default_unknown_dir(const fs::path& model) {
    const fs::path parent = model.parent_path();
    return (parent.empty() ? fs::path(".") : parent) / "unknown";
}

fs::path unknown_dir_or_default(const std::string& dir, const fs::path& model) {
    return dir.empty() ? default_unknown_dir(model) : fs::path(dir);
}

std::unique_ptr<UnknownStore> open_collected_store(const fs::path& dir) {
    if (inspect_path((dir / "faces.bin").string()).kind == FileKind::missing)
        throw Error(dir.string(), "no unknown faces collected here (predict, live or serve --collect-unknown "
                                  "collect them)");
    return std::make_unique<UnknownStore>(dir);
}

struct UnknownStore::State {
    fs::path dir;
    std::size_t max = kUnboundedStore;
    std::mutex mu;  // appends and removals of this process, one at a time
    // What this process last read of faces.bin (valid while the file is the
    // same inode and still holds the last record it saw).
    struct Cache {
        bool valid = false;
        dev_t dev = 0;
        ino_t ino = 0;
        std::size_t end = 0;          // where the intact records ended
        std::string last_sha;         // checksum of the last record ("" when none)
        std::size_t last_offset = 0;  // of the last record's entry
        std::vector<std::uint64_t> ids;
        std::uint64_t next_id = 1;
    } cache;
};

UnknownStore::UnknownStore(fs::path dir, std::size_t max_faces) : s_(std::make_unique<State>()) {
    if (max_faces < 1) throw UsageError("--collect-max", "must be at least 1");
    if (max_faces > kUnboundedStore) throw UsageError("--collect-max", "must be at most 2^53");
    s_->dir = std::move(dir);
    s_->max = max_faces;
    if (!s_->dir.parent_path().empty()) {
        std::error_code ec;
        fs::create_directories(s_->dir.parent_path(), ec);
    }
    make_private_dir(s_->dir);
    make_private_dir(s_->dir / "faces");
    (void)faces();  // refuses a damaged or hostile faces.bin now
}

UnknownStore::~UnknownStore() = default;

const fs::path& UnknownStore::dir() const { return s_->dir; }
std::size_t UnknownStore::max_faces() const { return s_->max; }
fs::path UnknownStore::file() const { return s_->dir / "faces.bin"; }

fs::path unknown_lock_path(const fs::path& dir) { return dir / "faces.lock"; }

std::vector<UnknownFace> UnknownStore::faces() const {
    const std::string path = file().string();
    if (inspect_path(path).kind == FileKind::missing) return {};
    std::vector<UnknownFace> all = parse_unknown_faces(read_file(path, 1ull << 32), path);
    if (all.size() > s_->max) all.erase(all.begin(), all.end() - static_cast<std::ptrdiff_t>(s_->max));
    return all;
}

struct UnknownStoreAccess {
    // Brings the cache up to date with the open faces.bin `fd`, reading only what
    // was appended since when it can, and truncates a torn tail.
    static void refresh(UnknownStore::State& st, int fd, const std::string& path) {
        auto& c = st.cache;
        struct stat sb {};
        if (::fstat(fd, &sb) != 0) throw Error(path, std::string("cannot stat: ") + std::strerror(errno));
        const auto size = static_cast<std::size_t>(sb.st_size);
        bool incremental = c.valid && c.dev == sb.st_dev && c.ino == sb.st_ino && size >= c.end;
        if (incremental && !c.last_sha.empty()) {  // the same file still: its last record is where it was
            char sha[32];
            incremental = ::pread(fd, sha, 32, static_cast<off_t>(c.last_offset + 4)) == 32 &&
                          std::string_view(sha, 32) == c.last_sha;
        }
        std::size_t from = incremental ? c.end : 0;
        std::string bytes(size - from, '\0');
        for (std::size_t got = 0; got < bytes.size();) {
            const ssize_t n = ::pread(fd, bytes.data() + got, bytes.size() - got, static_cast<off_t>(from + got));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) throw Error(path, std::string("cannot read: ") + (n < 0 ? std::strerror(errno) : "file shrank"));
            got += static_cast<std::size_t>(n);
        }
        Scan s;
        if (incremental) {
            s.end = c.end;
            s.header_next_id = c.next_id;
            if (!c.ids.empty()) {  // parse_records checks ids against the last one
                s.faces.emplace_back();
                s.faces.back().id = c.ids.back();
            }
            parse_records(bytes, from, 0, path, s);
            if (!c.ids.empty()) s.faces.erase(s.faces.begin());
        } else {
            s = parse_all(bytes, path);
            c = {};
        }
        for (const auto& f : s.faces) c.ids.push_back(f.id);
        if (!s.offsets.empty()) {
            c.last_offset = s.offsets.back();
            char sha[32];
            if (::pread(fd, sha, 32, static_cast<off_t>(c.last_offset + 4)) != 32)
                throw Error(path, std::string("cannot read: ") + std::strerror(errno));
            c.last_sha.assign(sha, 32);
        }
        c.next_id = std::max(incremental ? c.next_id : next_id_of(s), c.ids.empty() ? 1 : c.ids.back() + 1);
        c.end = s.end;
        c.dev = sb.st_dev;
        c.ino = sb.st_ino;
        c.valid = true;
        if (size > c.end && ::ftruncate(fd, static_cast<off_t>(c.end)) != 0)  // drop a torn last record
            throw Error(path, "cannot drop a torn last record: " + write_error_text(errno));
    }

    // Rewrites faces.bin without the records in `drop` and past the bound, and
    // deletes their crops. Caller holds the locks.
    static void compact(UnknownStore::State& st, const std::unordered_set<std::uint64_t>& drop) {
        const std::string path = (st.dir / "faces.bin").string();
        if (inspect_path(path).kind == FileKind::missing) return;
        const std::string b = read_file(path, 1ull << 32);
        const Scan s = parse_all(b, path);
        const std::size_t n = s.faces.size();
        const std::size_t first_kept = n > st.max ? n - st.max : 0;
        std::string out = header_bytes(next_id_of(s));
        std::vector<std::uint64_t> gone;
        bool changed = s.end != b.size();
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t entry_end = i + 1 < n ? s.offsets[i + 1] : s.end;
            if (i < first_kept || drop.count(s.faces[i].id)) {
                gone.push_back(s.faces[i].id);
                changed = true;
            } else {
                out.append(b, s.offsets[i], entry_end - s.offsets[i]);
            }
        }
        if (changed) write_file_atomic(path, out, 0600);
        st.cache.valid = false;
        for (std::uint64_t id : gone) {
            UnknownFace f;
            f.id = id;
            ::unlink((st.dir / f.crop()).c_str());
        }
    }
};

std::uint64_t UnknownStore::append(UnknownFace face, const cv::Mat& crop_bgr) {
    const std::string path = file().string();
    if (face.seen_unix_ms == 0) face.seen_unix_ms = now_unix_ms();
    face.id = face.id == 0 ? 1 : face.id;  // validated below with the store's id
    const std::string why = validate_unknown_face(face);
    if (!why.empty()) throw Error(path, "refusing to store a face from " + face.source + ": " + why);
    if (crop_bgr.empty()) throw Error(path, "refusing to store a face from " + face.source + ": empty crop");
    std::vector<unsigned char> jpeg;
    if (!media::imencode(".jpg", crop_bgr, jpeg, {cv::IMWRITE_JPEG_QUALITY, 95}))
        throw Error(path, "cannot encode the crop of a face from " + face.source);

    std::lock_guard<std::mutex> guard(s_->mu);
    FileLock lock(unknown_lock_path(s_->dir), true);
    if (inspect_path(path).kind == FileKind::missing) write_file_atomic(path, header_bytes(1), 0600);
    const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
    if (fd < 0) throw Error(path, "cannot open: " + write_error_text(errno));
    std::uint64_t id = 0;
    bool over = false;
    try {
        UnknownStoreAccess::refresh(*s_, fd, path);
        auto& c = s_->cache;
        id = c.next_id;
        if (id > kUnknownMaxId) throw Error(path, "no id left to give (the store has used every id up to 2^53)");
        face.id = id;
        UnknownFace named;
        named.id = id;
        write_file_atomic((s_->dir / named.crop()).string(),
                          std::string(reinterpret_cast<const char*>(jpeg.data()), jpeg.size()), 0600);
        const std::string entry = record_entry(face);
        write_all(fd, entry, path);
        c.last_offset = c.end;
        c.last_sha = entry.substr(4, 32);
        c.end += entry.size();
        c.ids.push_back(id);
        c.next_id = id + 1;
        const std::size_t n = c.ids.size();
        if (n > s_->max) {  // the face just pushed past the bound loses its crop now
            UnknownFace old;
            old.id = c.ids[n - s_->max - 1];
            ::unlink((s_->dir / old.crop()).c_str());
        }
        over = n > s_->max + std::max<std::size_t>(1, s_->max / 10);
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
    if (over) UnknownStoreAccess::compact(*s_, {});
    return id;
}

void UnknownStore::remove(const std::vector<std::uint64_t>& ids) {
    std::lock_guard<std::mutex> guard(s_->mu);
    FileLock lock(unknown_lock_path(s_->dir), true);
    UnknownStoreAccess::compact(*s_, std::unordered_set<std::uint64_t>(ids.begin(), ids.end()));
}

}  // namespace facepipe
