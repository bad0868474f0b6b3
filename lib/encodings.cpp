#include "encodings.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <string_view>

#include "container.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "text.h"

namespace facepipe {
namespace {

// Six length-prefixed strings, status, faces_found, box, descriptor: the least
// bytes one record can occupy. Used to refuse impossible record counts.
constexpr std::size_t kMinRecordBytes = 6 * 8 + 1 + 4 + 4 * 4 + kDescriptorDim * sizeof(float);

std::string_view magic() { return std::string_view(kEncodingsMagic, 8); }

bool is_relative_clean(const std::string& p) {
    if (p.empty() || p.front() == '/') return false;
    std::size_t start = 0;
    while (start <= p.size()) {
        const std::size_t end = std::min(p.find('/', start), p.size());
        const std::string_view part(p.data() + start, end - start);
        if (part.empty() || part == "." || part == "..") return false;
        start = end + 1;
    }
    return true;
}

bool is_sha256_hex(const std::string& s) {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

std::string check_strings(const EncodingRecord& r) {
    const std::pair<const char*, const std::string*> fields[] = {
        {"person", &r.person}, {"path", &r.path}, {"source", &r.source},
        {"content_hash", &r.content_hash}, {"augmentation", &r.augmentation}, {"note", &r.note}};
    for (const auto& [name, value] : fields) {
        if (value->size() > kMaxPayloadString) return std::string(name) + " is too long";
        if (has_control_chars(*value)) return std::string(name) + " contains control characters";
    }
    if (r.person.empty()) return "person is empty";
    if (!is_relative_clean(r.path)) return "path is not a clean relative path";
    if (!is_relative_clean(r.source)) return "source is not a clean relative path";
    if (r.is_original() && r.source != r.path) return "an original's source must equal its path";
    if (!r.content_hash.empty() && !is_sha256_hex(r.content_hash))
        return "content_hash is not 64 lower-case hex digits";
    return "";
}

std::string check_values(const EncodingRecord& r) {
    if (static_cast<unsigned>(r.status) > static_cast<unsigned>(EncodeStatus::unreadable))
        return "status " + std::to_string(static_cast<unsigned>(r.status)) + " is out of range";
    if (r.faces_found < 0) return "faces_found is negative";
    if (r.box.x < 0 || r.box.y < 0 || r.box.width < 0 || r.box.height < 0) return "box is negative";
    for (float v : r.descriptor)
        if (!std::isfinite(v)) return "descriptor has a non-finite value";
    if (r.status == EncodeStatus::ok) {
        if (r.faces_found < 1) return "status ok but no face found";
        if (r.box.area() <= 0) return "status ok but the box is empty";
    }
    if (r.face_choice && r.faces_found < 2) return "face_choice is set but fewer than 2 faces were found";
    return "";
}

// The choice a multi-face record's note names, exactly as multi_face_note writes
// it for this record's faces_found; none for any other text.
std::optional<FaceChoice> choice_in_note(const std::string& note, int faces_found) {
    if (faces_found < 2) return std::nullopt;
    for (FaceChoice c : {FaceChoice::largest, FaceChoice::centre})
        if (note == multi_face_note(faces_found, c)) return c;
    return std::nullopt;
}

void write_record(PayloadWriter& w, const EncodingRecord& r) {
    w.str(r.person);
    w.str(r.path);
    w.str(r.source);
    w.str(r.content_hash);
    w.str(r.augmentation);
    w.u8(static_cast<std::uint8_t>(r.status));
    w.str(r.face_choice ? multi_face_note(r.faces_found, *r.face_choice) : r.note);  // v1: the choice is the note
    w.i32(r.faces_found);
    w.i32(r.box.x);
    w.i32(r.box.y);
    w.i32(r.box.width);
    w.i32(r.box.height);
    w.floats(r.descriptor.data(), r.descriptor.size());
}

EncodingRecord read_record(PayloadReader& in) {
    EncodingRecord r;
    r.person = in.str();
    r.path = in.str();
    r.source = in.str();
    r.content_hash = in.str();
    r.augmentation = in.str();
    r.status = static_cast<EncodeStatus>(in.u8());
    r.note = in.str();
    r.faces_found = in.i32();
    r.box.x = in.i32();
    r.box.y = in.i32();
    r.box.width = in.i32();
    r.box.height = in.i32();
    in.floats(r.descriptor.data(), r.descriptor.size());
    r.face_choice = choice_in_note(r.note, r.faces_found);
    return r;
}

}  // namespace

const char* to_string(EncodeStatus s) {
    switch (s) {
        case EncodeStatus::ok: return "ok";
        case EncodeStatus::no_face: return "no_face";
        case EncodeStatus::unreadable: return "unreadable";
    }
    return "invalid";
}

std::string multi_face_note(int faces_found, FaceChoice choice) {
    return std::to_string(faces_found) + " faces, kept the " +
           (choice == FaceChoice::centre ? "one nearest the centre" : "largest");
}

std::string validate_record(const EncodingRecord& r) {
    std::string why = check_strings(r);
    return why.empty() ? check_values(r) : why;
}

void write_encodings(const std::string& path, const EncodingsFile& file) {
    if (file.model_id.size() > kMaxPayloadString || has_control_chars(file.model_id))
        throw Error(path, "refusing to write: model_id is too long or contains control characters");
    PayloadWriter w;
    w.str(file.model_id);
    // hog: version 1, without the field (see the header).
    const std::uint32_t version = file.detector == DetectorKind::hog ? 1 : 2;
    if (version >= 2) w.u8(static_cast<std::uint8_t>(file.detector));
    w.count(file.records.size());
    for (std::size_t i = 0; i < file.records.size(); ++i) {
        const EncodingRecord& r = file.records[i];
        const std::string why = validate_record(r);
        if (!why.empty())
            throw Error(path, "refusing to write record " + std::to_string(i) + " (" + r.path + "): " + why);
        write_record(w, r);
    }
    write_container(path, magic(), version, w.bytes());
}

EncodingsFile read_encodings(const std::string& path) {
    const Container c = read_container(path, magic(), "encodings", kEncodingsVersion);
    PayloadReader in(c.payload, path);
    EncodingsFile file;
    file.model_id = in.str();
    if (has_control_chars(file.model_id)) in.fail("model_id contains control characters");
    if (c.version >= 2) {
        const std::uint8_t d = in.u8();
        if (d > static_cast<std::uint8_t>(DetectorKind::ssd)) in.fail("unknown detector " + std::to_string(d));
        file.detector = static_cast<DetectorKind>(d);
    }
    const std::size_t n = in.count(kMinRecordBytes);
    file.records.reserve(n);  // bounded by the payload size, see count()
    for (std::size_t i = 0; i < n; ++i) {
        file.records.push_back(read_record(in));
        const std::string why = validate_record(file.records.back());
        if (!why.empty()) in.fail("record " + std::to_string(i) + ": " + why);
    }
    in.finish();
    return file;
}

void require_same_model(const std::string& path, const std::string& file_model_id,
                        const std::string& current_model_id) {
    if (file_model_id != current_model_id)
        throw Error(path, "made with a different face model (" + file_model_id + ", current " +
                              current_model_id + "); re-run encode");
}

}  // namespace facepipe

// ---- journal ----------------------------------------------------------------
namespace facepipe {
namespace {

constexpr char kJournalMagic[] = "FPJOURNL";
constexpr std::uint32_t kJournalVersion = 1;

std::string le32(std::uint32_t v) {
    return {char(v & 0xFF), char(v >> 8 & 0xFF), char(v >> 16 & 0xFF), char(v >> 24 & 0xFF)};
}

std::uint32_t read_le32(const std::string& b, std::size_t at) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(b[at + i]);
    return v;
}

// The journal's header: its id says which models and detector made the records.
std::string journal_head(const std::string& model_id, DetectorKind detector) {
    const std::string id = detector == DetectorKind::hog ? model_id : model_id + " detector:" + to_string(detector);
    return std::string(kJournalMagic, 8) + le32(kJournalVersion) + le32(id.size()) + id;
}

}  // namespace

EncodingsJournal::EncodingsJournal(std::string path, const std::string& model_id, DetectorKind detector)
    : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_APPEND, 0600);
    if (fd_ < 0) throw Error(path_, "cannot create journal: " + write_error_text(errno));
    try {
        write_all(fd_, journal_head(model_id, detector), path_);
    } catch (const Error&) {
        remove();  // a torn header recovers nothing
        throw;
    }
}

