// Implementation of resources.h, and tests of fsutil.h when the disk is full or
// a file-size limit is hit: the error names the file and the cause, the old
// file stays as it was, and no temporary file is left behind.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "error.h"
#include "fsutil.h"
#include "resources.h"
#include "testutil.h"

namespace fs = std::filesystem;

namespace facepipe::test {

SmallDisk::SmallDisk(fs::path dir, std::uint64_t bytes) : dir_(std::move(dir)) {
    fs::create_directories(dir_);
    const std::string opts = "size=" + std::to_string(bytes) + ",mode=0755";
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, opts.c_str()) != 0)
        throw std::runtime_error("mount tmpfs on " + dir_.string() + ": " + std::strerror(errno));
    mounted_ = true;
}

SmallDisk::~SmallDisk() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
}

std::uint64_t SmallDisk::free_bytes() const {
    struct statvfs st {};
    if (::statvfs(dir_.c_str(), &st) != 0) return 0;
    return std::uint64_t(st.f_bavail) * st.f_frsize;
}

void SmallDisk::fill(std::uint64_t free_bytes_wanted) {
    const fs::path filler = dir_ / ".filler";
    const int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    REQUIRE(fd >= 0);
    const std::string page(4096, 'f');
    for (;;) {  // to the last byte, then give back what was asked for
        const ssize_t n = ::write(fd, page.data(), page.size());
        if (n <= 0) break;
    }
    struct stat st {};
    ::fstat(fd, &st);
    const std::uint64_t give = (free_bytes_wanted + 4095) / 4096 * 4096;
    REQUIRE(::ftruncate(fd, st.st_size > off_t(give) ? st.st_size - off_t(give) : 0) == 0);
    ::close(fd);
    REQUIRE(free_bytes() <= give);
}

void SmallDisk::unfill() { fs::remove(dir_ / ".filler"); }

std::string mount_missing() {
    static const std::string why = [] {
        TempDir probe;
        if (::mount("tmpfs", probe.path().c_str(), "tmpfs", 0, "size=64k") != 0)
            return std::string("cannot mount a tmpfs for a full-disk test (") + std::strerror(errno) +
                   "; needs root in a container that allows mount)";
        ::umount2(probe.path().c_str(), MNT_DETACH);
        return std::string();
    }();
    return why;
}

std::vector<std::string> as_unprivileged(const std::vector<std::string>& argv) {
    if (::geteuid() != 0) return argv;
    std::vector<std::string> out{"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"};
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
}

void let_unprivileged_read(const fs::path& dir) {
    for (fs::path p = fs::absolute(dir); !p.empty() && p != p.root_path(); p = p.parent_path()) {
        std::error_code ec;
        fs::permissions(p, fs::perms::others_read | fs::perms::others_exec, fs::perm_options::add, ec);
    }
}

std::vector<std::string> files_under(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir).string());
    std::sort(out.begin(), out.end());
    return out;
}

ChildOutcome run_in_child(const std::function<std::string()>& work) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(fds[0]);
        struct rusage before {}, after {};
        ::getrusage(RUSAGE_SELF, &before);
        std::string text;
        try {
            text = work();
        } catch (const std::exception& e) {
            text = std::string("threw: ") + e.what();
        }
        ::getrusage(RUSAGE_SELF, &after);
        const std::string msg = std::to_string(after.ru_maxrss - before.ru_maxrss) + "\n" + text;
        for (size_t done = 0; done < msg.size();) {
            const ssize_t n = ::write(fds[1], msg.data() + done, msg.size() - done);
            if (n <= 0) break;
            done += size_t(n);
        }
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string got;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) got.append(buf, size_t(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ChildOutcome out;
    const auto nl = got.find('\n');
    REQUIRE_MESSAGE(nl != std::string::npos, "the child died: status ", status);
    out.peak_rss_growth_kib = std::stol(got.substr(0, nl));
    out.text = got.substr(nl + 1);
    return out;
}

}  // namespace facepipe::test

using namespace facepipe;
using namespace facepipe::test;

