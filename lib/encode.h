// encode.h — `facepipe encode`: every dataset image to a descriptor, incrementally.
//
// For each image under dataset/<person>/ (originals and augmented/ copies) the
// shared FaceAnalyzer finds the faces, keeps the largest (or, with
// analyzer.choice = centre, the one nearest the centre), and stores its
// descriptor in encodings.bin. A record that kept one of several faces records
// which rule chose it (EncodingRecord::face_choice); a run with the other rule
// re-encodes such records instead of reusing them (see reusable()). Work is
// keyed by the file's SHA-256: unchanged files are not recomputed and deleted
// files are pruned. Each finished image is
// appended to encodings.bin.journal at once, and the next run recovers it, so a
// crash or kill loses none of the work done; encodings.bin itself is only ever
// replaced atomically.
#pragma once
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "encodings.h"
#include "image.h"
#include "progress.h"
#include "recognizer.h"
#include "shard.h"

namespace facepipe {

struct EncodeOptions {
    std::filesystem::path dataset = "dataset";
    std::filesystem::path output = "encodings.bin";
    int threads = 0;                  // 0 = all cores; results do not depend on it (BLAS runs single-threaded)
    bool include_augmented = true;
    bool rebuild = false;             // ignore (and replace) an existing, incompatible or unreadable output
    Shard shard;                      // encode only this share of the images (shard.h); output then holds only it
    AnalyzerOptions analyzer;
    ImageLimits limits;
};

struct EncodeSummary {
    int images = 0;      // images in the dataset (in this shard, when sharded)
    int reused = 0;      // unchanged since the last run
    int encoded = 0;     // computed this run (with or without a face)
    int ok = 0;          // records with a descriptor
    int no_face = 0, unreadable = 0, multi_face = 0;
    int pruned = 0;      // records of files no longer in the dataset
    int left_out = 0;    // dataset entries left out, not readable files (DatasetScan::left_out; warned)
    int people = 0;      // people with at least one descriptor
    double seconds = 0;
    double load_ms = 0;  // reading + decoding, summed over threads
    StageTimes times;    // detect / landmarks / descriptor, summed over threads
    std::vector<std::string> problems;  // one line each, "path: cause" (skips and multi-face notes)
};

// Requires: models loaded (LoadedModels::load). Throws Error when the dataset is
// missing or has no photos, or the existing output is unreadable or from other
// models (unless rebuild). Per-image problems never throw: they are recorded and
// summarised. With a shard, only the images in_shard() are listed, encoded and
// kept: the output is that shard's partial file (an empty shard writes an empty one).
EncodeSummary encode_dataset(const EncodeOptions& options, std::shared_ptr<const LoadedModels> models,
                             const ProgressCallback& progress = {});

// The journal encode_dataset keeps beside its output while it runs (and leaves
// behind when it dies): "<output>.journal".
std::filesystem::path journal_path(const std::filesystem::path& output);

// Whether `previous` (a record of an earlier run) can stand for this run's
// encoding of the same path, whose bytes hash to content_hash, under `choice`:
// ensures: true iff the bytes are the same and, when the photo has several
//          faces (faces_found > 1), previous.face_choice == choice. A
//          multi-face record whose choice is unknown is never reused.
bool reusable(const EncodingRecord& previous, const std::string& content_hash, FaceChoice choice);

// The human summary, two lines: counts and people; wall time, images/s and ms
// per encoded image for each stage. (encode's default `--format table`.)
std::string format_summary(const EncodeSummary& s);

// The summary as one JSON object (`encode --format json`), indented, ending with
// a newline. Fields, stable for scripts:
//   images, encoded, reused, pruned, ok, people, no_face, unreadable,
//   multi_face, left_out  integers, as in EncodeSummary
//   seconds             wall-clock time of the run
//   images_per_second   encoded / seconds (0 when seconds is 0)
//   stage_ms            {load, detect, landmarks, descriptor}: ms summed over threads
//   ms_per_encoded_image  the same divided by max(1, encoded)
//   problems            strings "path: cause", as EncodeSummary::problems
// Bytes of a path that are not UTF-8 become U+FFFD.
std::string format_summary_json(const EncodeSummary& s);

}  // namespace facepipe
