#include "bucket_sync.h"

#include <fcntl.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "error.h"
#include "fsutil.h"

extern char** environ;

namespace facepipe {

BucketSync::BucketSync(std::string command, std::map<std::string, std::string> env)
    : command_(std::move(command)), env_(std::move(env)) {
    if (enabled()) thread_ = std::thread([this] { run(); });
}

BucketSync::~BucketSync() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void BucketSync::request(bool with_delete) {
    if (!enabled()) return;
    {
        std::lock_guard<std::mutex> lock(mu_);
        pending_ = true;
        pending_delete_ = pending_delete_ || with_delete;
    }
    cv_.notify_all();
}

bool BucketSync::wait_idle(double seconds) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return !pending_ && !busy_; });
}

std::uint64_t BucketSync::runs() const {
    std::lock_guard<std::mutex> lock(mu_);
    return runs_;
}

std::uint64_t BucketSync::failures() const {
    std::lock_guard<std::mutex> lock(mu_);
    return failures_;
}

void BucketSync::run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
        cv_.wait(lock, [&] { return stopping_ || pending_; });
        if (stopping_) return;
        const bool with_delete = pending_delete_;
        pending_ = pending_delete_ = false;
        busy_ = true;
        lock.unlock();
        std::string last;
        const int status = push(with_delete, last);
        lock.lock();
        ++runs_;
        busy_ = false;
        if (status != 0) {
            ++failures_;
            spdlog::error("{} push{}: exited {}{}{}", printable(command_), with_delete ? " --delete" : "", status,
                          last.empty() ? "" : ": ", printable(last));
        } else {
            spdlog::info("{} push{}: done", printable(command_), with_delete ? " --delete" : "");
        }
        cv_.notify_all();
    }
}

// Runs the script to the end; its exit status (128 + signal when killed, 127
// when it cannot be started). Its stderr goes to a temporary file, whose last
// line is kept for the log.
int BucketSync::push(bool with_delete, std::string& last_err_line) {
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) {
        const std::string kv = *e;
        if (!env_.count(kv.substr(0, kv.find('=')))) env_strings.push_back(kv);
    }
    for (const auto& [k, v] : env_) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string cmd = command_, push_arg = "push", del = "--delete";
    std::vector<char*> argv = {cmd.data(), push_arg.data()};
    if (with_delete) argv.push_back(del.data());
    argv.push_back(nullptr);

    char err_path[] = "/tmp/facepipe-sync-XXXXXX";
    const int err_fd = ::mkstemp(err_path);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    if (err_fd >= 0) posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, cmd.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    int status = 127;
    if (rc != 0) {
        last_err_line = std::string("cannot start it: ") + std::strerror(rc);
    } else {
        int ws = 0;
        while (::waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
        }
        status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    }
    if (err_fd >= 0) {
        ::close(err_fd);
        try {
            std::string err = read_file(err_path, 1 << 20);
            while (!err.empty() && err.back() == '\n') err.pop_back();
            if (rc == 0) last_err_line = err.substr(err.rfind('\n') == std::string::npos ? 0 : err.rfind('\n') + 1);
        } catch (const std::exception&) {
        }
        ::unlink(err_path);
    }
    return status;
}

}  // namespace facepipe
