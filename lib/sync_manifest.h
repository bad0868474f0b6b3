// sync_manifest.h — manifest.json, which travels with the artifacts to and from
// a bucket (scripts/sync.sh), so that a pull can prove it got exactly the files
// that were pushed, together, before any of them replaces a local one.
//
// Format (JSON, written by facepipe, strictly checked when read):
//   {"format": "facepipe-sync-manifest", "version": 1,
//    "created": "2026-11-28T01:02:03Z", "facepipe": "0.1.0",
//    "model_id": "<face models, models.h>", "training_id": "<64 hex, classifier.h>",
//    "people": 13, "encodings": 324,
//    "files": {"encodings.bin": {"sha256": "<64 hex>", "bytes": 123},
//              "model.bin": {...}, "labels.bin": {...}}}
// "training_id" is the model version: it names model.bin + labels.bin by their
// contents. "encodings" counts the records with a descriptor, "people" the
// labels of the model. Unknown keys are ignored (a later minor addition);
// a higher "version" is refused.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

namespace facepipe {

inline constexpr const char* kManifestFormat = "facepipe-sync-manifest";
inline constexpr int kManifestVersion = 1;
inline constexpr std::uint64_t kMaxManifestBytes = 1 << 20;

// The artifact names inside the bucket (and in a manifest's folder).
inline constexpr const char* kManifestEncodings = "encodings.bin";
inline constexpr const char* kManifestModel = "model.bin";
inline constexpr const char* kManifestLabels = "labels.bin";

struct ManifestFile {
    std::string sha256;  // 64 lower-case hex digits
    std::uint64_t bytes = 0;
};

struct SyncManifest {
    int version = kManifestVersion;
    std::string created;  // UTC, ISO 8601
    std::string facepipe;
    std::string model_id;
    std::string training_id;
    std::uint64_t people = 0;
    std::uint64_t encodings = 0;
    std::map<std::string, ManifestFile> files;  // exactly the three names above
};

// Where the three artifacts are (their names there may differ from the bucket's).
struct ArtifactPaths {
    std::filesystem::path encodings = "encodings.bin";
    std::filesystem::path model = "model.bin";
    std::filesystem::path labels = "labels.bin";
};

// The artifacts with their bucket names inside `dir`.
ArtifactPaths artifacts_in(const std::filesystem::path& dir);

// make_manifest(paths)
//   ensures: a manifest of the files as they are now: their sizes and SHA-256,
//            and, from reading them fully (read_encodings, Classifier::load), the
//            training id, model id and counts; "created" is now.
//   throws:  Error(file, cause) when a file is missing or invalid, or when the
//            encodings and the model were made with different face models.
SyncManifest make_manifest(const ArtifactPaths& paths);

// The manifest as JSON text (one object, ends with a newline).
std::string to_json(const SyncManifest& m);

// parse_manifest(text, subject)
//   ensures: the manifest, every field present with the right type and range:
//            format string, 1 <= version <= kManifestVersion, hex digests,
//            exactly the three artifact names in "files".
//   throws:  Error(subject, cause) otherwise, e.g. "not a facepipe sync manifest",
//            "manifest version 2 is newer than this facepipe supports (1); upgrade
//            facepipe", "corrupted: files.model.bin.sha256 is not 64 hex digits".
SyncManifest parse_manifest(const std::string& text, const std::string& subject);

// read_manifest(path): read_file (at most kMaxManifestBytes) + parse_manifest.
SyncManifest read_manifest(const std::filesystem::path& path);

// verify_manifest(m, paths)
//   ensures: returns only when each file has the manifest's size and SHA-256 and
//            the files load (encodings, model + labels as a pair) and agree with
//            the manifest's training id, model id and counts.
//   throws:  Error(file, cause) for the first file that does not, e.g.
//            "size 10 bytes, the manifest says 20 (incomplete download?)" or
//            "checksum differs from the manifest".
void verify_manifest(const SyncManifest& m, const ArtifactPaths& paths);

}  // namespace facepipe
