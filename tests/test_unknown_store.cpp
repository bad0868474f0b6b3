// Tests of lib/unknown_store.h: unknown/faces.bin and its crops.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <opencv2/core.hpp>
#include <set>
#include <thread>

#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "testutil.h"
#include "unknown_store.h"

using namespace facepipe;
namespace fs = std::filesystem;

namespace {

doctest::Contains contains(const std::string& s) { return doctest::Contains(s.c_str()); }

UnknownFace face(const std::string& source, float seed) {
    UnknownFace f;
    f.source = source;
    f.box = {10, 20, 80, 90};
    f.distance = 0.71f;
    f.nearest = "obama";
    f.score = 1.25f;
    for (int i = 0; i < kDescriptorDim; ++i) f.descriptor[i] = seed + 0.001f * i;
    return f;
}

cv::Mat crop() { return cv::Mat(40, 30, CV_8UC3, cv::Scalar(20, 120, 200)); }

void write_bytes(const fs::path& p, const std::string& b) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << b;
}

std::string le(std::uint64_t v, int bytes) {
    std::string out;
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return out;
}

std::vector<std::uint64_t> ids_of(const std::vector<UnknownFace>& fs) {
    std::vector<std::uint64_t> out;
    for (const auto& f : fs) out.push_back(f.id);
    return out;
}

}  // namespace

TEST_CASE("unknown store: append, reopen and read back every field") {
    test::TempDir tmp;
    const fs::path dir = tmp / "unknown";
    std::uint64_t a = 0, b = 0;
    {
        UnknownStore store(dir);
        CHECK(store.faces().empty());
        UnknownFace f = face("photos/a.jpg", 0.1f);
        a = store.append(f, crop());
        UnknownFace g = face("video.mp4", 0.2f);
        g.time_s = 12.5;
        g.distance = std::numeric_limits<float>::infinity();
        g.nearest = "";
        g.seen_unix_ms = 1700000000123;
        g.content_hash = std::string(64, 'a');
        b = store.append(g, crop());
    }
    CHECK(a >= 1);
    CHECK(b > a);
    UnknownStore again(dir);
    const auto faces = again.faces();
    REQUIRE(faces.size() == 2);
    CHECK(faces[0].id == a);
    CHECK(faces[0].source == "photos/a.jpg");
    CHECK(faces[0].time_s == -1);
    CHECK(faces[0].box == Box{10, 20, 80, 90});
    CHECK(faces[0].distance == doctest::Approx(0.71f));
    CHECK(faces[0].nearest == "obama");
    CHECK(faces[0].score == doctest::Approx(1.25f));
    CHECK(faces[0].seen_unix_ms > 0);  // set by the store
    CHECK(faces[0].descriptor == face("x", 0.1f).descriptor);
    CHECK(faces[1].id == b);
    CHECK(faces[1].time_s == 12.5);
    CHECK(faces[1].seen_unix_ms == 1700000000123);
    CHECK(std::isinf(faces[1].distance));
    CHECK(faces[1].nearest.empty());
    CHECK(faces[0].content_hash.empty());
    CHECK(faces[1].content_hash == std::string(64, 'a'));
    CHECK(faces[1].crop() == "faces/" + std::to_string(b) + ".jpg");
    CHECK(fs::exists(dir / faces[1].crop()));
}

TEST_CASE("unknown store: an append does not rewrite the file, it adds one record at its end") {
    test::TempDir tmp;
    UnknownStore store(tmp / "u");
    store.append(face("a.jpg", 0.1f), crop());
    const std::string before = test::slurp_file(store.file());
    store.append(face("b.jpg", 0.2f), crop());
    const std::string after = test::slurp_file(store.file());
    REQUIRE(after.size() > before.size());
    CHECK(after.compare(0, before.size(), before) == 0);
}

