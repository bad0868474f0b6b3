// Tests of lib/shard.h: the shard partition and merging partial encodings files.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "error.h"
#include "hash.h"
#include "shard.h"
#include "testutil.h"

using namespace facepipe;

namespace {

EncodingRecord rec(const std::string& path, float seed) {
    EncodingRecord r;
    r.person = path.substr(0, path.find('/'));
    r.path = r.source = path;
    r.content_hash = sha256_hex(path);
    r.faces_found = 1;
    r.box = {1, 2, 30, 40};
    for (int i = 0; i < kDescriptorDim; ++i) r.descriptor[i] = seed + 0.001f * i;
    return r;
}

std::vector<std::string> dataset_paths() {
    std::vector<std::string> paths;
    for (int p = 0; p < 10; ++p)
        for (int i = 0; i < 20; ++i) paths.push_back("person" + std::to_string(p) + "/img" + std::to_string(i) + ".jpg");
    return paths;
}

}  // namespace

TEST_CASE("parse_shard accepts I/N and refuses anything else") {
    CHECK(parse_shard("0/1").whole());
    const Shard s = parse_shard("3/4");
    CHECK(s.index == 3);
    CHECK(s.count == 4);
    for (const char* bad : {"", "4/4", "1", "-1/4", "1/0", "a/4", "1/4x", " 1/4", "1/1000000", "1/4/5"}) {
        CAPTURE(bad);
        CHECK_THROWS_WITH_AS(parse_shard(bad), doctest::Contains("expected I/N with 0 <= I < N"), Error);
    }
}

TEST_CASE("shard_of is a stable, even partition by path") {
    // Pinned: a change would silently re-partition every cluster's partial files.
    CHECK(shard_of("obama/obama.jpg", 4) == shard_of("obama/obama.jpg", 4));
    CHECK(shard_of("obama/obama.jpg", 1) == 0);
    const auto digest = sha256_raw("obama/obama.jpg");
    std::uint64_t v = 0;
    for (int b = 0; b < 8; ++b) v = v << 8 | static_cast<unsigned char>(digest[b]);
    CHECK(shard_of("obama/obama.jpg", 7) == static_cast<int>(v % 7));

    const auto paths = dataset_paths();
    for (int n : {2, 4, 7}) {
        CAPTURE(n);
        std::vector<int> sizes(n, 0);
        for (const auto& p : paths) {
            int owners = 0;
            for (int i = 0; i < n; ++i) owners += in_shard(p, Shard{i, n});
            CHECK(owners == 1);  // every path in exactly one shard
            ++sizes[shard_of(p, n)];
        }
        const int expected = static_cast<int>(paths.size()) / n;
        for (int size : sizes) CHECK(std::abs(size - expected) < expected / 2 + 5);
    }
}

TEST_CASE("merge of shards equals the whole file, byte for byte, in any order") {
    test::TempDir dir;
    EncodingsFile whole{"model-a", {}};
    for (const auto& p : dataset_paths()) whole.records.push_back(rec(p, float(whole.records.size())));
    std::sort(whole.records.begin(), whole.records.end(), [](auto& a, auto& b) { return a.path < b.path; });
    write_encodings((dir / "whole.bin").string(), whole);

    std::vector<std::string> parts;
    for (int i = 0; i < 4; ++i) {
        EncodingsFile part{"model-a", {}};
        for (const auto& r : whole.records)
            if (in_shard(r.path, Shard{i, 4})) part.records.push_back(r);
        std::reverse(part.records.begin(), part.records.end());  // merge must not rely on the parts' order
        parts.push_back((dir / ("part" + std::to_string(i) + ".bin")).string());
        write_encodings(parts.back(), part);
    }
    const std::string expected = test::slurp_file(dir / "whole.bin");
    std::sort(parts.begin(), parts.end());
    do {
        MergeSummary s;
        write_encodings((dir / "merged.bin").string(), merge_encodings(parts, &s));
        CHECK(test::slurp_file(dir / "merged.bin") == expected);
        CHECK(s.parts == 4);
        CHECK(s.records == whole.records.size());
        CHECK(s.duplicates == 0);
    } while (std::next_permutation(parts.begin(), parts.end()));
}

TEST_CASE("merge keeps one copy of a duplicate, the same one whatever the order") {
    test::TempDir dir;
    const auto a = (dir / "a.bin").string(), b = (dir / "b.bin").string();
    EncodingRecord x = rec("amy/1.jpg", 0.1f), y = x;
    y.descriptor[0] += 1e-6f;  // the same photo encoded on another CPU
    write_encodings(a, EncodingsFile{"m", {x, rec("amy/2.jpg", 0.2f)}});
    write_encodings(b, EncodingsFile{"m", {y, rec("bob/3.jpg", 0.3f)}});
    MergeSummary s;
    const EncodingsFile ab = merge_encodings({a, b}, &s), ba = merge_encodings({b, a});
    CHECK(s.duplicates == 1);
    REQUIRE(ab.records.size() == 3);
    REQUIRE(ba.records.size() == 3);
    CHECK(ab.records[0].descriptor == ba.records[0].descriptor);
    CHECK(ab.records[1].path == "amy/2.jpg");
    CHECK(ab.records[2].path == "bob/3.jpg");
}

TEST_CASE("merge refuses other models, changed files and unreadable parts") {
    test::TempDir dir;
    const auto a = (dir / "a.bin").string(), b = (dir / "b.bin").string(), c = (dir / "c.bin").string();
    write_encodings(a, EncodingsFile{"model-a", {rec("amy/1.jpg", 0.1f)}});
    write_encodings(b, EncodingsFile{"model-b", {rec("bob/1.jpg", 0.1f)}});
    CHECK_THROWS_WITH_AS(merge_encodings({a, b}), doctest::Contains("made with a different face model"), Error);

    EncodingRecord changed = rec("amy/1.jpg", 0.1f);
    changed.content_hash = sha256_hex("new bytes");
    write_encodings(c, EncodingsFile{"model-a", {changed}});
    CHECK_THROWS_WITH_AS(merge_encodings({a, c}), doctest::Contains("the file changed between shards"), Error);

    test::TempDir other;
    CHECK_THROWS_WITH_AS(merge_encodings({a, (other / "missing.bin").string()}), doctest::Contains("cannot open"),
                         Error);
    CHECK_THROWS_AS(merge_encodings({}), Error);
}

TEST_CASE("merge refuses parts whose faces different detectors found") {
    test::TempDir dir;
    const auto a = (dir / "a.bin").string(), b = (dir / "b.bin").string();
    write_encodings(a, EncodingsFile{"m", {rec("amy/1.jpg", 0.1f)}});
    write_encodings(b, EncodingsFile{"m", {rec("bob/1.jpg", 0.2f)}, DetectorKind::ssd});
    CHECK_THROWS_WITH_AS(merge_encodings({a, b}),
                         doctest::Contains((b + ": faces found by the ssd detector, but by hog in " + a +
                                            "; re-encode it with the same --detector").c_str()),
                         Error);
    write_encodings(a, EncodingsFile{"m", {rec("amy/1.jpg", 0.1f)}, DetectorKind::ssd});
    const EncodingsFile merged = merge_encodings({a, b});
    CHECK(merged.detector == DetectorKind::ssd);
    CHECK(merged.records.size() == 2);
}
