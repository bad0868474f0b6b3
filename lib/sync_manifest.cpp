#include "sync_manifest.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>
#include <set>

#include "classifier.h"
#include "encodings.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "version.h"

namespace facepipe {
namespace fs = std::filesystem;
using nlohmann::json;
namespace {

std::string utc_now() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

bool is_hex64(const std::string& s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

// The three (bucket name, local path) pairs, in the order they are checked.
std::vector<std::pair<std::string, fs::path>> named(const ArtifactPaths& p) {
    return {{kManifestEncodings, p.encodings}, {kManifestModel, p.model}, {kManifestLabels, p.labels}};
}

ManifestFile describe(const fs::path& path) {
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec) throw Error(path.string(), "cannot read: " + ec.message());
    return ManifestFile{sha256_file(path.string()), size};
}

std::size_t ok_records(const EncodingsFile& f) {
    return static_cast<std::size_t>(std::count_if(f.records.begin(), f.records.end(), [](const auto& r) {
        return r.status == EncodeStatus::ok;
    }));
}

// Typed field access: every failure names the field, so a bad manifest says where.
struct Fields {
    const std::string& subject;

    [[noreturn]] void fail(const std::string& what) const { throw Error(subject, "corrupted: " + what); }

    const json& get(const json& obj, const std::string& key, const std::string& path) const {
        const auto it = obj.find(key);
        if (it == obj.end()) fail(path + key + " is missing");
        return *it;
    }
    std::string str(const json& obj, const std::string& key, const std::string& path = "") const {
        const json& v = get(obj, key, path);
        if (!v.is_string()) fail(path + key + " is not a string");
        auto s = v.get<std::string>();
        if (s.size() > 4096) fail(path + key + " is too long");
        return s;
    }
    std::uint64_t count(const json& obj, const std::string& key, const std::string& path = "") const {
        const json& v = get(obj, key, path);
        if (!v.is_number_unsigned()) fail(path + key + " is not a non-negative integer");
        return v.get<std::uint64_t>();
    }
};

}  // namespace

ArtifactPaths artifacts_in(const fs::path& dir) {
    return {dir / kManifestEncodings, dir / kManifestModel, dir / kManifestLabels};
}

SyncManifest make_manifest(const ArtifactPaths& paths) {
    SyncManifest m;
    m.created = utc_now();
    m.facepipe = facepipe_version();
    for (const auto& [name, path] : named(paths)) m.files[name] = describe(path);
    const EncodingsFile enc = read_encodings(paths.encodings.string());
    const Classifier model = Classifier::load(paths.model.string(), paths.labels.string());
    require_same_model(paths.model.string(), model.model_id(), enc.model_id);
    m.model_id = model.model_id();
    m.training_id = model.training_id();
    m.people = model.names().size();
    m.encodings = ok_records(enc);
    return m;
}

std::string to_json(const SyncManifest& m) {
    json files = json::object();
    for (const auto& [name, f] : m.files) files[name] = {{"sha256", f.sha256}, {"bytes", f.bytes}};
    const json j = {{"format", kManifestFormat}, {"version", m.version},   {"created", m.created},
                    {"facepipe", m.facepipe},    {"model_id", m.model_id}, {"training_id", m.training_id},
                    {"people", m.people},        {"encodings", m.encodings}, {"files", files}};
    return j.dump(2) + "\n";
}

SyncManifest parse_manifest(const std::string& text, const std::string& subject) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception&) {
        throw Error(subject, "not a facepipe sync manifest (not JSON)");
    }
    if (!j.is_object() || !j.contains("format") || j["format"] != kManifestFormat)
        throw Error(subject, "not a facepipe sync manifest (no \"format\": \"" + std::string(kManifestFormat) + "\")");
    const Fields f{subject};
    const json& version = f.get(j, "version", "");
    if (!version.is_number_integer() || version.get<std::int64_t>() < 1) f.fail("version is not a positive integer");
    if (version.get<std::int64_t>() > kManifestVersion)
        throw Error(subject, "manifest version " + std::to_string(version.get<std::int64_t>()) +
                                 " is newer than this facepipe supports (" + std::to_string(kManifestVersion) +
                                 "); upgrade facepipe");
    SyncManifest m;
    m.version = version.get<int>();
    m.created = f.str(j, "created");
    m.facepipe = f.str(j, "facepipe");
    m.model_id = f.str(j, "model_id");
    m.training_id = f.str(j, "training_id");
    if (!is_hex64(m.training_id)) f.fail("training_id is not 64 hex digits");
    m.people = f.count(j, "people");
    m.encodings = f.count(j, "encodings");
    const json& files = f.get(j, "files", "");
    if (!files.is_object()) f.fail("files is not an object");
    const std::set<std::string> expected{kManifestEncodings, kManifestModel, kManifestLabels};
    for (const auto& [name, entry] : files.items())
        if (!expected.count(name)) f.fail("files names an unexpected file '" + name + "'");
    for (const auto& name : expected) {
        const std::string path = "files." + name + ".";
        const json& entry = f.get(files, name, "files.");
        if (!entry.is_object()) f.fail(path.substr(0, path.size() - 1) + " is not an object");
        ManifestFile mf{f.str(entry, "sha256", path), f.count(entry, "bytes", path)};
        if (!is_hex64(mf.sha256)) f.fail(path + "sha256 is not 64 hex digits");
        m.files[name] = mf;
    }
    return m;
}

SyncManifest read_manifest(const fs::path& path) {
    return parse_manifest(read_file(path.string(), kMaxManifestBytes), path.string());
}

void verify_manifest(const SyncManifest& m, const ArtifactPaths& paths) {
    // Sizes and checksums first: cheap, and they catch torn or mixed downloads
    // before anything is parsed.
    for (const auto& [name, path] : named(paths)) {
        const auto it = m.files.find(name);
        if (it == m.files.end()) throw Error("manifest", "lists no " + name);
        const ManifestFile& want = it->second;
        const ManifestFile got = describe(path);
        if (got.bytes != want.bytes)
            throw Error(path.string(), "size " + std::to_string(got.bytes) + " bytes, the manifest says " +
                                           std::to_string(want.bytes) + " (incomplete or mixed transfer?)");
        if (got.sha256 != want.sha256) throw Error(path.string(), "checksum differs from the manifest");
    }
    const EncodingsFile enc = read_encodings(paths.encodings.string());
    const Classifier model = Classifier::load(paths.model.string(), paths.labels.string());
    if (model.training_id() != m.training_id)
        throw Error(paths.model.string(), "training id " + model.training_id() + " differs from the manifest's");
    if (model.model_id() != m.model_id || enc.model_id != m.model_id)
        throw Error(paths.model.string(), "face model id differs from the manifest's");
    if (model.names().size() != m.people || ok_records(enc) != m.encodings)
        throw Error(paths.encodings.string(), "people or encodings count differs from the manifest's");
}

}  // namespace facepipe
