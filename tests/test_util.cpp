// Implementation of testutil.h plus tests of the small shared lib helpers
// (error, hash, fsutil, types).
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>

#include <zlib.h>

#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "testutil.h"
#include "types.h"

namespace fs = std::filesystem;

namespace facepipe::test {

TempDir::TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("facepipe-test-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path_);
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

int file_mode(const std::filesystem::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? int(st.st_mode & 0777) : -1;
}

std::string slurp_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

fs::path shared_data() {
    if (const char* env = std::getenv("FACEPIPE_SHARED_DATA")) return env;
    const fs::path p = fs::path(FACEPIPE_SOURCE_DIR).parent_path() / "shared" / "data";
    std::error_code ec;
    return fs::is_directory(p, ec) ? p : fs::path();
}

// --- skips ------------------------------------------------------------------

namespace {

std::string g_current_test;            // the test case running now (SkipListener)
std::vector<std::string> g_skipped;    // "<test>: <why>"

// Follows the running test case, so a skip can name it.
struct SkipListener : doctest::IReporter {
    explicit SkipListener(const doctest::ContextOptions&) {}
    void report_query(const doctest::QueryData&) override {}
    void test_run_start() override {}
    void test_run_end(const doctest::TestRunStats&) override {}
    void test_case_start(const doctest::TestCaseData& d) override { g_current_test = d.m_name; }
    void test_case_reenter(const doctest::TestCaseData&) override {}
    void test_case_end(const doctest::CurrentTestCaseStats&) override {}
    void test_case_exception(const doctest::TestCaseException&) override {}
    void subcase_start(const doctest::SubcaseSignature&) override {}
    void subcase_end() override {}
    void log_assert(const doctest::AssertData&) override {}
    void log_message(const doctest::MessageData&) override {}
    void test_case_skipped(const doctest::TestCaseData&) override {}
};
REGISTER_LISTENER("facepipe-skips", 1, SkipListener);

}  // namespace

bool in_ci() {
    const char* ci = std::getenv("CI");
    return ci && (std::string(ci) == "true" || std::string(ci) == "1");
}

void skip_test(const std::string& why, const char* file, int line) {
    if (in_ci()) ADD_FAIL_AT(file, line, "missing under CI=true: " << why);
    g_skipped.push_back(g_current_test + ": " + why);
    std::cerr << "SKIPPED: " << g_skipped.back() << std::endl;
}

const std::vector<std::string>& skipped_tests() { return g_skipped; }

std::string shared_data_missing(const std::vector<std::string>& needed) {
    const fs::path root = shared_data();
    std::error_code ec;
    if (root.empty() || !fs::is_directory(root, ec))
        return (root.empty() ? std::string("../shared/data") : root.string()) + " is absent (set FACEPIPE_SHARED_DATA)";
    for (const auto& n : needed)
        if (!fs::exists(root / n, ec)) return (root / n).string() + " is absent (set FACEPIPE_SHARED_DATA)";
    return "";
}

fs::path npm_samples() { return fs::path(FACEPIPE_SOURCE_DIR) / ".cache/npm/face-api/package/demo"; }

std::string npm_samples_missing() {
    std::error_code ec;
    for (int i = 1; i <= 6; ++i) {
        const fs::path p = npm_samples() / ("sample" + std::to_string(i) + ".jpg");
        if (!fs::is_regular_file(p, ec)) return p.string() + " is absent (run scripts/setup.sh --tests)";
    }
    return "";
}

std::string command_stdout(const std::string& shell_command, int& status) {
    FILE* p = popen(shell_command.c_str(), "r");
    if (!p) {
        status = -1;
        return "";
    }
    std::string out;
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    status = pclose(p);
    return out;
}

std::string tool_missing(const std::string& command, const std::string& hint) {
    const std::string probe = "command -v '" + command + "' >/dev/null 2>&1";
    return std::system(probe.c_str()) == 0 ? "" : "`" + command + "` is not installed (" + hint + ")";
}

namespace {

std::uint32_t crc32(const std::string& s) {
    std::uint32_t c = 0xFFFFFFFFu;
    for (unsigned char b : s) {
        c ^= b;
        for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}

std::string be32(std::uint32_t v) {
    return {char(v >> 24), char(v >> 16 & 0xFF), char(v >> 8 & 0xFF), char(v & 0xFF)};
}

std::string png_chunk(const std::string& type, const std::string& data) {
    return be32(std::uint32_t(data.size())) + type + data + be32(crc32(type + data));
}

}  // namespace

// Inserts an EXIF APP1 segment holding only the orientation tag right after SOI.
std::string with_exif_orientation(std::string jpeg, int orientation) {
    const std::string tiff = std::string("MM\0\x2A\0\0\0\x08", 8)           // big-endian, IFD0 at 8
                             + std::string("\0\x01", 2)                     // one entry
                             + std::string("\x01\x12\0\x03\0\0\0\x01", 8)   // 0x0112 SHORT x1
                             + std::string(1, '\0') + char(orientation) + std::string(2, '\0')
                             + std::string(4, '\0');                        // no next IFD
    const std::string payload = std::string("Exif\0\0", 6) + tiff;
    const size_t len = payload.size() + 2;
    jpeg.insert(2, std::string("\xFF\xE1") + char(len >> 8) + char(len & 0xFF) + payload);
    return jpeg;
}

std::string png_claiming_size(std::uint32_t width, std::uint32_t height) {
    const std::string ihdr = be32(width) + be32(height) + std::string("\x08\x02\0\0\0", 5);  // 8-bit RGB
    return std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) + png_chunk("IDAT", "") +
           png_chunk("IEND", "");
}

std::string png_bomb(std::uint32_t width, std::uint32_t height) {
    const std::string ihdr = be32(width) + be32(height) + std::string("\x01\x00\0\0\0", 5);  // 1-bit grey
    const std::string row(1 + (width + 7) / 8, '\0');  // filter "none", then the bits
    z_stream z{};
    REQUIRE(deflateInit(&z, Z_BEST_SPEED) == Z_OK);
    std::string idat;
    unsigned char out[1 << 16];
    const auto pump = [&](int flush) {
        do {
            z.next_out = out;
            z.avail_out = sizeof out;
            REQUIRE(deflate(&z, flush) != Z_STREAM_ERROR);
            idat.append(reinterpret_cast<char*>(out), sizeof out - z.avail_out);
        } while (z.avail_out == 0);
    };
    for (std::uint32_t y = 0; y < height; ++y) {
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(row.data()));
        z.avail_in = static_cast<uInt>(row.size());
        pump(Z_NO_FLUSH);
    }
    pump(Z_FINISH);
    deflateEnd(&z);
    return std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) + png_chunk("IDAT", idat) +
           png_chunk("IEND", "");
}

}  // namespace facepipe::test

