// pairs.h — LFW's pairs.txt, the verification protocol `facepipe eval` scores
// (eval.h). Its own module so that the parser of these outside bytes can be
// fuzzed (tests/fuzz/) without the rest of eval.
#pragma once
#include <string>
#include <vector>

namespace facepipe {

// One photo of a pairs file: ROOT/name/name_NNNN.<any image extension>, 1-based.
struct PairImage {
    std::string name;
    int index = 0;
};

struct Pair {
    PairImage a, b;
    bool same = false;  // a same-person line "name i j"
    int fold = 0;       // 0-based
    int line = 0;       // 1-based line in the pairs file, for messages
};

struct PairsFile {
    int folds = 0;
    int per_fold = 0;         // n: same-person pairs, and again different-person pairs, per fold
    std::vector<Pair> pairs;  // in file order: fold by fold, n same then n different
};

// parse_pairs(text, path)
//   ensures: the pairs of LFW's pairs.txt format. Line 1 is "folds n" (two
//            integers, folds >= 2, n >= 1); then, for each fold, n lines
//            "name i j" then n lines "name1 i name2 j". Fields are separated by
//            spaces or tabs; a trailing CR is ignored; blank lines may only end
//            the file. Names must be safe person names (dataset.h), indices in
//            1..9999, and a different-person line must name two people.
//   throws:  Error("<path>:<line>", cause) at the first malformed line, and
//            Error(path, ...) when lines are missing.
PairsFile parse_pairs(const std::string& text, const std::string& path);

// The same for a file; Error(path, cause) when it cannot be read.
PairsFile read_pairs(const std::string& path);

// "name/name_0001": a photo's path under ROOT without its extension.
std::string pair_image_stem(const PairImage& image);
}  // namespace facepipe
