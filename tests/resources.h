// resources.h — running out of things on purpose: a full disk, a folder the
// process may not write, and the peak memory of a piece of work.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace facepipe::test {

// A small tmpfs mounted on `dir` (created), so that a write past its size fails
// with ENOSPC, a real full disk. Needs the right to mount (root in a container
// that allows it): mount_missing() says why not, for SKIP_IF (a failure under
// CI=true). Unmounted (with what it holds) when this object dies.
class SmallDisk {
public:
    SmallDisk(std::filesystem::path dir, std::uint64_t bytes);
    ~SmallDisk();
    SmallDisk(const SmallDisk&) = delete;
    SmallDisk& operator=(const SmallDisk&) = delete;
    const std::filesystem::path& path() const { return dir_; }
    // Fills the disk to its last byte with a file ".filler" (in the disk's root),
    // leaving `free_bytes` free (rounded down to whole pages).
    void fill(std::uint64_t free_bytes = 0);
    // Removes the filler: the disk has room again.
    void unfill();
    std::uint64_t free_bytes() const;

private:
    std::filesystem::path dir_;
    bool mounted_ = false;
};
std::string mount_missing();

// The argv that runs `argv` as user nobody (setpriv) when this process is root,
// for whom permission bits do not stop a write; else `argv` unchanged. Either
// way, a chmod 555 folder then refuses the child's writes.
std::vector<std::string> as_unprivileged(const std::vector<std::string>& argv);
// Makes `dir` and everything above it enterable (and readable) for that user.
void let_unprivileged_read(const std::filesystem::path& dir);

// The regular files under `dir` (relative paths, sorted), for "nothing was left
// behind" checks.
std::vector<std::string> files_under(const std::filesystem::path& dir);

// Runs work() in a forked child (the test's own memory untouched) and returns
// what work() returned, and by how much the child's peak RSS grew while it ran
// (getrusage RUSAGE_SELF, before and after, in KiB). An exception in work()
// comes back as its what() text prefixed by "threw: ".
struct ChildOutcome {
    std::string text;
    long peak_rss_growth_kib = -1;
};
ChildOutcome run_in_child(const std::function<std::string()>& work);

}  // namespace facepipe::test
