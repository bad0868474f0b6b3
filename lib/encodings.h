// encodings.h — encodings.bin: one record per dataset image, written by
// `facepipe encode`, read by `facepipe train` (and by encode itself, to skip
// images whose content_hash it has already seen).
//
// Stored in a container (container.h) with magic "FPENCODE", format version 1
// or 2. Payload (PayloadWriter items):
//   version 1: str model_id | count N | N records
//   version 2: str model_id | u8 detector | count N | N records
// each record:
//     str person | str path | str source | str content_hash | str augmentation |
//     u8 status | str note | i32 faces_found | i32 box x, y, width, height |
//     128 f32 descriptor
// The detector (DetectorKind: 0 hog, 1 ssd) found every face of the file: one
// file never mixes detectors. Version 1 has no detector field and reads as hog.
// The writer writes a hog file as version 1 (byte for byte what facepipe wrote
// before the detector existed, and still readable by such a facepipe) and any
// other detector as version 2, which an older facepipe refuses as newer.
//
// Version 1 has no field for face_choice: it travels in the note. The writer
// stores a record with a face_choice with multi_face_note(faces_found,
// face_choice) as its note (whatever the record's note says). The reader sets
// face_choice on a record with faces_found > 1 whose note is exactly that text
// for one choice, and leaves it empty otherwise: such a record (an older or
// foreign note) is still valid, and is written back byte for byte, but since
// nobody can tell which face it holds, encode never reuses it (encode.h).
// This file is the only place that knows the note carries the choice.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "types.h"

namespace facepipe {

inline constexpr char kEncodingsMagic[] = "FPENCODE";
inline constexpr std::uint32_t kEncodingsVersion = 2;  // the newest read

enum class EncodeStatus : std::uint8_t { ok = 0, no_face = 1, unreadable = 2 };

// "ok", "no_face", "unreadable".
const char* to_string(EncodeStatus s);

// The note version 1 stores for a record that kept one of faces_found (> 1)
// faces by `choice`: "3 faces, kept the largest", "2 faces, kept the one
// nearest the centre".
std::string multi_face_note(int faces_found, FaceChoice choice);

struct EncodingRecord {
    std::string person;        // dataset folder name
    std::string path;          // relative to the dataset root, '/'-separated, e.g. "obama/augmented/obama.jpg~1a2b3c4d~02-rotate.jpg"
    std::string source;        // relative path of the ORIGINAL photo this image derives from (== path for an original)
    std::string content_hash;  // sha256 hex of the image file's bytes (incremental encode key); "" if unreadable
    std::string augmentation;  // "" for an original, else the op name, e.g. "rotate"
    EncodeStatus status = EncodeStatus::ok;
    std::string note;          // for people: why it was skipped, or e.g. "3 faces, kept the largest"
    int faces_found = 0;
    // Which rule chose the face kept of a photo with several (faces_found > 1):
    // the box and descriptor are that face's. Empty for fewer faces, and for a
    // multi-face record whose note (read from a file) does not name the rule.
    std::optional<FaceChoice> face_choice;
    Box box;                   // valid when status == ok
    Descriptor descriptor{};   // valid when status == ok

    bool is_original() const { return augmentation.empty(); }
};

struct EncodingsFile {
    std::string model_id;  // models.h ModelFiles::model_id() of the models that made the descriptors
    std::vector<EncodingRecord> records;
    DetectorKind detector = DetectorKind::hog;  // the detector that found every record's face
};

// Checks one record against the rules read_encodings enforces:
//   person, path, source non-empty; every string at most 4096 bytes with no
//   control characters; path and source relative ('/'-separated, no leading '/',
//   no "." or ".." or empty component); an original (augmentation "") has
//   source == path; content_hash "" or 64 lower-case hex digits; status in range;
//   faces_found >= 0; box x, y, width, height >= 0; descriptor values finite;
//   and when status == ok: faces_found >= 1 and a non-empty box; face_choice
//   set only when faces_found > 1.
// ensures: "" when valid, else a short reason naming the field.
std::string validate_record(const EncodingRecord& r);

// requires: every record passes validate_record and model_id is at most 4096
//           bytes (else Error(path, "refusing to write record N (<path>): <reason>")).
// ensures:  `path` is replaced atomically (mode 0600).
void write_encodings(const std::string& path, const EncodingsFile& file);

// ensures: the file's contents, every record valid (see validate_record).
// Throws Error(path, cause) for any container error (container.h), and
// "corrupted: ..." for a malformed payload or an invalid record.
EncodingsFile read_encodings(const std::string& path);

// Descriptors from different face models live in different spaces, so comparing
// them is meaningless. Throws Error(path, "made with a different face model
// (<file_model_id>, current <current_model_id>); re-run encode") when they differ.
// encodings.bin.journal — the records `encode` has finished since its last
// complete save, appended one by one, so a crash or kill loses none of them.
// Layout: "FPJOURNL" | u32 version | u32 length + id; then per record:
// u32 length | 32 raw bytes SHA-256 | record payload. The id is model_id for
// hog (the layout of before the detector existed) and "<model_id> detector:ssd"
// for ssd, so a journal left by a run with the other detector recovers nothing.
// A torn last entry (the process died mid-write) is simply where recovery stops.
class EncodingsJournal {
public:
    // Creates (truncating) the journal for records of model_id found by detector.
    // Throws Error(path, cause) when it cannot be created (a full disk: the
    // cause says so, write_error_text) and then leaves no journal behind.
    EncodingsJournal(std::string path, const std::string& model_id, DetectorKind detector = DetectorKind::hog);
    ~EncodingsJournal();
    EncodingsJournal(const EncodingsJournal&) = delete;
    EncodingsJournal& operator=(const EncodingsJournal&) = delete;

    // Appends one validated record with a single write(2): in the page cache,
    // and so safe from a crash of this process, once it returns. Throws
    // Error(path, cause) when the write fails (the disk is full...): the
    // records appended before stay recoverable.
    void append(const EncodingRecord& r);
    // How many records append() has written.
    int records() const { return records_; }
    const std::string& path() const { return path_; }
    // Deletes the journal: call after its records are saved in encodings.bin.
    void remove();

    // The intact records of a journal left by a run that died; none when there
    // is no journal or it was written for other models or another detector.
    // Never throws for a damaged journal: it stops at the first entry that does
    // not verify.
    static std::vector<EncodingRecord> recover(const std::string& path, const std::string& model_id,
                                               DetectorKind detector = DetectorKind::hog);

private:
    std::string path_;
    int fd_ = -1;
    int records_ = 0;
};

void require_same_model(const std::string& path, const std::string& file_model_id,
                        const std::string& current_model_id);

}  // namespace facepipe
