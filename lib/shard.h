// shard.h — sharded encoding: `facepipe encode --shard I/N` encodes only its
// share of a dataset, and `facepipe merge` combines the partial files into the
// encodings.bin a single-machine `encode` of the same dataset would write.
//
// The partition is by a stable hash of each image's dataset-relative path (the
// first 8 bytes of its SHA-256, as a big-endian integer, modulo N). It depends on
// nothing but the path and N: not on the machine, the file system's listing
// order, the compiler's std::hash or what else is in the dataset. So every
// shard of a job array agrees on who encodes what without talking to the
// others, and a re-run of shard I finds its own previous partial file and
// recomputes nothing unchanged (encode's usual incremental rule, per shard).
//
// A partial file is an ordinary encodings.bin (encodings.h) holding the records
// of one shard: train, merge and encode's incremental reuse all read it as is.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "encodings.h"

namespace facepipe {

// Largest N accepted: far beyond any job array, small enough to catch typos.
inline constexpr int kMaxShards = 100000;

struct Shard {
    int index = 0;  // 0-based, as Slurm's --array=0-(N-1) and Kubernetes' JOB_COMPLETION_INDEX
    int count = 1;  // 1 = the whole dataset
    bool whole() const { return count == 1; }
};

// parse_shard(text, subject)
//   ensures: the shard of "I/N" with 0 <= I < N <= kMaxShards, decimal digits
//            only; otherwise throws Error(subject, "<why>; expected I/N with 0 <= I < N").
Shard parse_shard(const std::string& text, const std::string& subject = "--shard");

// shard_of(rel_path, count)
//   requires: count >= 1.
//   ensures:  the shard in [0, count) that owns rel_path (see above); stable
//             across runs, machines and facepipe versions.
int shard_of(std::string_view rel_path, int count);

bool in_shard(std::string_view rel_path, const Shard& shard);

struct MergeSummary {
    std::size_t parts = 0;
    std::size_t records = 0;     // in the merged file
    std::size_t duplicates = 0;  // records dropped because another part had the same path and content
};

// merge_encodings(part_paths, summary)
//   requires: at least one part.
//   ensures:  one EncodingsFile holding every record of every part once, sorted by
//             path (the order `encode` writes), so writing it gives the same bytes as a
//             single-machine encode of the same dataset with the same models and
//             options, whatever the order of the parts. A record present in several
//             parts with the same path and content hash (overlapping or re-run
//             shards) is kept once; if those copies differ (descriptors computed on
//             another CPU can differ in the last bits) the one with the lowest bytes
//             is kept, so the result still does not depend on the order of the parts.
//   throws:  Error(part, cause) when a part cannot be read (encodings.h); Error(part,
//            "made with a different face model ...") when parts' model ids differ;
//            Error(part, "faces found by the <d1> detector, but by <d2> in <first
//            part>; ...") when parts' detectors differ (a merge never mixes them);
//            Error(part, "<path> has content <h1> here but <h2> in <other part>: the
//            file changed between shards; re-run the shard") for a path whose content
//            differs between parts.
EncodingsFile merge_encodings(const std::vector<std::string>& part_paths, MergeSummary* summary = nullptr);

}  // namespace facepipe
