// End-to-end: `encode --shard I/N` + `merge` against a single-machine encode, on the
// shared photos, through the real binary.
//
// Byte-for-byte, not record-for-record: encode writes records sorted by path and
// each image's descriptor is computed the same way whichever process owns it, so
// the merged file must be the very same bytes (same checksum), which is also what
// sync.sh's manifest and train's training_id see.
#include <doctest/doctest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "e2e.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe::test;

TEST_CASE("slow e2e: a 4-shard encode merged in any order equals a single encode") {
    SKIP_IF(shared_data_missing({"faces"}));
    const fs::path shared = shared_data();
    TempDir tmp;
    const fs::path work = tmp / "work";
    fs::create_directories(work);
    fs::copy(shared / "faces", work / "dataset", fs::copy_options::recursive);
    fs::remove(work / "dataset" / "SOURCES.md");
    const std::vector<std::string> common = {"-d", "dataset", "--originals-only", "-j", "2", "--format", "json"};
    auto encode = [&](std::vector<std::string> extra) {
        std::vector<std::string> args = {"encode"};
        args.insert(args.end(), common.begin(), common.end());
        args.insert(args.end(), extra.begin(), extra.end());
        return run_facepipe_m(args, work);
    };

    auto r = encode({"-o", "single.bin"});
    INFO("single encode: ", r.out, r.err);
    REQUIRE(r.exit_code == 0);

    int images = 0;
    std::vector<std::string> parts;
    for (int i = 0; i < 4; ++i) {
        parts.push_back("part" + std::to_string(i) + ".bin");
        r = encode({"--shard", std::to_string(i) + "/4", "-o", parts.back()});
        INFO("shard ", i, ": ", r.out, r.err);
        REQUIRE(r.exit_code == 0);
        images += nlohmann::json::parse(r.out)["images"].get<int>();
    }
    CHECK(nlohmann::json::parse(r.out)["reused"] == 0);
    CHECK(images == nlohmann::json::parse(encode({"-o", "single.bin"}).out)["images"]);  // each image in one shard

    // Incremental per shard: re-running one recomputes nothing.
    r = encode({"--shard", "3/4", "-o", "part3.bin"});
    CHECK(r.exit_code == 0);
    CHECK(nlohmann::json::parse(r.out)["encoded"] == 0);

    const std::string expected = slurp(work / "single.bin");
    std::sort(parts.begin(), parts.end());
    int orders = 0;
    do {
        if (++orders % 6 != 1) continue;  // 4 of the 24 orders: each part first once
        std::vector<std::string> args = {"merge"};
        args.insert(args.end(), parts.begin(), parts.end());
        args.insert(args.end(), {"--output", "merged.bin"});
        r = run_facepipe(args, work);
        INFO("merge: ", r.out, r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(r.out.find("merged 4 parts") != std::string::npos);
        CHECK(slurp(work / "merged.bin") == expected);
    } while (std::next_permutation(parts.begin(), parts.end()));

    // A part that is not an encodings file is refused, naming it; a bad --shard is a usage error.
    spit(work / "not-encodings.bin", "garbage");
    r = run_facepipe({"merge", "part0.bin", "not-encodings.bin", "-o", "bad.bin"}, work);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("not-encodings.bin: ") != std::string::npos);
    CHECK_FALSE(fs::exists(work / "bad.bin"));
    CHECK(encode({"--shard", "4/4", "-o", "x.bin"}).exit_code == 2);
}