TEST_CASE("unknown store: files are 0600 and folders 0700") {
    test::TempDir tmp;
    UnknownStore store(tmp / "u");
    const auto id = store.append(face("a.jpg", 0.1f), crop());
    CHECK(test::file_mode(tmp / "u") == 0700);
    CHECK(test::file_mode(tmp / "u" / "faces") == 0700);
    CHECK(test::file_mode(store.file()) == 0600);
    CHECK(test::file_mode(tmp / "u" / ("faces/" + std::to_string(id) + ".jpg")) == 0600);
    CHECK(test::file_mode(unknown_lock_path(tmp / "u")) == 0600);
}

TEST_CASE("unknown store: a record torn at any byte loses that face only, and the next append goes on") {
    test::TempDir tmp;
    const fs::path dir = tmp / "u";
    std::string two, three;
    {
        UnknownStore store(dir);
        store.append(face("a.jpg", 0.1f), crop());
        store.append(face("b.jpg", 0.2f), crop());
        two = test::slurp_file(store.file());
        store.append(face("c.jpg", 0.3f), crop());
        three = test::slurp_file(store.file());
    }
    REQUIRE(three.size() > two.size());
    for (std::size_t cut = two.size(); cut < three.size(); ++cut) {
        CAPTURE(cut);
        write_bytes(dir / "faces.bin", three.substr(0, cut));
        UnknownStore store(dir);
        const auto faces = store.faces();
        REQUIRE(faces.size() == 2);
        CHECK(faces[1].source == "b.jpg");
        if (cut == two.size() + 7 || cut == three.size() - 1) {  // two offsets: the append truncates first
            const auto id = store.append(face("d.jpg", 0.4f), crop());
            const auto now = store.faces();
            REQUIRE(now.size() == 3);
            CHECK(now[2].source == "d.jpg");
            CHECK(now[2].id == id);
            CHECK(id > faces[1].id);
        }
    }
}

TEST_CASE("unknown store: a last record whose checksum fails is a torn tail (a power cut), one before it is an error") {
    test::TempDir tmp;
    const fs::path dir = tmp / "u";
    std::string one;
    {
        UnknownStore store(dir);
        store.append(face("a.jpg", 0.1f), crop());
        one = test::slurp_file(store.file());
        store.append(face("b.jpg", 0.2f), crop());
    }
    std::string bytes = test::slurp_file(dir / "faces.bin");
    std::string last = bytes;
    last[last.size() - 3] ^= 0x40;  // in the last record's descriptor
    write_bytes(dir / "faces.bin", last);
    CHECK(UnknownStore(dir).faces().size() == 1);
    std::string middle = bytes;
    middle[one.size() - 3] ^= 0x40;  // in the first record's descriptor
    write_bytes(dir / "faces.bin", middle);
    CHECK_THROWS_WITH_AS(UnknownStore{dir}, contains("faces.bin: corrupted: record 1 (at byte 52) checksum mismatch"),
                         Error);
}

TEST_CASE("unknown store: hostile files are refused with one line naming the file") {
    test::TempDir tmp;
    const fs::path dir = tmp / "u";
    fs::create_directories(dir);
    const std::string file = (dir / "faces.bin").string();
    const auto refused = [&](const std::string& bytes, const std::string& cause) {
        write_bytes(file, bytes);
        CHECK_THROWS_WITH_AS(UnknownStore{dir}, contains(file + ": " + cause), Error);
    };
    const auto header = [](std::uint32_t version, std::uint64_t next) {
        std::string h = std::string("FPUNKNWN") + le(version, 4) + le(next, 8);
        return h + sha256_raw(h);
    };
    refused("", "empty file");
    refused("FPENCODE" + std::string(60, '\0'), "not a facepipe unknown-faces file (bad magic)");
    refused("FPUNKNWN\x01", "truncated: file ends inside the header (9 of 52 bytes)");
    refused(header(0, 1), "corrupted: format version 0");
    refused(header(2, 1), "format version 2 is newer than this facepipe supports (1); upgrade facepipe");
    std::string bad = header(1, 1);
    bad[14] ^= 1;
    refused(bad, "corrupted: header checksum mismatch");
    // A length far over the cap: refused before anything is allocated for it.
    refused(header(1, 1) + le(0xFFFFFFF0u, 4) + std::string(32, 'x') + std::string(700, 'y'),
            "corrupted: record 1 (at byte 52) claims 4294967280 bytes, outside the possible");
    // A correct checksum around a payload that is not a record.
    const std::string junk(700, 'j');
    refused(header(1, 1) + le(junk.size(), 4) + sha256_raw(junk) + junk + le(junk.size(), 4) + sha256_raw(junk) + junk,
            "corrupted:");
    // Ids that do not increase.
    {
        UnknownStore store(tmp / "v");
        store.append(face("a.jpg", 0.1f), crop());
    }
    const std::string one = test::slurp_file(tmp / "v" / "faces.bin");
    const std::string record = one.substr(kUnknownHeaderBytes);
    refused(header(1, 1) + record + record, "corrupted: record 2 (at byte " +
                                                std::to_string(kUnknownHeaderBytes + record.size()) +
                                                ") has id 1, not above the previous 1");
    // Not a regular file.
    fs::remove(file);
    fs::create_directory(file);
    CHECK_THROWS_AS(UnknownStore{dir}, Error);
}

