// Tests of lib/container.h: the checksummed envelope and the bounds-checked
// payload codec, including hostile payloads that carry a valid checksum.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <thread>

#include "container.h"
#include "encodings.h"
#include "error.h"
#include "fsutil.h"
#include "testutil.h"

using namespace facepipe;

namespace {

// doctest::Contains takes its own string type; this builds one from std::string.
doctest::Contains contains(const std::string& s) { return doctest::Contains(s.c_str()); }

constexpr std::string_view kMagic = "FPTEST01";

std::string container_bytes(const std::string& payload, std::uint32_t version = 1) {
    test::TempDir dir;
    const auto p = (dir / "c.bin").string();
    write_container(p, kMagic, version, payload);
    return read_file(p);
}

Container read_back(const std::string& path) { return read_container(path, kMagic, "test", 1); }

// Both readers, the copying one and the mapping one, refuse it with this cause.
void expect_error(const std::string& path, const std::string& cause) {
    CAPTURE(cause);
    CHECK_THROWS_WITH_AS(read_back(path), contains(path + ": " + cause), Error);
    CHECK_THROWS_WITH_AS(MappedContainer(path, kMagic, "test", 1), contains(path + ": " + cause), Error);
}

}  // namespace

TEST_CASE("container round-trips payload and version, mode 0600") {
    test::TempDir dir;
    const auto p = (dir / "c.bin").string();
    const std::string payload("hello\0world", 11);
    write_container(p, kMagic, 1, payload);
    const Container c = read_back(p);
    CHECK(c.version == 1);
    CHECK(c.payload == payload);
    CHECK(read_file(p).size() == kContainerHeaderBytes + payload.size());
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    write_container(p, kMagic, 1, "");  // an empty payload is legal
    CHECK(read_back(p).payload.empty());
}

TEST_CASE("a mapped container gives the same payload and version, and write_container takes a mode") {
    test::TempDir dir;
    const auto p = (dir / "c.bin").string();
    std::string payload(100000, '\0');
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7);
    write_container(p, kMagic, 1, payload, 0644);
    const MappedContainer m(p, kMagic, "test", 1);
    CHECK(m.version() == 1);
    CHECK(m.payload() == payload);
    CHECK(reinterpret_cast<std::uintptr_t>(m.payload().data()) % 4096 == kContainerHeaderBytes);  // page-aligned map
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0644);
    CHECK_THROWS_WITH_AS(MappedContainer(dir.path().string(), kMagic, "test", 1),
                         contains("is a directory, not a file"), Error);
}

