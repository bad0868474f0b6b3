#include "shard.h"

#include <cstring>
#include <map>

#include "container.h"
#include "error.h"
#include "hash.h"

namespace facepipe {
namespace {

// A decimal integer in [0, kMaxShards], or -1.
int parse_small(const std::string& s) {
    if (s.empty() || s.size() > 6) return -1;
    int v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return -1;
        v = v * 10 + (c - '0');
    }
    return v <= kMaxShards ? v : -1;
}

// The record's bytes as write_encodings stores them: a total order for picking
// one of two duplicates that does not depend on which part came first.
std::string record_bytes(const EncodingRecord& r) {
    PayloadWriter w;
    w.str(r.person);
    w.str(r.note);
    w.u8(static_cast<std::uint8_t>(r.status));
    w.i32(r.faces_found);
    w.i32(r.box.x);
    w.i32(r.box.y);
    w.i32(r.box.width);
    w.i32(r.box.height);
    w.str(r.source);
    w.str(r.augmentation);
    w.floats(r.descriptor.data(), r.descriptor.size());
    return w.bytes();
}

struct Held {
    EncodingRecord record;
    std::string part;  // where it came from, for messages
};

}  // namespace

Shard parse_shard(const std::string& text, const std::string& subject) {
    const auto slash = text.find('/');
    const char* expected = "; expected I/N with 0 <= I < N";
    if (slash == std::string::npos) throw Error(subject, "'" + text + "' has no '/'" + expected);
    const int i = parse_small(text.substr(0, slash)), n = parse_small(text.substr(slash + 1));
    if (i < 0 || n < 1)
        throw Error(subject, "'" + text + "' is not two numbers up to " + std::to_string(kMaxShards) + expected);
    if (i >= n) throw Error(subject, "'" + text + "': index out of range" + expected);
    return Shard{i, n};
}

int shard_of(std::string_view rel_path, int count) {
    const std::string digest = sha256_raw(rel_path);
    std::uint64_t v = 0;
    for (int b = 0; b < 8; ++b) v = v << 8 | static_cast<unsigned char>(digest[b]);
    return static_cast<int>(v % static_cast<std::uint64_t>(count));
}

bool in_shard(std::string_view rel_path, const Shard& shard) {
    return shard.whole() || shard_of(rel_path, shard.count) == shard.index;
}

EncodingsFile merge_encodings(const std::vector<std::string>& part_paths, MergeSummary* summary) {
    if (part_paths.empty()) throw Error("merge", "no partial encodings files given");
    EncodingsFile out;
    std::string first_part;
    std::map<std::string, Held> by_path;  // sorted by path, as encode writes them
    MergeSummary s;
    for (const auto& part : part_paths) {
        EncodingsFile f = read_encodings(part);
        if (first_part.empty()) {
            first_part = part;
            out.model_id = f.model_id;
            out.detector = f.detector;
        } else if (f.model_id != out.model_id) {
            throw Error(part, "made with a different face model (" + f.model_id + ") than " + first_part + " (" +
                                  out.model_id + "); re-encode it with the same models");
        } else if (f.detector != out.detector) {
            throw Error(part, std::string("faces found by the ") + to_string(f.detector) + " detector, but by " +
                                  to_string(out.detector) + " in " + first_part +
                                  "; re-encode it with the same --detector");
        }
        for (auto& r : f.records) {
            auto [it, inserted] = by_path.try_emplace(r.path, Held{r, part});
            if (inserted) continue;
            Held& held = it->second;
            if (held.record.content_hash != r.content_hash)
                throw Error(part, r.path + " has content " + r.content_hash.substr(0, 12) + " here but " +
                                      held.record.content_hash.substr(0, 12) + " in " + held.part +
                                      ": the file changed between shards; re-run the shard");
            ++s.duplicates;
            if (record_bytes(r) < record_bytes(held.record)) held = Held{std::move(r), part};
        }
        ++s.parts;
    }
    out.records.reserve(by_path.size());
    for (auto& [path, held] : by_path) out.records.push_back(std::move(held.record));
    s.records = out.records.size();
    if (summary) *summary = s;
    return out;
}

}  // namespace facepipe