TEST_CASE("unknown store: the bound keeps the newest faces, drops the crops of the others, and stays amortised") {
    test::TempDir tmp;
    const fs::path dir = tmp / "u";
    UnknownStore store(dir, 10);
    std::vector<std::uint64_t> ids;
    std::size_t largest = 0;
    for (int i = 0; i < 40; ++i) {
        ids.push_back(store.append(face("p" + std::to_string(i) + ".jpg", 0.01f * i), crop()));
        largest = std::max(largest, parse_unknown_faces(test::slurp_file(store.file()), "f").size());
    }
    const auto faces = store.faces();
    REQUIRE(faces.size() == 10);
    CHECK(ids_of(faces) == std::vector<std::uint64_t>(ids.end() - 10, ids.end()));
    CHECK(faces.back().source == "p39.jpg");
    for (std::size_t i = 0; i < ids.size(); ++i) {
        CAPTURE(i);
        CHECK(fs::exists(dir / ("faces/" + std::to_string(ids[i]) + ".jpg")) == (i >= ids.size() - 10));
    }
    // Between compactions the file holds at most max + max/10 records.
    CHECK(largest <= 11);
    // A store reopened with a smaller bound sees fewer; ids never go back.
    UnknownStore small(dir, 3);
    CHECK(small.faces().size() == 3);
    const auto next = small.append(face("q.jpg", 0.5f), crop());
    CHECK(next == ids.back() + 1);
}

TEST_CASE("unknown store: opened without a bound (to review it) it sees and keeps every face a larger --collect-max kept") {
    test::TempDir tmp;
    const fs::path dir = tmp / "u";
    // It used to be opened with the default --collect-max: a store collected with a
    // larger one then showed, and on a removal kept, only its newest 10000 faces.
    const std::size_t n = 30;
    {
        UnknownStore collector(dir, n);
        const cv::Mat tiny(2, 2, CV_8UC3, cv::Scalar(1, 2, 3));
        for (std::size_t i = 0; i < n; ++i) collector.append(face("p" + std::to_string(i) + ".jpg", 0.f), tiny);
    }
    UnknownStore review(dir);
    CHECK(review.max_faces() == kUnboundedStore);
    auto faces = review.faces();
    REQUIRE(faces.size() == n);
    review.remove({faces.front().id});  // a removal (a compaction) drops that face only
    CHECK(UnknownStore(dir).faces().size() == n - 1);
    CHECK_THROWS_AS(UnknownStore(dir, kUnboundedStore + 1), UsageError);
}