using namespace facepipe;

TEST_CASE("sha256 matches the published test vector") {
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("sha256_file hashes the contents and names a missing file") {
    test::TempDir dir;
    const auto p = (dir / "abc.txt").string();
    std::ofstream(p) << "abc";
    CHECK(sha256_file(p) == sha256_hex("abc"));
    CHECK_THROWS_WITH_AS(sha256_file((dir / "nope").string()),
                         doctest::Contains("nope: cannot open"), Error);
}

TEST_CASE("write_file_atomic writes 0600 files and leaves no temporary behind") {
    test::TempDir dir;
    const auto p = (dir / "x.bin").string();
    write_file_atomic(p, "first");
    write_file_atomic(p, "second");
    CHECK(read_file(p) == "second");
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    int entries = 0;
    for (auto& e : fs::directory_iterator(dir.path())) (void)e, ++entries;
    CHECK(entries == 1);
}

TEST_CASE("write_file_atomic into a missing folder fails with the path named") {
    test::TempDir dir;
    const auto p = (dir / "missing" / "x.bin").string();
    CHECK_THROWS_WITH_AS(write_file_atomic(p, "x"), doctest::Contains("x.bin"), Error);
}

TEST_CASE("read_file refuses directories and files over the limit") {
    test::TempDir dir;
    CHECK_THROWS_AS(read_file(dir.path().string()), Error);
    const auto p = (dir / "big").string();
    std::ofstream(p) << std::string(100, 'x');
    CHECK_THROWS_WITH_AS(read_file(p, 10), doctest::Contains("too large"), Error);
}

TEST_CASE("distance is Euclidean") {
    Descriptor a{}, b{};
    b[0] = 3.f;
    b[1] = 4.f;
    CHECK(distance(a, b) == doctest::Approx(5.0));
}

TEST_CASE("printable escapes control characters and invalid UTF-8, keeps Unicode") {
    CHECK(printable("Zoë/ça va.jpg") == "Zoë/ça va.jpg");
    CHECK(printable("evil\nname") == "evil\\nname");
    CHECK(printable(std::string("a\x01\x1b[31mb")) == "a\\x01\\x1B[31mb");
    CHECK(printable(std::string("bad\xff\xfe")) == "bad\\xFF\\xFE");
    CHECK(printable(std::string("trunc\xc3")) == "trunc\\xC3");
}

TEST_CASE("Error messages are one printable line") {
    const Error e("dir/evil\nname.jpg", "cannot open");
    CHECK(std::string(e.what()) == "dir/evil\\nname.jpg: cannot open");
    CHECK(e.subject() == "dir/evil\nname.jpg");  // the raw value stays available to code
}
