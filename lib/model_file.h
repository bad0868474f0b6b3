// model_file.h — model.bin and labels.bin: what a trained model is, and the one
// place that reads and writes it.
//
// model.bin (container.h): magic "FPMODEL\0", version 3 or 4. Payload, in order:
//   model id (face model checksums), [version 4: the detector (u8, DetectorKind)
//   that found the gallery's faces], k (u32), vote (u8), per-person m (u32),
//   threshold (f32), how it was chosen (string), label count (u32),
//   source photos (count + strings), rows (count; each: label i32, source i32,
//   128 f32), the index section, the training id (64 hex).
//   Index section: kind u8 (0 none, 2 HNSW graph); for HNSW: M (u32),
//   efSearch (u32), entry point (i32), top level (i32), each row's level count
//   (count + i32s), the neighbour slots (count + i32s): GalleryIndex::Layout.
//   Version 1 has no index section and loads as exact search; version 2 with
//   kind 0 loads too; version 2's kind 1 (an IVF index no longer read) asks to
//   re-run train. A model of hog's faces is written as version 3 (byte for byte
//   as before the detector existed) and any other detector's as version 4;
//   versions 1-3 read as hog.
// labels.bin: magic "FPLABELS", version 1. Payload: the training id, then the
//   label names (count + strings).
// The training id is the SHA-256 of model.bin's payload without the id, followed
// by labels.bin's names section: the two files of one training run carry the
// same id, so a pair from different runs is refused instead of mislabelling.
#pragma once
#include <string>

#include "gallery.h"

namespace facepipe {

// The threshold used when calibration is impossible (train.h).
inline constexpr float kDefaultThreshold = 0.5f;

// Everything model.bin + labels.bin hold.
struct TrainedModel {
    std::string model_id;          // copied from the encodings (face model checksums)
    DetectorKind detector = DetectorKind::hog;  // copied from the encodings: what found the gallery's faces
    std::string training_id;       // training_id_of(*this)
    VoteParams vote;
    float threshold = kDefaultThreshold;  // a face farther than this from its match is unknown
    std::string threshold_source;  // how the threshold was chosen, for people (train.h)
    Gallery gallery;
};

// ensures: "" when the model is usable: a non-empty gallery with at least one
//          label, k >= 1, m >= 1, a known vote, a threshold finite in (0, 2], a
//          training id. Else a short reason. (The gallery checks itself.)
std::string model_problem(const TrainedModel& m);

// The SHA-256 (hex) that ties labels.bin to model.bin: of both files' contents
// minus the id itself (see the top of this file).
std::string training_id_of(const TrainedModel& m);

// requires: model_problem(m) == "" (else Error(model_path, "refusing to write an invalid model: ...")).
// ensures:  both files written in full beside their paths first (a full disk
//           or any write error changes neither: Error(path, cause), no temporary
//           left), then model.bin, then labels.bin, each replaced atomically
//           (mode 0600). A crash between the two renames leaves a new model
//           with old labels, which load_model refuses by training id.
void save_model(const TrainedModel& m, const std::string& model_path, const std::string& labels_path);

// ensures: the pair's model, every field checked before use (gallery, index
//          and model_problem). Throws ModelError(path, cause) for every failure:
//          container errors (container.h), "corrupted: ..." for bad contents,
//          and labels_path "does not belong to <model_path> ...; re-run train"
//          when the training ids differ.
TrainedModel load_model(const std::string& model_path, const std::string& labels_path);

}  // namespace facepipe