TEST_CASE("unknown store: remove drops records and crops, keeps the rest, and never reuses an id") {
    test::TempDir tmp;
    const fs::path dir = tmp / "u";
    UnknownStore store(dir);
    std::vector<std::uint64_t> ids;
    for (int i = 0; i < 5; ++i) ids.push_back(store.append(face("p" + std::to_string(i) + ".jpg", 0.1f * i), crop()));
    store.remove({ids[1], ids[3], 999999});
    CHECK(ids_of(store.faces()) == std::vector<std::uint64_t>{ids[0], ids[2], ids[4]});
    CHECK_FALSE(fs::exists(dir / ("faces/" + std::to_string(ids[1]) + ".jpg")));
    CHECK(fs::exists(dir / ("faces/" + std::to_string(ids[2]) + ".jpg")));
    CHECK(test::file_mode(store.file()) == 0600);
    store.remove({ids[0], ids[2], ids[4]});
    CHECK(store.faces().empty());
    UnknownStore reopened(dir);  // the header remembers the next id
    CHECK(reopened.append(face("z.jpg", 0.9f), crop()) == ids.back() + 1);
}

TEST_CASE("unknown store: appends from two stores on one folder (as two processes) all land, ids unique") {
    test::TempDir tmp;
    const fs::path dir = tmp / "u";
    UnknownStore a(dir), b(dir);
    std::vector<std::uint64_t> got_a, got_b;
    std::thread ta([&] {
        for (int i = 0; i < 20; ++i) got_a.push_back(a.append(face("a" + std::to_string(i) + ".jpg", 0.1f), crop()));
    });
    std::thread tb([&] {
        for (int i = 0; i < 20; ++i) got_b.push_back(b.append(face("b" + std::to_string(i) + ".jpg", 0.2f), crop()));
    });
    ta.join();
    tb.join();
    std::set<std::uint64_t> all(got_a.begin(), got_a.end());
    all.insert(got_b.begin(), got_b.end());
    CHECK(all.size() == 40);
    const auto faces = a.faces();
    CHECK(faces.size() == 40);
    const auto stored = ids_of(faces);
    CHECK(std::set<std::uint64_t>(stored.begin(), stored.end()) == all);
    b.remove({got_a[0]});  // a sees b's compaction (a new file) and appends after it
    const auto id = a.append(face("late.jpg", 0.3f), crop());
    CHECK(a.faces().size() == 40);
    CHECK(a.faces().back().id == id);
}

TEST_CASE("unknown store: refuses invalid faces and an empty crop, and gives the default folder") {
    test::TempDir tmp;
    UnknownStore store(tmp / "u");
    UnknownFace f = face("", 0.1f);
    CHECK_THROWS_WITH_AS(store.append(f, crop()), contains("empty source"), Error);
    f = face("a.jpg", 0.1f);
    f.descriptor[3] = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH_AS(store.append(f, crop()), contains("descriptor value not finite"), Error);
    CHECK_THROWS_WITH_AS(store.append(face("a.jpg", 0.1f), cv::Mat()), contains("empty crop"), Error);
    f = face("a.jpg", 0.1f);
    f.content_hash = std::string(64, 'A');
    CHECK_THROWS_WITH_AS(store.append(f, crop()), contains("content hash is not 64 lower-case hex digits"), Error);
    CHECK(store.faces().empty());
    CHECK(default_unknown_dir("models/model.bin") == fs::path("models/unknown"));
    CHECK(default_unknown_dir("model.bin") == fs::path("./unknown"));
    CHECK_THROWS_AS(UnknownStore(tmp / "w", 0), UsageError);
}

TEST_CASE("unknown store: open_collected_store opens what was collected, and refuses a folder without faces.bin") {
    test::TempDir tmp;
    const fs::path dir = tmp / "u";
    CHECK_THROWS_WITH_AS(open_collected_store(dir), contains(dir.string() + ": no unknown faces collected here"), Error);
    CHECK_FALSE(fs::exists(dir));
    UnknownStore(dir, 5).append(face("a.jpg", 0.1f), crop());
    const auto store = open_collected_store(dir);
    CHECK(store->max_faces() == kUnboundedStore);
    CHECK(store->faces().size() == 1);
    CHECK(unknown_dir_or_default("", "models/m.bin") == fs::path("models/unknown"));
    CHECK(unknown_dir_or_default("elsewhere", "models/m.bin") == fs::path("elsewhere"));
}
