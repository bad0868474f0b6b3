// End-to-end: folders holding entries that are not readable files (symlink loops,
// dangling symlinks, FIFOs, sockets, devices, entries without permission). Each
// costs that entry only: one line naming it and its kind, the run finishes with
// the rest, and the exit code is 1 (README "Exit codes"). Every run here is
// bounded by a safety net, so a regression that hangs fails instead.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <opencv2/imgcodecs.hpp>

#include <map>
#include <set>

#include "e2e.h"
#include "e2e_script.h"
#include "encodings.h"
#include "models.h"
#include "testutil.h"
#include "walk_kinds.h"

namespace fs = std::filesystem;
using namespace facepipe;
using namespace facepipe::test;

namespace {

// Runs argv in cwd; a run still going after `seconds` (a safety net against a
// hang, not a measure of speed) is killed and fails the test.
RunResult run_bounded(const std::vector<std::string>& argv, const fs::path& cwd, double seconds = 300) {
    Child c(argv, cwd);
    const bool ended = eventually([&] { return !c.running(); }, seconds);
    if (!ended) c.kill_group(SIGKILL);
    RunResult r = c.wait();
    if (!ended) FAIL_CHECK("still running after " << seconds << " s (killed): " << r.err);
    return r;
}

// The stderr lines naming `path` (after the log's level, before ':').
std::vector<std::string> lines_naming(const RunResult& r, const std::string& path) {
    return lines_with(r.err, " " + path + ":");
}

// Each bad entry of `bad` in `folder` (as the run names it) has exactly one
// stderr line, naming its kind.
void check_one_line_each(const RunResult& r, const std::string& folder, const BadEntries& bad) {
    for (const auto& e : bad.entries) {
        CAPTURE(e.name);
        const auto lines = lines_naming(r, folder + "/" + e.name);
        REQUIRE(lines.size() == 1);
        CHECK(lines[0].find(e.kind_text) != std::string::npos);
    }
}

std::set<std::string> record_paths(const fs::path& encodings) {
    std::set<std::string> out;
    for (const auto& rec : read_encodings(encodings.string()).records) out.insert(rec.path);
    return out;
}

}  // namespace

TEST_CASE("e2e: augment and encode leave out each bad dataset entry with one warning, finish, and exit 1") {
    SKIP_IF(shared_data_missing({"faces"}));
    const fs::path faces = shared_data() / "faces";
    TempDir tmp;
    const fs::path work = tmp / "w", ds = work / "dataset";
    fs::create_directories(ds / "obama");
    fs::create_directories(ds / "biden");
    for (const char* f : {"obama.jpg", "obama2.jpg"}) fs::copy(faces / "obama" / f, ds / "obama" / f);
    for (const char* f : {"biden.jpg", "biden2.jpg"}) fs::copy(faces / "biden" / f, ds / "biden" / f);
    // Before: "dataset/obama/loop1.jpg: cannot list folder: Too many levels of symbolic
    // links" stopped both commands, and encode wrote no encodings.bin at all.
    const BadEntries bad = make_bad_entries(ds / "obama");
    fs::create_symlink("looped", ds / "looped");  // a person folder that is a symlink loop

    const auto augment = run_bounded(facepipe_argv_m({"augment", "-d", "dataset", "--copies", "1", "--ops", "flip"}), work);
    CHECK_MESSAGE(augment.exit_code == 1, augment.err);
    check_one_line_each(augment, "obama", bad);
    CHECK(lines_naming(augment, "looped").size() == 1);
    CHECK(augment.out.find("4 originals: 4 copies created") != std::string::npos);
    CHECK(augment.out.find("7 left out") != std::string::npos);

    const auto encode = run_bounded(facepipe_argv_m({"encode", "-d", "dataset", "-o", "encodings.bin"}), work);
    CHECK_MESSAGE(encode.exit_code == 1, encode.err);
    check_one_line_each(encode, "obama", bad);
    CHECK(lines_naming(encode, "looped").size() == 1);
    CHECK(lines_with(encode.err, "left out").size() == bad.entries.size() + 1);
    REQUIRE(fs::exists(work / "encodings.bin"));
    std::set<std::string> want;
    for (const char* p : {"obama/obama.jpg", "obama/obama2.jpg", "biden/biden.jpg", "biden/biden2.jpg"}) {
        want.insert(p);
        const fs::path orig(p);
        for (const auto& e : fs::directory_iterator(ds / orig.parent_path() / "augmented"))
            if (e.path().filename().string().rfind(orig.filename().string() + "~", 0) == 0)
                want.insert(orig.parent_path().string() + "/augmented/" + e.path().filename().string());
    }
    CHECK(want.size() == 8);
    CHECK(record_paths(work / "encodings.bin") == want);
    CHECK(encode.out.find("7 dataset entries left out") != std::string::npos);
}

