// unknown_store.h — unknown/: the faces facepipe could not name, kept for
// `cluster`, `name`, `forget` and `merge-groups` (issue 18). Written by the
// collectors (unknown_collect.h: predict, live, serve --collect-unknown).
//
// unknown/faces.bin — a facepipe file that grows by appending, so adding a face
// never rewrites the store (all integers little-endian):
//     offset  0  8 bytes  magic "FPUNKNWN"
//     offset  8  u32      format version (1)
//     offset 12  u64      next_id: no record id below it is ever given again
//     offset 20  32 bytes raw SHA-256 of bytes 0..19 (the header is self-checking)
//     offset 52  records, each: u32 length | 32 bytes raw SHA-256 of the payload |
//                payload (PayloadWriter items, container.h):
//                u64 id | str source | u64 time_s (IEEE-754 bits of a double) |
//                i32 box x, y, width, height | u64 seen_unix_ms (two's complement) |
//                f32 distance | str nearest | f32 score | 128 f32 descriptor |
//                str content_hash
// Record ids strictly increase along the file, from 1 to at most 2^53 (kUnknownMaxId). A record's length is at most
// kUnknownRecordMaxBytes. The header is written once (write_file_atomic) and
// again only by a compaction; a record is appended with one write(2).
//
// A process killed mid-append (kill -9) leaves a torn last record: fewer bytes
// than its length says, or (a power cut) a last record whose checksum fails.
// Readers drop it silently; the next append truncates it away first. So a kill
// loses at most the face being added. Anything else wrong (bad magic, newer
// version, a bad header checksum, a length over the cap, a bad checksum on a
// record that is not the last, a malformed or invalid record, ids not
// increasing) throws Error("<dir>/faces.bin", cause) before any large allocation.
//
// unknown/faces/<id>.jpg — the crop of each face (JPEG, 0600), written before its
// record; a crop without a record (a kill in between) is overwritten by the next
// append, which gets the same id.
//
// The bound (max_faces): faces() returns the newest max_faces faces; a face pushed
// past the bound loses its crop at once, and its record at the next compaction.
// A compaction (write_file_atomic of the whole file) runs when the file holds
// more than max_faces + max_faces/10 records (at least 1 over), and at each
// remove(): so appends stay O(1) amortised.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "types.h"

namespace cv {
class Mat;
}

namespace facepipe {

inline constexpr char kUnknownMagic[] = "FPUNKNWN";
inline constexpr std::uint32_t kUnknownVersion = 1;
inline constexpr std::size_t kUnknownHeaderBytes = 8 + 4 + 8 + 32;
// A record holds two strings of at most kMaxPayloadString bytes plus ~600 bytes.
inline constexpr std::uint32_t kUnknownRecordMaxBytes = 16 * 1024;
// Ids stay exact in JSON numbers (a double): at most 2^53.
inline constexpr std::uint64_t kUnknownMaxId = 1ull << 53;
// --collect-max's default: 10000 faces is ~6.5 MB of records plus ~10 KB a crop.
inline constexpr std::size_t kDefaultCollectMax = 10000;
// No bound: no store can hold more faces than it has ids. A store is opened
// with a bound only to collect into it (--collect-max); the commands that
// review it (cluster, name, forget, merge-groups, serve's Unknown faces page)
// open it unbounded, so they see and keep every face the collector kept,
// whatever --collect-max that was.
inline constexpr std::size_t kUnboundedStore = kUnknownMaxId;

struct UnknownFace {
    std::uint64_t id = 0;        // given by the store on append: increasing, never reused in a store
    std::string source;          // photo path or video path, as given by the user
    double time_s = -1;          // frame time in a video (seconds); -1 for a photo
    Box box;                     // in the source's (EXIF-upright) pixels
    std::int64_t seen_unix_ms = 0;  // when it was collected
    float distance = 0;          // to the nearest enrolled person; +inf when nobody is enrolled
    std::string nearest;         // that person's name, "" when nobody is enrolled
    float score = 0;             // detector score
    Descriptor descriptor{};
    std::string content_hash;    // a photo's: SHA-256 hex of its file's bytes; "" for a video frame
    std::string crop() const;    // path of its crop relative to the store folder: "faces/<id>.jpg"
};

// Checks one face against the rules faces.bin enforces: source non-empty, source
// and nearest at most 4096 bytes; time_s finite and >= 0, or exactly -1; box
// x, y >= 0 and width, height > 0; distance >= 0 (or +inf) and not NaN; score and
// every descriptor value finite; content_hash "" or 64 lower-case hex digits. ensures: "" when valid, else a short reason.
std::string validate_unknown_face(const UnknownFace& f);

// unknown/ : faces.bin (the records) + faces/<id>.jpg (crops, 0600). Thread-safe within a
// process; across processes appends and removals take lib/lock's lock on the folder.
class UnknownStore {
public:
    // Opens (creating the folder, 0700) the store in dir. Throws Error naming the file for
    // a damaged or hostile faces.bin (a torn LAST record from kill -9 is dropped, not an error).
    // requires: 1 <= max_faces <= kUnboundedStore (else UsageError).
    explicit UnknownStore(std::filesystem::path dir, std::size_t max_faces = kUnboundedStore);
    ~UnknownStore();
    UnknownStore(const UnknownStore&) = delete;
    UnknownStore& operator=(const UnknownStore&) = delete;