TEST_CASE("a mapped container refuses a FIFO at once instead of waiting for a writer") {
    test::TempDir dir;
    const auto fifo = (dir / "model.bin").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    // A reader that blocks in open() would wait for a writer for ever. The rescuer
    // becomes that writer after a while, so such a reader fails this test (it then
    // sees "not a regular file" only after the rescue) instead of hanging it.
    std::atomic<bool> done{false};
    std::atomic<bool> rescued{false};
    std::thread rescuer([&] {
        for (int i = 0; i < 500 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (done) return;
        const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        rescued = true;
        if (fd >= 0) ::close(fd);
    });
    CHECK_THROWS_WITH_AS(MappedContainer(fifo, kMagic, "test", 1), contains("FIFO"), Error);
    done = true;
    rescuer.join();
    CHECK_FALSE(rescued);
}

TEST_CASE("container header is little-endian with a raw SHA-256") {
    const std::string f = container_bytes("abc", 0x01020304);
    CHECK(f.substr(0, 8) == "FPTEST01");
    CHECK(f.substr(8, 4) == std::string("\x04\x03\x02\x01", 4));
    CHECK(f.substr(12, 8) == std::string("\x03\0\0\0\0\0\0\0", 8));
    CHECK(static_cast<unsigned char>(f[20]) == 0xba);  // sha256("abc") = ba7816bf...
    CHECK(static_cast<unsigned char>(f[51]) == 0xad);
}

TEST_CASE("container reader names each kind of damage") {
    test::TempDir dir;
    const auto p = (dir / "c.bin").string();
    const std::string good = container_bytes(std::string(100, 'x'));

    SUBCASE("missing file") { expect_error((dir / "nope.bin").string(), "cannot open"); }
    SUBCASE("zero bytes") {
        write_file_atomic(p, "");
        expect_error(p, "empty file");
    }
    SUBCASE("bad magic") {
        std::string f = good;
        f[0] = 'X';
        write_file_atomic(p, f);
        expect_error(p, "not a facepipe test file (bad magic)");
        write_file_atomic(p, "hi");  // too short and not a prefix of the magic
        expect_error(p, "not a facepipe test file (bad magic)");
    }
    SUBCASE("future version") {
        write_file_atomic(p, container_bytes("x", 2));
        expect_error(p, "format version 2 is newer than this facepipe supports (1); upgrade facepipe");
    }
    SUBCASE("version zero") {
        write_file_atomic(p, container_bytes("x", 0));
        expect_error(p, "corrupted: format version 0");
    }
    SUBCASE("truncated inside the header") {
        for (std::size_t len : {3, 8, 12, 20, 51}) {
            CAPTURE(len);
            write_file_atomic(p, good.substr(0, len));
            expect_error(p, "truncated: file ends inside the header (" + std::to_string(len) + " of 52 bytes)");
        }
    }
    SUBCASE("truncated payload") {
        for (std::size_t len : {52, 53, 100, 151}) {
            CAPTURE(len);
            write_file_atomic(p, good.substr(0, len));
            expect_error(p, "truncated: header says 100 payload bytes, file has " + std::to_string(len - 52));
        }
    }
    SUBCASE("flipped bit in payload or checksum") {
        for (std::size_t at : {20, 51, 52, 99, 151}) {
            CAPTURE(at);
            std::string f = good;
            f[at] ^= 0x10;
            write_file_atomic(p, f);
            expect_error(p, "corrupted: checksum mismatch");
        }
    }
    SUBCASE("trailing bytes") {
        write_file_atomic(p, good + "zz");
        expect_error(p, "unexpected trailing bytes (2 after the payload)");
    }
}

TEST_CASE("payload writer and reader round-trip every type") {
    PayloadWriter w;
    w.u8(7);
    w.u32(0xdeadbeef);
    w.i32(-5);
    w.u64(1ull << 40);
    w.f32(-1.5f);
    w.str("name");
    w.str("");
    const float v[3] = {1.f, 2.5f, -0.f};
    w.count(3);
    w.floats(v, 3);
    const std::string bytes = w.bytes();

    PayloadReader r(bytes, "x.bin");
    CHECK(r.u8() == 7);
    CHECK(r.u32() == 0xdeadbeef);
    CHECK(r.i32() == -5);
    CHECK(r.u64() == (1ull << 40));
    CHECK(r.f32() == -1.5f);
    CHECK(r.str() == "name");
    CHECK(r.str() == "");
    REQUIRE(r.count(4) == 3);
    float out[3];
    r.floats(out, 3);
    CHECK(std::memcmp(out, v, sizeof v) == 0);
    CHECK(r.remaining() == 0);
    CHECK_NOTHROW(r.finish());
    CHECK_THROWS_WITH_AS(r.u8(), doctest::Contains("x.bin: corrupted: payload ends early"), Error);
}

TEST_CASE("payload reader refuses hostile lengths before allocating" * doctest::timeout(2)) {
    SUBCASE("a 2^40-element count") {
        PayloadWriter w;
        w.count(1ull << 40);
        PayloadReader r(w.bytes(), "x.bin");
        CHECK_THROWS_WITH_AS(r.count(1), doctest::Contains("x.bin: corrupted: count of 1099511627776 items"),
                             Error);
    }
    SUBCASE("a count that would overflow when multiplied") {
        PayloadWriter w;
        w.u64(~0ull);
        PayloadReader r(w.bytes(), "x.bin");
        CHECK_THROWS_AS(r.count(520), Error);
    }
    SUBCASE("a 2^40-byte string") {
        PayloadWriter w;
        w.u64(1ull << 40);
        PayloadReader r(w.bytes(), "x.bin");
        CHECK_THROWS_WITH_AS(r.str(), doctest::Contains("corrupted: string of 1099511627776 bytes exceeds"), Error);
    }
    SUBCASE("a string under the cap but longer than the payload") {
        PayloadWriter w;
        w.u64(4000);
        w.str("abc");
        PayloadReader r(w.bytes(), "x.bin");
        CHECK_THROWS_WITH_AS(r.str(), doctest::Contains("corrupted: string of 4000 bytes, but only"), Error);
    }
    SUBCASE("a per-call cap below the global one") {
        PayloadWriter w;
        w.str(std::string(100, 'a'));
        PayloadReader r(w.bytes(), "x.bin");
        CHECK_THROWS_WITH_AS(r.str(64), doctest::Contains("exceeds the limit of 64"), Error);
    }
    SUBCASE("leftover bytes") {
        PayloadWriter w;
        w.u32(1);
        w.u8(0);
        PayloadReader r(w.bytes(), "x.bin");
        r.u32();
        CHECK_THROWS_WITH_AS(r.finish(), doctest::Contains("1 unexpected bytes at the end"), Error);
    }
    SUBCASE("an empty payload") {
        CHECK_THROWS_WITH_AS(PayloadReader("", "x.bin"), doctest::Contains("corrupted: empty payload"), Error);
    }
}

TEST_CASE("writer refuses strings the reader would refuse") {
    PayloadWriter w;
    CHECK_THROWS_AS(w.str(std::string(kMaxPayloadString + 1, 'a')), std::invalid_argument);
    CHECK_NOTHROW(w.str(std::string(kMaxPayloadString, 'a')));
}

TEST_CASE("a crafted encodings file with a valid checksum fails cleanly and fast" * doctest::timeout(2)) {
    test::TempDir dir;
    const auto p = (dir / "encodings.bin").string();
    const std::string_view magic(kEncodingsMagic, 8);

    PayloadWriter huge_count;
    huge_count.str("model");
    huge_count.count(1ull << 40);
    write_container(p, magic, 1, huge_count.bytes());  // version 1: the count follows model_id
    CHECK_THROWS_WITH_AS(read_encodings(p), contains(p + ": corrupted: count of 1099511627776"), Error);

    PayloadWriter huge_string;
    huge_string.u64(1ull << 40);  // where model_id's length goes
    write_container(p, magic, 1, huge_string.bytes());
    CHECK_THROWS_WITH_AS(read_encodings(p), contains(p + ": corrupted: string of 1099511627776"), Error);
}