TEST_CASE("e2e: predict answers at once for a FIFO, given, listed on stdin or in a folder, and labels the rest") {
    TempDir tmp;
    const fs::path work = tmp / "w", in = work / "in";
    write_synthetic_artifacts(work, 3, locate_models(FACEPIPE_TEST_MODEL_DIR).model_id());
    const cv::Mat grey(120, 160, CV_8UC3, cv::Scalar(128, 128, 128));
    REQUIRE(cv::imwrite((in.parent_path() / "plain.jpg").string(), grey));  // no face: a "no_face" row
    const BadEntries bad = make_bad_entries(in);
    fs::create_directories(in / "sub");
    fs::create_symlink("..", in / "sub" / "up");  // a folder loop
    REQUIRE(::mkfifo((work / "given.jpg").c_str(), 0600) == 0);
    REQUIRE(::mkfifo((work / "listed.jpg").c_str(), 0600) == 0);
    fs::create_symlink("/dev/zero", work / "zero-given.jpg");
    spit(work / "list.txt", "listed.jpg\nplain.jpg\n");

    // `bash -c 'exec "$@" < list.txt'`: the list on stdin, the run bounded all the same.
    std::vector<std::string> argv{"bash", "-c", "exec \"$@\" < list.txt", "bash"};
    for (const auto& a : facepipe_argv_m({"predict", "--format", "csv", "given.jpg", "zero-given.jpg", "-", "in"}))
        argv.push_back(a);
    const auto r = run_bounded(argv, work, 120);
    CHECK_MESSAGE(r.exit_code == 1, r.err);
    std::map<std::string, std::string> status, error;
    for (const auto& row : parse_predict_csv(r.out)) status[row.file] = row.status, error[row.file] = row.error;
    CHECK(status["plain.jpg"] == "no_face");
    CHECK(error["given.jpg"] == "is a FIFO, not a regular file");
    CHECK(error["listed.jpg"] == "is a FIFO, not a regular file");
    CHECK(error["zero-given.jpg"] == "is a symlink to a character device, not a regular file");
    CHECK(error["in/sub/up"] == "is a symlink to a folder that contains it (a loop)");
    for (const auto& e : bad.entries) {
        CAPTURE(e.name);
        const std::string path = "in/" + e.name;
        CHECK(status[path] == "error");
        CHECK(error[path].find(e.kind_text) != std::string::npos);
    }
    for (const std::string p : {"given.jpg", "listed.jpg", "zero-given.jpg", "in/sub/up"}) {
        CAPTURE(p);
        CHECK(status[p] == "error");
        CHECK(lines_naming(r, p).size() == 1);  // one line on stderr each
    }
    CHECK(status.size() == bad.entries.size() + 5);
}

