// Fuzzes pairs.txt, the verification protocol `facepipe eval --pairs` reads
// (parse_pairs, lib/pairs.h; read_pairs is read_file + parse_pairs).
#include <cstdint>
#include <string>

#include "error.h"
#include "fuzz_util.h"
#include "pairs.h"

using namespace facepipe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const PairsFile pf = parse_pairs(std::string(fuzz::view(data, size)), "pairs.txt");
        // ensures: folds x 2 x n pairs, each with valid image numbers and names
        if (pf.pairs.size() != std::size_t(pf.folds) * pf.per_fold * 2) __builtin_trap();
        for (const auto& p : pf.pairs) {
            if (p.a.index < 1 || p.a.index > 9999 || p.b.index < 1 || p.b.index > 9999) __builtin_trap();
            if (p.fold < 0 || p.fold >= pf.folds) __builtin_trap();
            (void)pair_image_stem(p.a);
        }
    } catch (const Error&) {
    }
    return 0;
}