    const std::filesystem::path& dir() const;
    std::size_t max_faces() const;
    // "<dir>/faces.bin"
    std::filesystem::path file() const;

    // Writes the crop (JPEG, 0600) then appends one record without rewriting the store; drops
    // the oldest faces (records and crops) past max_faces. Returns the new id.
    // face.id and face.seen_unix_ms are set by the store when 0.
    // Throws Error(file, reason) for a face validate_unknown_face refuses or an
    // empty crop, and Error(path, cause) when a file cannot be written.
    std::uint64_t append(UnknownFace face, const cv::Mat& crop_bgr);
    // Every face in the store, oldest first (re-reads faces.bin: sees other processes' appends).
    std::vector<UnknownFace> faces() const;
    // Removes these faces (records and crop files); unknown ids are ignored.
    void remove(const std::vector<std::uint64_t>& ids);

    struct State;

private:
    friend struct UnknownStoreAccess;
    std::unique_ptr<State> s_;
};

// The lock file append() and remove() hold (lock.h FileLock): "<dir>/faces.lock".
// Whoever rewrites another file of the store (groups.bin) may take it too.
std::filesystem::path unknown_lock_path(const std::filesystem::path& dir);

// The default of unknown/ for a model: "<model's folder>/unknown".
std::filesystem::path default_unknown_dir(const std::filesystem::path& model);

// The store a command names: `dir` when not empty, else default_unknown_dir(model).
std::filesystem::path unknown_dir_or_default(const std::string& dir, const std::filesystem::path& model);

// Opens, unbounded, a store something has collected into, to review it (cluster,
// name, forget, merge-groups). Unlike the constructor it creates nothing: a
// folder without faces.bin throws Error(dir, "no unknown faces collected here
// ...") naming what collects, so a mistyped folder is said, not made.
std::unique_ptr<UnknownStore> open_collected_store(const std::filesystem::path& dir);

// The faces of a faces.bin's bytes (oldest first, every record), as the store
// reads them: for tests and the fuzz harness. `subject` names the file in
// errors. *end_of_valid (when given) is the offset where the intact records end
// (the file's size unless the last record is torn).
std::vector<UnknownFace> parse_unknown_faces(const std::string& bytes, const std::string& subject,
                                             std::size_t* end_of_valid = nullptr,
                                             std::uint64_t* next_id = nullptr);

}  // namespace facepipe
