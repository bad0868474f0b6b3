// testutil.h — helpers shared by the test files.
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace facepipe::test {

// A fresh empty folder under the system temp dir, removed when this object dies.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

// A whole file's bytes ("" if it cannot be read).
std::string slurp_file(const std::filesystem::path& p);

// The permission bits of a file (e.g. 0600), or -1 when it cannot be stat'ed.
int file_mode(const std::filesystem::path& p);

// ../shared/data beside the repository (or $FACEPIPE_SHARED_DATA); empty when absent,
// in which case tests that need it skip (see skip_test).
std::filesystem::path shared_data();

// --- Prerequisites: a test that cannot run says so, and never passes instead ---
//
// skip_test(why)
//   Under CI=true (also CI=1): FAILs the running test with
//   "missing under CI=true: <why>", so a CI run without its data is red.
//   Otherwise: prints "SKIPPED: <test case>: <why>" to stderr and counts it;
//   the runner (test_main.cpp) then ends with kSkipExitCode instead of 0 when
//   nothing failed, which ctest (SKIP_RETURN_CODE, CMakeLists.txt) lists as
//   skipped, not passed. The caller returns after it (SKIP_IF does), or goes on
//   without an optional part of the test.
inline constexpr int kSkipExitCode = 77;
// (`file` and `line` default to the caller's, for the failure's location.)
void skip_test(const std::string& why, const char* file = __builtin_FILE(), int line = __builtin_LINE());
bool in_ci();  // CI is "true" or "1"
// The skips recorded so far in this process ("<test case>: <why>").
const std::vector<std::string>& skipped_tests();

// The usual prerequisites: each is "" when present, else why not (for SKIP_IF).
// `needed`: folders or files that must exist under shared_data().
std::string shared_data_missing(const std::vector<std::string>& needed);
// npm's @vladmandic/face-api sample photos (sample1..6.jpg), fetched by
// scripts/setup.sh --tests into .cache/npm.
std::filesystem::path npm_samples();
std::string npm_samples_missing();
// Runs `shell_command` (sh -c) and returns its stdout; `status` gets pclose()'s
// status (0 when it exited 0). For the reference scripts of tests/js.
std::string command_stdout(const std::string& shell_command, int& status);
// A command on PATH; `hint` says where it comes from (e.g. "apt install imagemagick").
std::string tool_missing(const std::string& command, const std::string& hint);

// Skips the running test (returning from the enclosing function) when `why_expr`
// (a std::string) is not empty; see skip_test.
#define SKIP_IF(why_expr)                                      \
    do {                                                       \
        const std::string facepipe_skip_why_ = (why_expr);     \
        if (!facepipe_skip_why_.empty()) {                     \
            ::facepipe::test::skip_test(facepipe_skip_why_);   \
            return;                                            \
        }                                                      \
    } while (0)

// Waits for an event: true as soon as pred() holds, polling every 20 ms. The
// `seconds` limit is only a safety net against a hang (false when reached),
// never a check of speed: pick it generous.
template <class Pred>
bool eventually(Pred pred, double seconds) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return pred();
}

// `jpeg` with an EXIF APP1 segment carrying this Orientation tag (1-8) inserted
// after SOI, so an EXIF-aware decoder turns the pixels upright.
std::string with_exif_orientation(std::string jpeg, int orientation);

// A structurally valid PNG (correct CRCs) whose header claims width x height but
// holds no pixel data: tests size limits without allocating the image.
std::string png_claiming_size(std::uint32_t width, std::uint32_t height);

// A decompression bomb: a valid 1-bit greyscale PNG of width x height, all
// black, its zlib stream holding every row (a few hundred KB for 30000x30000,
// which would decode to 900 MP). Made streaming, without the rows in memory.
std::string png_bomb(std::uint32_t width, std::uint32_t height);

}  // namespace facepipe::test
