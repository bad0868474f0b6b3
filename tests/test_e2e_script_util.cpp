// Implementation of e2e_script.h.
#include "e2e_script.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>

#include "classifier.h"
#include "train.h"
#include "encodings.h"
#include "testutil.h"

extern char** environ;
namespace fs = std::filesystem;

namespace facepipe::test {

Child::Child(const std::vector<std::string>& argv_s, const fs::path& cwd,
             const std::map<std::string, std::string>& env) {
    std::random_device rd;
    io_ = fs::temp_directory_path() / ("facepipe-child-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(io_);
    const std::string out_path = (io_ / "stdout").string(), err_path = (io_ / "stderr").string();
    std::vector<std::string> env_s;
    for (char** e = environ; *e; ++e) {
        const std::string kv = *e;
        if (!env.count(kv.substr(0, kv.find('=')))) env_s.push_back(kv);
    }
    for (const auto& [k, v] : env) env_s.push_back(k + "=" + v);
    std::vector<std::string> args = argv_s;
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    for (auto& e : env_s) envp.push_back(e.data());
    argv.push_back(nullptr), envp.push_back(nullptr);
    const std::string dir = cwd.string();

    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid_ == 0) {
        ::setpgid(0, 0);
        const int in = ::open("/dev/null", O_RDONLY);
        const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || out < 0 || err < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0)
            ::_exit(126);
        if (::chdir(dir.c_str()) != 0) ::_exit(126);
        environ = envp.data();
        ::execvp(argv[0], argv.data());
        ::_exit(127);
    }
    ::setpgid(pid_, pid_);  // also here, so the group exists before any kill_group
}

Child::~Child() {
    if (!reaped_ && pid_ > 0) {
        ::kill(-pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    fs::remove_all(io_, ec);
}

bool Child::running() {
    if (reaped_) return false;
    const pid_t r = ::waitpid(pid_, &status_, WNOHANG);
    if (r == pid_) reaped_ = true;
    return !reaped_;
}

RunResult Child::wait() {
    struct rusage usage {};
    usage.ru_maxrss = -1;
    while (!reaped_) {
        if (::wait4(pid_, &status_, 0, &usage) == pid_) reaped_ = true;
        else if (errno != EINTR) throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
    }
    RunResult r;
    r.exit_code = WIFEXITED(status_) ? WEXITSTATUS(status_) : WIFSIGNALED(status_) ? 128 + WTERMSIG(status_) : -1;
    r.out = slurp_file(io_ / "stdout");
    r.err = slurp_file(io_ / "stderr");
    r.peak_rss_kib = usage.ru_maxrss;
    return r;
}

void Child::kill_group(int signal) { ::kill(-pid_, signal); }

std::string Child::err_so_far() const { return slurp_file(io_ / "stderr"); }
std::string Child::out_so_far() const { return slurp_file(io_ / "stdout"); }

std::vector<std::string> script_argv(const std::string& name, const std::vector<std::string>& args) {
    std::vector<std::string> argv{"bash", std::string(FACEPIPE_SOURCE_DIR) + "/scripts/" + name};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

std::map<std::string, std::string> script_env(std::map<std::string, std::string> env) {
    env.emplace("FACEPIPE_BIN", FACEPIPE_BINARY);
    env.emplace("FACEPIPE_MODELS", FACEPIPE_TEST_MODEL_DIR);
    return env;
}

RunResult run_script(const std::string& name, const std::vector<std::string>& args, const fs::path& cwd,
                     std::map<std::string, std::string> env) {
    Child c(script_argv(name, args), cwd, script_env(std::move(env)));
    return c.wait();
}

void write_synthetic_artifacts(const fs::path& dir, int people, const std::string& model_id) {
    EncodingsFile f;
    f.model_id = model_id;
    std::mt19937 rng(7);
    std::normal_distribution<float> noise(0.f, 0.02f);
    for (int p = 0; p < people; ++p)
        for (int i = 0; i < 3; ++i) {
            EncodingRecord r;
            r.person = "person" + std::to_string(p);
            r.path = r.source = r.person + "/" + std::to_string(i) + ".jpg";
            r.content_hash = std::string(64, char('a' + p));
            r.faces_found = 1;
            r.box = {0, 0, 100, 100};
            r.descriptor.fill(0.f);
            r.descriptor[p] = 1.f;
            for (auto& v : r.descriptor) v += noise(rng);
            f.records.push_back(r);
        }
    fs::create_directories(dir);
    write_encodings((dir / "encodings.bin").string(), f);
    TrainReport report;
    save_model(train(f, TrainOptions{}, &report), (dir / "model.bin").string(), (dir / "labels.bin").string());
}

bool same_tree(const fs::path& a, const fs::path& b, std::string* diff) {
    auto files = [](const fs::path& root) {
        std::map<std::string, std::string> m;
        for (const auto& e : fs::recursive_directory_iterator(root))
            if (e.is_regular_file()) m[fs::relative(e.path(), root).string()] = slurp_file(e.path());
        return m;
    };
    const auto fa = files(a), fb = files(b);
    if (fa == fb) return true;
    if (diff) {
        for (const auto& [k, v] : fa)
            if (!fb.count(k) || fb.at(k) != v) *diff += k + " differs or is missing in " + b.string() + "\n";
        for (const auto& [k, v] : fb)
            if (!fa.count(k)) *diff += k + " is only in " + b.string() + "\n";
    }
    return false;
}

}  // namespace facepipe::test
