// End-to-end: `encode` killed with SIGKILL mid-run loses none of the work it had
// finished, and never leaves a damaged encodings.bin behind.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "e2e.h"
#include "encodings.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe;
using namespace facepipe::test;

namespace {

// Starts `facepipe --models ... encode` in `cwd` with output discarded; returns its pid.
pid_t start_encode(const fs::path& cwd) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (::chdir(cwd.c_str()) != 0) ::_exit(126);
        const int null = ::open("/dev/null", O_WRONLY);
        ::dup2(null, 1);
        ::dup2(null, 2);
        ::execl(FACEPIPE_BINARY, FACEPIPE_BINARY, "--models", FACEPIPE_TEST_MODEL_DIR, "encode", "--threads", "1",
                static_cast<char*>(nullptr));
        ::_exit(127);
    }
    return pid;
}

}  // namespace

TEST_CASE("e2e: encode killed with SIGKILL loses no finished work") {
    SKIP_IF(shared_data_missing({"faces"}));
    const fs::path shared = shared_data();
    TempDir dir;
    fs::copy(shared / "faces", dir / "dataset", fs::copy_options::recursive);
    fs::remove(dir / "dataset" / "SOURCES.md");
    for (auto& e : fs::recursive_directory_iterator(dir / "dataset"))
        fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
    // The model id, as `models show` prints it: "  model id    resnet:.../landmarks:..."
    const std::string shown = run_facepipe_m({"models", "show"}, dir.path()).out;
    const size_t at = shown.find("resnet:");
    REQUIRE(at != std::string::npos);
    const std::string id = shown.substr(at, shown.find('\n', at) - at);

    // Wait until at least 5 images are journalled, then kill the encoder outright.
    const pid_t pid = start_encode(dir.path());
    const fs::path journal = dir / "encodings.bin.journal";
    size_t journalled = 0;
    for (int i = 0; i < 600 && journalled < 5; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        journalled = EncodingsJournal::recover(journal.string(), id).size();
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(journalled >= 5);
    size_t total = 0;
    for (auto& e : fs::recursive_directory_iterator(dir / "dataset")) total += e.is_regular_file();
    REQUIRE_MESSAGE(journalled < total, "the encoder finished before it could be killed: nothing was tested");
    CHECK_FALSE(fs::exists(dir / "encodings.bin"));  // only ever written whole, at the end

    // The next run recovers what was journalled instead of computing it again.
    const RunResult again = run_facepipe_m({"encode", "--format", "json"}, dir.path());
    INFO("stdout: ", again.out, "\nstderr: ", again.err);
    CHECK(again.exit_code == 0);
    CHECK(again.err.find("recovered") != std::string::npos);
    CHECK(nlohmann::json::parse(again.out)["reused"].get<size_t>() >= journalled);
    CHECK_FALSE(fs::exists(journal));
    CHECK(read_encodings((dir / "encodings.bin").string()).records.size() == total);
}
