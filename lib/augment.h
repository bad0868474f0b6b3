// augment.h — `facepipe augment`: make varied copies of each original photo so
// that a person with few photos still gets a spread of descriptors.
//
// Copies live beside the originals (layout in dataset.h), named after the
// original's filename and hash, the copy index and the op, so a run can tell
// which outputs are already there, which are stale, and which to make.
#pragma once
#include <opencv2/core.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "progress.h"

namespace facepipe {

// The op names, in their canonical order:
//   flip                 horizontal mirror
//   rotate               3..12 degrees either way, reflected border
//   brightness_contrast  gain 1 +- 0.1..0.25, offset +- 5..30
//   gamma                0.6..0.85 or 1.2..1.6
//   blur                 gaussian, sigma 0.8..1.6
//   noise                gaussian, sigma 4..10 (per channel)
//   jpeg                 re-encode at quality 20..50 and decode
//   scale_crop           crop 2..10% of each axis off random sides, resize back
//   grayscale            luminance copied to all three channels
const std::vector<std::string>& augmentation_ops();

// apply_augmentation(bgr, op, rng)
//   requires: bgr is a non-empty CV_8UC3 image.
//   ensures:  returns a new CV_8UC3 image of the same size, with the op applied;
//             the parameters are drawn from rng only, in a way that does not
//             depend on the standard library (same seed, same pixels).
//   throws:   std::invalid_argument for an unknown op or a bad image.
cv::Mat apply_augmentation(const cv::Mat& bgr, const std::string& op, std::mt19937_64& rng);

struct AugmentOptions {
    int copies = 5;                // per original, 0..100
    std::uint64_t seed = 1;
    std::vector<std::string> ops;  // empty = all; order and repeats do not matter
    bool prune = true;             // remove stale copies (see augment_dataset)
    int threads = 0;               // 0 = all cores
};

struct AugmentSummary {
    int originals = 0;  // originals found
    int created = 0;    // copies written this run
    int kept = 0;       // copies already there with the right name
    int pruned = 0;     // stale copies removed
    int failed = 0;     // originals that could not be loaded or copies not written
    std::vector<std::string> errors;    // one line each, "path: cause"
    std::vector<std::string> warnings;  // from the dataset scan, one line each
    int left_out = 0;                   // dataset entries left out as unreadable (DatasetScan::left_out)
};

// augment_dataset(root, options, progress)
//   requires: root is a dataset folder (dataset.h).
//   ensures:  for each original and each k < copies there is a file
//             <person>/augmented/augmented_name(original, copy_tag(sha256, seed), k, op_k), JPEG
//             quality 95, mode 0600, written atomically. Existing files with that
//             name are kept, not rewritten, so a re-run creates nothing.
//             op_k = ops[(k + offset) % ops.size()], with ops in canonical order
//             and offset and copy k's RNG derived from (seed, original's sha256,
//             k) only: the output is byte-identical for a seed whatever the
//             order, the thread count, or the other photos; copies == ops.size()
//             uses every op once.
//             With prune, removes files in augmented/ folders whose name parses
//             but whose original is gone or has changed (hash prefix differs),
//             whose copy index >= copies, or whose op is not chosen. Copies of an
//             original that failed to load are left alone; files whose names do
//             not parse are never removed. Originals are never written.
//             An original that fails counts in `failed` with its one-line error;
//             the batch goes on.
//   throws:   Error("--copies", ...) / Error("--ops", ...) for bad options;
//             Error(root, "no such dataset folder").
// The hash whose first 8 hex digits tag an original's copies: it depends on the
// original's bytes and the seed, so editing the photo or changing --seed gives
// new names, and the old copies are recognisably stale (pruned, not kept).
std::string copy_tag(const std::string& original_sha256, std::uint64_t seed);

AugmentSummary augment_dataset(const std::filesystem::path& root, const AugmentOptions& options,
                               const ProgressCallback& progress = {});  // called after each original,
                                                                        // never concurrently

}  // namespace facepipe
