// Tests of lib/walk.h and fsutil.h's safe reader (inspect_path, open_regular_file,
// read_file): every kind of entry a user's folder can hold is classified and left
// out with one line, and nothing blocks on a FIFO or runs on forever on a device.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <thread>

#include "dataset.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "walk.h"
#include "walk_kinds.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe;
using namespace facepipe::test;

namespace {

std::vector<std::string> lines_naming(const std::vector<std::string>& lines, const std::string& needle) {
    std::vector<std::string> out;
    for (const auto& l : lines)
        if (l.find(needle) != std::string::npos) out.push_back(l);
    return out;
}

// Runs `read` while a safety net stands by: if it has not returned after a
// (generous) while, the net opens the FIFO for writing and closes it, which ends
// a read blocked on it, so a regression fails the test instead of hanging it.
template <class Read>
void with_fifo_safety_net(const fs::path& fifo, Read read) {
    std::atomic<bool> done{false};
    std::thread net([&] {
        if (eventually([&] { return done.load(); }, 30)) return;
        while (!done) {  // every blocked read, one after the other
            const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
            if (fd >= 0) ::close(fd);
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    });
    try {
        read();
    } catch (...) {
        done = true;
        net.join();
        throw;
    }
    done = true;
    net.join();
}

}  // namespace

TEST_CASE("inspect_path names each kind of entry without opening it") {
    TempDir dir;
    const BadEntries bad = make_bad_entries(dir.path());
    spit_file(dir / "ok.jpg", "x");
    fs::create_directories(dir / "folder");

    CHECK(inspect_path((dir / "ok.jpg").string()).kind == FileKind::regular);
    CHECK(inspect_path((dir / "ok.jpg").string()).cause.empty());
    CHECK(inspect_path((dir / "folder").string()).kind == FileKind::folder);
    CHECK(inspect_path((dir / "nope").string()).kind == FileKind::missing);
    for (const auto& e : bad.entries) {
        CAPTURE(e.name);
        const PathInfo info = inspect_path((dir / e.name).string());
        CHECK(info.kind == e.kind);
        CHECK(info.cause.find(e.kind_text) != std::string::npos);
        CHECK(info.cause.find('\n') == std::string::npos);
    }
    // A symlink says so, and names what it leads to.
    const PathInfo zero = inspect_path((dir / "zero.jpg").string());
    CHECK(zero.symlink);
    CHECK(zero.cause == "is a symlink to a character device, not a regular file");
    CHECK(inspect_path((dir / "fifo.jpg").string()).cause == "is a FIFO, not a regular file");
    CHECK(inspect_path((dir / "dangling.jpg").string()).cause == "is a dangling symlink (to nowhere.jpg)");
}

TEST_CASE("read_file refuses a FIFO at once, naming it, and never waits for a writer") {
    TempDir dir;
    const fs::path fifo = dir / "photo.jpg";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    with_fifo_safety_net(fifo, [&] {
        CHECK_THROWS_WITH_AS(read_file(fifo.string()), doctest::Contains("photo.jpg: is a FIFO"), Error);
        CHECK_THROWS_WITH_AS(sha256_file(fifo.string()), doctest::Contains("photo.jpg: is a FIFO"), Error);
    });
}

TEST_CASE("read_file reports a device behind a symlink as a device, not as an empty file") {
    TempDir dir;
    fs::create_symlink("/dev/zero", dir / "zero.jpg");
    fs::create_symlink("/dev/null", dir / "null.jpg");
    CHECK_THROWS_WITH_AS(read_file((dir / "zero.jpg").string(), 1 << 20),
                         doctest::Contains("zero.jpg: is a symlink to a character device"), Error);
    CHECK_THROWS_WITH_AS(read_file((dir / "null.jpg").string()),
                         doctest::Contains("null.jpg: is a symlink to a character device"), Error);
    CHECK_THROWS_WITH_AS(read_file("/dev/zero"), doctest::Contains("/dev/zero: is a character device"), Error);
}

TEST_CASE("read_file names symlink loops, dangling symlinks, sockets and folders") {
    TempDir dir;
    make_bad_entries(dir.path());
    CHECK_THROWS_WITH_AS(read_file((dir / "loop1.jpg").string()), doctest::Contains("loop1.jpg: is a symlink loop"), Error);
    CHECK_THROWS_WITH_AS(read_file((dir / "dangling.jpg").string()),
                         doctest::Contains("dangling.jpg: is a dangling symlink (to nowhere.jpg)"), Error);
    CHECK_THROWS_WITH_AS(read_file((dir / "socket.jpg").string()), doctest::Contains("socket.jpg: is a socket"), Error);
    CHECK_THROWS_WITH_AS(read_file(dir.path().string()), doctest::Contains("is a directory, not a file"), Error);
    CHECK_THROWS_WITH_AS(read_file((dir / "nope.jpg").string()), doctest::Contains("nope.jpg: cannot open: No such file"),
                         Error);
    // A symlink to a regular file is the file.
    spit_file(dir / "real.jpg", "bytes");
    fs::create_symlink("real.jpg", dir / "link.jpg");
    CHECK(read_file((dir / "link.jpg").string()) == "bytes");
}

TEST_CASE("read_file reads to the end of a file whose size stat does not know, up to the limit") {
    // /proc files stat as empty: the size is only a hint; the limit still holds.
    const std::string status = read_file("/proc/self/status");
    CHECK(status.find("Pid:") != std::string::npos);
    CHECK_THROWS_AS(read_file("/proc/self/status", 16), LimitError);
}

TEST_CASE("list_folder lists every entry sorted and classified, and names a folder it cannot list") {
    TempDir dir;
    const BadEntries bad = make_bad_entries(dir.path());
    spit_file(dir / "a.jpg", "x");
    fs::create_directories(dir / "sub");
    const auto entries = list_folder(dir.path());
    REQUIRE(entries.size() == bad.entries.size() + 2);
    for (size_t i = 1; i < entries.size(); ++i) CHECK(entries[i - 1].name < entries[i].name);
    for (const auto& e : entries) {
        CAPTURE(e.name);
        CHECK(e.path == dir / e.name);
        if (e.name == "a.jpg") CHECK(e.is_file());
        else if (e.name == "sub") CHECK(e.is_folder());
        else CHECK(is_left_out(e, true, false));
    }
    CHECK_THROWS_WITH_AS(list_folder(dir / "nope"), doctest::Contains("nope: cannot list folder"), Error);
    CHECK_THROWS_WITH_AS(list_folder(dir / "a.jpg"), doctest::Contains("a.jpg: cannot list folder"), Error);
}

TEST_CASE("is_left_out: what a walk wants and cannot read, not what it would ignore anyway") {
    TempDir dir;
    REQUIRE(::mkfifo((dir / "notes.txt").c_str(), 0600) == 0);
    fs::create_symlink("nowhere", dir / "maybe-a-folder");
    const auto entries = list_folder(dir.path());
    REQUIRE(entries.size() == 2);
    const FolderEntry& dangling = entries[0];  // "maybe-a-folder" < "notes.txt"
    const FolderEntry& fifo = entries[1];
    CHECK(!is_left_out(fifo, false, true));  // not an image name: ignored, like any such file
    CHECK(is_left_out(fifo, true, false));
    CHECK(is_left_out(dangling, false, true));  // where folders are wanted, it may have been one
    CHECK(!is_left_out(dangling, false, false));
    CHECK(left_out_line("p/x.jpg", fifo.info) == "p/x.jpg: is a FIFO, not a regular file; left out");
}

TEST_CASE("walk_tree follows symlinks to folders but not into a loop, and leaves out each bad entry once") {
    TempDir dir;
    const fs::path root = dir / "in";
    const BadEntries bad = make_bad_entries(root / "deep");
    spit_file(root / "a.jpg", "x");
    spit_file(root / "deep" / "b.png", "x");
    spit_file(root / "deep" / "notes.txt", "x");
    fs::create_symlink("..", root / "deep" / "up");      // a folder loop
    fs::create_symlink(".", root / "self");              // another one, at the top
    spit_file(dir / "elsewhere" / "c.jpg", "x");
    fs::create_symlink(dir / "elsewhere", root / "linked");  // followed
    REQUIRE(::mkfifo((root / "pipe-not-an-image").c_str(), 0600) == 0);  // ignored: not wanted

    const TreeWalk w = walk_tree(root, [](const fs::path& p) { return p.extension() == ".jpg" || p.extension() == ".png"; });
    CHECK(w.files == std::vector<std::string>{(root / "a.jpg").string(), (root / "deep" / "b.png").string(),
                                              (root / "linked" / "c.jpg").string()});
    std::map<std::string, std::string> left;
    for (const auto& [path, cause] : w.left_out) CHECK(left.emplace(path, cause).second);  // each once
    CHECK(left.size() == bad.entries.size() + 2);
    CHECK(left[(root / "deep" / "up").string()] == "is a symlink to a folder that contains it (a loop)");
    CHECK(left[(root / "self").string()] == "is a symlink to a folder that contains it (a loop)");
    for (const auto& e : bad.entries) {
        CAPTURE(e.name);
        CHECK(left[(root / "deep" / e.name).string()].find(e.kind_text) != std::string::npos);
    }
    CHECK_THROWS_WITH_AS(walk_tree(root / "a.jpg", [](const fs::path&) { return true; }),
                         doctest::Contains("a.jpg: cannot list folder"), Error);
}

TEST_CASE("scan_dataset leaves out each bad entry with one warning and keeps the rest") {
    // Before: a symlink loop in a person folder made the whole scan throw
    // "cannot list folder: Too many levels of symbolic links".
    TempDir dir;
    const fs::path root = dir / "dataset";
    spit_file(root / "alice" / "a.jpg", "x");
    spit_file(root / "alice" / "notes.txt", "x");
    const BadEntries bad = make_bad_entries(root / "alice");
    const BadEntries bad_copies = make_bad_entries(root / "alice" / "augmented");
    spit_file(root / "bob" / "b.jpg", "x");
    fs::create_symlink("carol", root / "carol");           // a person folder that is a loop
    fs::create_symlink("/nonexistent/dave", root / "dave"); // a dangling person folder
    REQUIRE(::mkfifo((root / "README").c_str(), 0600) == 0);  // not an image, not a folder: ignored

    const DatasetScan s = scan_dataset(root);
    std::vector<std::string> rel;
    for (const auto& img : s.images) rel.push_back(img.rel_path);
    CHECK(rel == std::vector<std::string>{"alice/a.jpg", "bob/b.jpg"});
    CHECK(s.people == std::vector<std::string>{"alice", "bob"});
    CHECK(s.left_out == static_cast<int>(2 * bad.entries.size() + 2));
    CHECK(s.warnings.size() == static_cast<size_t>(s.left_out));
    for (const auto& e : bad.entries) {
        CAPTURE(e.name);
        const auto lines = lines_naming(s.warnings, "alice/" + e.name + ":");
        REQUIRE(lines.size() == 1);
        CHECK(lines[0].find(e.kind_text) != std::string::npos);
        CHECK(lines[0].find("left out") != std::string::npos);
        CHECK(lines_naming(s.warnings, "alice/augmented/" + e.name + ":").size() == 1);
    }
    CHECK(lines_naming(s.warnings, "carol: is a symlink loop; left out").size() == 1);
    CHECK(lines_naming(s.warnings, "dave: is a dangling symlink").size() == 1);
    // Originals only: the bad copies are not looked at.
    CHECK(scan_dataset(root, false).left_out == static_cast<int>(bad.entries.size() + 2));
}

TEST_CASE("entries without read permission are left out, named as unreadable (run without DAC override)") {
    // Tests run as root, for whom mode 000 stops nothing. The checks run on a thread
    // that gives up CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (capabilities are per
    // thread): then root is held to the mode bits like anyone else. Without root
    // there is nothing to give up and mode 000 works as is.
    TempDir dir;
    const fs::path root = dir / "dataset";
    spit_file(root / "alice" / "a.jpg", "x");
    spit_file(root / "alice" / "secret.jpg", "x");
    spit_file(root / "bob" / "b.jpg", "x");
    spit_file(root / "locked" / "c.jpg", "x");
    fs::permissions(root / "alice" / "secret.jpg", fs::perms::none);
    fs::permissions(root / "locked", fs::perms::none);

    std::string dropped_error;
    bool blocked = false;
    PathInfo file_info, folder_info;
    DatasetScan scan;
    std::string read_error;
    TreeWalk walk;
    std::thread t([&] {
        dropped_error = drop_dac_capabilities_of_this_thread();
        if (!dropped_error.empty()) return;
        const int fd = ::open((root / "alice" / "secret.jpg").c_str(), O_RDONLY);
        blocked = fd < 0 && errno == EACCES;
        if (fd >= 0) ::close(fd);
        file_info = inspect_path((root / "alice" / "secret.jpg").string());
        folder_info = inspect_path((root / "locked").string());
        scan = scan_dataset(root);
        try {
            read_file((root / "alice" / "secret.jpg").string());
        } catch (const Error& e) {
            read_error = e.what();
        }
        walk = walk_tree(root, [](const fs::path&) { return true; });
    });
    t.join();
    for (const auto& p : {root / "alice" / "secret.jpg", root / "locked"})
        fs::permissions(p, fs::perms::owner_all);  // so TempDir can clean up
    REQUIRE_MESSAGE(dropped_error.empty(), dropped_error);
    REQUIRE_MESSAGE(blocked, "mode 000 still readable after dropping the capabilities: cannot test EACCES here");

    CHECK(file_info.kind == FileKind::unreadable);
    CHECK(!file_info.is_folder);
    CHECK(file_info.cause == "cannot be read: Permission denied");
    CHECK(folder_info.kind == FileKind::unreadable);
    CHECK(folder_info.is_folder);
    CHECK(folder_info.cause == "is a folder that cannot be listed: Permission denied");
    std::vector<std::string> rel;
    for (const auto& img : scan.images) rel.push_back(img.rel_path);
    CHECK(rel == std::vector<std::string>{"alice/a.jpg", "bob/b.jpg"});
    CHECK(scan.left_out == 2);
    CHECK(lines_naming(scan.warnings, "alice/secret.jpg: cannot be read: Permission denied; left out").size() == 1);
    CHECK(lines_naming(scan.warnings, "locked: is a folder that cannot be listed: Permission denied; left out").size() == 1);
    CHECK(read_error.find("secret.jpg: cannot open: Permission denied") != std::string::npos);
    CHECK(walk.left_out.size() == 2);
}