TEST_CASE("write_error_text spells out a full disk, an exhausted quota and the file-size limit") {
    CHECK(write_error_text(ENOSPC) == "the disk is full (No space left on device)");
    CHECK(write_error_text(EDQUOT) == "the disk quota is exhausted (Disk quota exceeded)");
    CHECK(write_error_text(EFBIG) == "the file is over the file-size limit (File too large)");
    CHECK(write_error_text(EIO) == "Input/output error");
}

TEST_CASE("write_file_atomic over the file-size limit: one line, old file kept, no temporary left") {
    TempDir dir;
    const fs::path p = dir / "model.bin";
    write_file_atomic(p.string(), "old contents");
    // RLIMIT_FSIZE with SIGXFSZ ignored: write(2) fails with EFBIG, in a child so
    // the limit stays there.
    const ChildOutcome r = run_in_child([&] {
        ::signal(SIGXFSZ, SIG_IGN);
        struct rlimit lim {1000, 1000};
        ::setrlimit(RLIMIT_FSIZE, &lim);
        write_file_atomic(p.string(), std::string(5000, 'x'));
        return std::string("written");
    });
    CHECK(r.text == "threw: " + p.string() + ": write failed: the file is over the file-size limit (File too large)");
    CHECK(slurp_file(p) == "old contents");
    CHECK(files_under(dir.path()) == std::vector<std::string>{"model.bin"});
}

TEST_CASE("write_file_atomic on a full disk: the cause says so, old file kept, no temporary left") {
    SKIP_IF(mount_missing());
    TempDir dir;
    SmallDisk disk(dir / "disk", 64 * 1024);
    const fs::path p = disk.path() / "encodings.bin";
    write_file_atomic(p.string(), "old contents");
    disk.fill(4096);
    CHECK_THROWS_WITH_AS(write_file_atomic(p.string(), std::string(20000, 'x')),
                         (p.string() + ": write failed: the disk is full (No space left on device)").c_str(), Error);
    CHECK(slurp_file(p) == "old contents");
    CHECK(files_under(disk.path()) == std::vector<std::string>{".filler", "encodings.bin"});
}

TEST_CASE("write_files_atomic: when the second file does not fit, neither file changes") {
    SKIP_IF(mount_missing());
    TempDir dir;
    SmallDisk disk(dir / "disk", 64 * 1024);
    const fs::path model = disk.path() / "model.bin", labels = disk.path() / "labels.bin";
    write_file_atomic(model.string(), "old model");
    write_file_atomic(labels.string(), "old labels");
    disk.fill(3 * 4096);
    const std::string new_model(4096, 'm'), new_labels(3 * 4096, 'l');  // the model fits, then the labels do not
    CHECK_THROWS_WITH_AS(write_files_atomic({{model.string(), new_model, 0600}, {labels.string(), new_labels, 0600}}),
                         doctest::Contains((labels.string() + ": write failed: the disk is full").c_str()), Error);
    CHECK(slurp_file(model) == "old model");
    CHECK(slurp_file(labels) == "old labels");
    CHECK(files_under(disk.path()) == std::vector<std::string>{".filler", "labels.bin", "model.bin"});
    disk.unfill();
    write_files_atomic({{model.string(), new_model, 0600}, {labels.string(), new_labels, 0600}});
    CHECK(slurp_file(model) == new_model);
    CHECK(slurp_file(labels) == new_labels);
}

TEST_CASE("write_file_atomic into a folder the user may not write names the folder") {
    TempDir dir;
    const fs::path out = dir / "out";
    fs::create_directories(out);
    fs::permissions(out, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                             fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
    let_unprivileged_read(out);
    const fs::path p = out / "model.bin";
    const ChildOutcome r = run_in_child([&] {
        if (::geteuid() == 0) {  // root writes anywhere: become nobody first
            const passwd* pw = ::getpwnam("nobody");
            if (!pw || ::setgid(pw->pw_gid) != 0 || ::setuid(pw->pw_uid) != 0) return std::string("cannot become nobody");
        }
        write_file_atomic(p.string(), "x");
        return std::string("written");
    });
    CHECK(r.text == "threw: " + p.string() + ": cannot create a file in folder " + out.string() + ": Permission denied");
    CHECK(files_under(out).empty());
}