TEST_CASE("e2e: encode leaves out a photo and a person folder it has no permission to read") {
    SKIP_IF(shared_data_missing({"faces"}));
    // As root, mode 000 stops nothing: the run goes through setpriv without the
    // capabilities that override file modes, so it meets EACCES as any user would.
    const bool root = ::geteuid() == 0;
    if (root) SKIP_IF(tool_missing("setpriv", "apt install util-linux"));
    const fs::path faces = shared_data() / "faces";
    TempDir tmp;
    const fs::path work = tmp / "w", ds = work / "dataset";
    fs::create_directories(ds / "obama");
    fs::create_directories(ds / "locked");
    fs::copy(faces / "obama" / "obama.jpg", ds / "obama" / "obama.jpg");
    fs::copy(faces / "obama" / "obama2.jpg", ds / "obama" / "secret.jpg");
    fs::copy(faces / "biden" / "biden.jpg", ds / "locked" / "biden.jpg");
    fs::permissions(ds / "obama" / "secret.jpg", fs::perms::none);
    fs::permissions(ds / "locked", fs::perms::none);

    std::vector<std::string> argv;
    if (root) argv = {"setpriv", "--bounding-set=-dac_override,-dac_read_search"};
    for (const auto& a : facepipe_argv_m({"encode", "-d", "dataset", "-o", "encodings.bin"})) argv.push_back(a);
    const auto r = run_bounded(argv, work);
    fs::permissions(ds / "locked", fs::perms::owner_all);  // so TempDir can clean up
    CHECK_MESSAGE(r.exit_code == 1, r.err);
    const auto secret = lines_naming(r, "obama/secret.jpg");
    REQUIRE(secret.size() == 1);
    CHECK(secret[0].find("cannot be read: Permission denied; left out") != std::string::npos);
    const auto locked = lines_naming(r, "locked");
    REQUIRE(locked.size() == 1);
    CHECK(locked[0].find("is a folder that cannot be listed: Permission denied; left out") != std::string::npos);
    REQUIRE(fs::exists(work / "encodings.bin"));
    CHECK(record_paths(work / "encodings.bin") == std::set<std::string>{"obama/obama.jpg"});
}

TEST_CASE("e2e: sync push and pull leave out each bad dataset entry with one warning and sync the rest") {
    SKIP_IF(tool_missing("gsutil", "Google Cloud CLI's gsutil"));
    // Before: gsutil rsync aborted the push on the dangling symlink or the loop (it
    // stats every file it lists, excluded or not), and waited for ever on the FIFO.
    TempDir tmp;
    const fs::path a = tmp / "a", b = tmp / "b", bucket = tmp / "bucket";
    spit_file(a / "dataset" / "alice" / "a1.jpg", "alice one");
    fs::create_symlink("a1.jpg", a / "dataset" / "alice" / "linked.jpg");  // a symlink to a file is the file
    const BadEntries bad = make_bad_entries(a / "dataset" / "alice");
    write_synthetic_artifacts(a);
    const std::map<std::string, std::string> env{{"FACEPIPE_BUCKET", "file://" + bucket.string()}};

    Child push(script_argv("sync.sh", {"push"}), a, script_env(env));
    const bool pushed = eventually([&] { return !push.running(); }, 300);
    if (!pushed) push.kill_group(SIGKILL);
    const RunResult r = push.wait();
    REQUIRE_MESSAGE(pushed, "sync.sh push still running after 300 s (killed): " << r.err);
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    check_one_line_each(r, "dataset/alice", bad);
    CHECK(slurp(bucket / "dataset" / "alice" / "a1.jpg") == "alice one");
    CHECK(slurp(bucket / "dataset" / "alice" / "linked.jpg") == "alice one");
    for (const auto& e : bad.entries) CHECK(!fs::exists(fs::symlink_status(bucket / "dataset" / "alice" / e.name)));
    CHECK(fs::is_regular_file(bucket / "artifacts" / "manifest.json"));

    // A pull into a dataset that holds broken links of its own keeps them and gets the rest.
    fs::create_directories(b / "dataset" / "alice");
    fs::create_symlink("nowhere.jpg", b / "dataset" / "alice" / "dangling.jpg");
    fs::create_symlink("loop2.jpg", b / "dataset" / "alice" / "loop1.jpg");
    fs::create_symlink("loop1.jpg", b / "dataset" / "alice" / "loop2.jpg");
    Child pull(script_argv("sync.sh", {"pull"}), b, script_env(env));
    const bool pulled = eventually([&] { return !pull.running(); }, 300);
    if (!pulled) pull.kill_group(SIGKILL);
    const RunResult p = pull.wait();
    REQUIRE_MESSAGE(pulled, "sync.sh pull still running after 300 s (killed): " << p.err);
    CHECK_MESSAGE(p.exit_code == 0, p.err);
    CHECK(slurp(b / "dataset" / "alice" / "a1.jpg") == "alice one");
    CHECK(slurp(b / "encodings.bin") == slurp(a / "encodings.bin"));
    CHECK(lines_naming(p, "dataset/alice/dangling.jpg").size() == 1);
    CHECK(lines_naming(p, "dataset/alice/loop1.jpg").size() == 1);
    CHECK(fs::is_symlink(b / "dataset" / "alice" / "dangling.jpg"));
}