EncodingsJournal::~EncodingsJournal() {
    if (fd_ >= 0) ::close(fd_);
}

void EncodingsJournal::append(const EncodingRecord& r) {
    const std::string why = validate_record(r);
    if (!why.empty()) throw Error(path_, "refusing to journal " + r.path + ": " + why);
    PayloadWriter w;
    write_record(w, r);
    const std::string payload = w.bytes();
    write_all(fd_, le32(payload.size()) + sha256_raw(payload) + payload, path_);
    ++records_;
}

void EncodingsJournal::remove() {
    ::close(fd_);
    fd_ = -1;
    ::unlink(path_.c_str());
}

std::vector<EncodingRecord> EncodingsJournal::recover(const std::string& path, const std::string& model_id,
                                                      DetectorKind detector) {
    std::vector<EncodingRecord> out;
    std::string b;
    try {
        b = read_file(path, 1ull << 32);
    } catch (const Error&) {
        return out;  // no journal: the last run finished (or never started)
    }
    const std::string head = journal_head(model_id, detector);
    if (b.compare(0, head.size(), head) != 0) return out;  // other models or detector, or not a journal: ignore
    for (std::size_t at = head.size(); at + 36 <= b.size();) {
        const std::uint32_t len = read_le32(b, at);
        if (len > b.size() - at - 36) break;  // torn entry
        const std::string payload = b.substr(at + 36, len);
        if (sha256_raw(payload) != b.substr(at + 4, 32)) break;
        try {
            PayloadReader in(payload, path);
            EncodingRecord r = read_record(in);
            in.finish();
            if (!validate_record(r).empty()) break;
            out.push_back(std::move(r));
        } catch (const Error&) {
            break;
        }
        at += 36 + len;
    }
    return out;
}

}  // namespace facepipe
