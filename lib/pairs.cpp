#include "pairs.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "dataset.h"
#include "error.h"
#include "fsutil.h"

namespace facepipe {
namespace {

std::vector<std::string> split_fields(const std::string& line) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        std::size_t j = i;
        while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
        if (j > i) out.push_back(line.substr(i, j - i));
        i = j;
    }
    return out;
}

// A decimal integer in [lo, hi]; digits only (no sign, no spaces).
int parse_int(const std::string& text, int lo, int hi, const std::string& subject, const std::string& what) {
    const bool digits = !text.empty() && text.size() <= 9 &&
                        std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    const long v = digits ? std::strtol(text.c_str(), nullptr, 10) : -1;
    if (!digits || v < lo || v > hi)
        throw Error(subject, what + " '" + text + "' is not an integer in " + std::to_string(lo) + ".." +
                                 std::to_string(hi));
    return static_cast<int>(v);
}

PairImage parse_image(const std::string& name, const std::string& index, const std::string& subject) {
    std::string why;
    if (!is_safe_person_name(name, &why)) throw Error(subject, "bad name '" + name + "': " + why);
    return PairImage{name, parse_int(index, 1, 9999, subject, "image number")};
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(std::move(line));
        start = end + 1;
    }
    return lines;
}

}  // namespace

PairsFile parse_pairs(const std::string& text, const std::string& path) {
    const auto lines = split_lines(text);
    auto at = [&](std::size_t i) { return path + ":" + std::to_string(i + 1); };
    if (lines.empty()) throw Error(path, "empty pairs file (expected a header 'folds n')");
    const auto header = split_fields(lines[0]);
    if (header.size() != 2) throw Error(at(0), "expected a header 'folds n' (two numbers)");
    PairsFile pf;
    pf.folds = parse_int(header[0], 2, 1000, at(0), "folds");
    pf.per_fold = parse_int(header[1], 1, 1000000, at(0), "pairs per fold");
    const std::size_t expected = std::size_t(pf.folds) * pf.per_fold * 2;
    if (lines.size() - 1 < expected) {
        std::size_t present = 0;
        for (std::size_t i = 1; i < lines.size(); ++i) present += !split_fields(lines[i]).empty();
        throw Error(path, "expected " + std::to_string(expected) + " pair lines (" + std::to_string(pf.folds) +
                              " folds x 2 x " + std::to_string(pf.per_fold) + "), found " + std::to_string(present));
    }
    pf.pairs.reserve(expected);
    for (std::size_t k = 0; k < expected; ++k) {
        const std::size_t li = k + 1;
        const auto f = split_fields(lines[li]);
        const bool same = (k / pf.per_fold) % 2 == 0;  // each fold: n same-person lines, then n different
        Pair p;
        p.same = same;
        p.fold = static_cast<int>(k / (2 * std::size_t(pf.per_fold)));
        p.line = static_cast<int>(li + 1);
        if (f.empty()) throw Error(at(li), "blank line among the pairs");
        if (same) {
            if (f.size() != 3)
                throw Error(at(li), "expected a same-person line 'name i j' (fold " + std::to_string(p.fold + 1) +
                                        "), found " + std::to_string(f.size()) + " fields");
            p.a = parse_image(f[0], f[1], at(li));
            p.b = parse_image(f[0], f[2], at(li));
        } else {
            if (f.size() != 4)
                throw Error(at(li), "expected a different-person line 'name1 i name2 j' (fold " +
                                        std::to_string(p.fold + 1) + "), found " + std::to_string(f.size()) + " fields");
            p.a = parse_image(f[0], f[1], at(li));
            p.b = parse_image(f[2], f[3], at(li));
            if (p.a.name == p.b.name) throw Error(at(li), "a different-person line names '" + p.a.name + "' twice");
        }
        pf.pairs.push_back(std::move(p));
    }
    for (std::size_t li = expected + 1; li < lines.size(); ++li)
        if (!split_fields(lines[li]).empty())
            throw Error(at(li), "more pair lines than the header's " + std::to_string(expected));
    return pf;
}

PairsFile read_pairs(const std::string& path) { return parse_pairs(read_file(path, 64ull << 20), path); }

std::string pair_image_stem(const PairImage& img) {
    char num[8];
    std::snprintf(num, sizeof num, "%04d", img.index);
    return img.name + "/" + img.name + "_" + num;
}

}  // namespace facepipe
