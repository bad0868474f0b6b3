// Implementation of e2e.h: runs the facepipe binary without a shell.
#include "e2e.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "testutil.h"

namespace fs = std::filesystem;

namespace facepipe::test {

std::string slurp(const fs::path& p) { return slurp_file(p); }

void spit(const fs::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + p.string());
}

RunResult run_facepipe(const std::vector<std::string>& args, const fs::path& cwd, const std::string& stdin_text) {
    // stdin, stdout and stderr go through files in a private temp folder: no pipe
    // deadlocks and no shell quoting.
    TempDir io;
    const std::string in_path = (io / "stdin").string(), out_path = (io / "stdout").string(),
                      err_path = (io / "stderr").string();
    spit(in_path, stdin_text);

    std::vector<std::string> argv_s{FACEPIPE_BINARY};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string dir = cwd.string();

    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
        // Child: only async-signal-safe calls from here on.
        const int in = ::open(in_path.c_str(), O_RDONLY);
        const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || out < 0 || err < 0) ::_exit(126);
        if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(126);
        if (::chdir(dir.c_str()) != 0) {
            static const char msg[] = "run_facepipe: cannot chdir\n";
            (void)!::write(2, msg, sizeof msg - 1);
            ::_exit(126);
        }
        ::execv(argv[0], argv.data());
        static const char msg[] = "run_facepipe: cannot exec FACEPIPE_BINARY\n";
        (void)!::write(2, msg, sizeof msg - 1);
        ::_exit(127);
    }
    int status = 0;
    struct rusage usage {};
    while (::wait4(pid, &status, 0, &usage) < 0) {
        if (errno != EINTR) throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
    }
    RunResult r;
    r.peak_rss_kib = usage.ru_maxrss;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
    r.out = slurp(out_path);
    r.err = slurp(err_path);
    return r;
}

RunResult run_facepipe_m(const std::vector<std::string>& args, const fs::path& cwd, const std::string& stdin_text) {
    std::vector<std::string> all{"--models", FACEPIPE_TEST_MODEL_DIR};
    all.insert(all.end(), args.begin(), args.end());
    return run_facepipe(all, cwd, stdin_text);
}

std::vector<std::string> facepipe_argv_m(const std::vector<std::string>& args) {
    std::vector<std::string> argv{FACEPIPE_BINARY, "--models", FACEPIPE_TEST_MODEL_DIR};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

std::vector<std::string> lines_with(const std::string& text, const std::string& needle) {
    std::vector<std::string> found;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.find(needle) != std::string::npos) found.push_back(line);
    return found;
}

namespace {

// RFC 4180 records: quoted fields may hold commas, doubled quotes and newlines.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> row;
    std::string field;
    bool quoted = false, any = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
            else if (c == '"') quoted = false;
            else field += c;
            continue;
        }
        any = true;
        if (c == '"') quoted = true;
        else if (c == ',') row.push_back(field), field.clear();
        else if (c == '\n') {
            row.push_back(field), field.clear();
            rows.push_back(row), row.clear();
            any = false;
        } else if (c != '\r') field += c;
    }
    if (any) row.push_back(field), rows.push_back(row);
    return rows;
}

}  // namespace

std::vector<CsvRow> parse_predict_csv(const std::string& text) {
    const auto rows = parse_csv(text);
    std::vector<CsvRow> result;
    if (rows.empty()) return result;
    const std::vector<std::string> header{"file", "status", "face", "x", "y", "width", "height", "label", "distance", "error"};
    if (rows[0] != header) throw std::runtime_error("unexpected csv header: " + text.substr(0, text.find('\n')));
    for (size_t i = 1; i < rows.size(); ++i) {
        const auto& f = rows[i];
        if (f.size() != header.size()) throw std::runtime_error("csv row " + std::to_string(i) + " has " +
                                                                std::to_string(f.size()) + " fields");
        CsvRow r;
        r.file = f[0], r.status = f[1], r.label = f[7], r.error = f[9];
        if (!f[2].empty()) r.face = std::stoi(f[2]);
        if (!f[8].empty()) r.distance = std::stod(f[8]);
        result.push_back(r);
    }
    return result;
}

}  // namespace facepipe::test

using namespace facepipe::test;

TEST_CASE("e2e: run_facepipe passes arguments verbatim and separates stdout from stderr") {
    TempDir dir;
    const auto r = run_facepipe({"--version"}, dir.path());
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("facepipe") != std::string::npos);
    // An argument with spaces, quotes and unicode reaches the binary as one
    // argument: CLI11 names it in its complaint.
    const auto bad = run_facepipe({"predict", "--format", "it's \"Zoë\" $HOME"}, dir.path());
    CHECK(bad.exit_code == 2);
    CHECK(bad.out.empty());
    CHECK(bad.err.find("it's \"Zoë\" $HOME") != std::string::npos);
}

TEST_CASE("e2e: parse_predict_csv handles quoted fields") {
    const auto rows = parse_predict_csv(
        "file,status,face,x,y,width,height,label,distance,error\n"
        "\"a,b.jpg\",error,,,,,,,,\"a,b.jpg: cannot \"\"decode\"\"\"\n"
        "c.jpg,ok,0,1,2,3,4,obama,0.250,\n");
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].file == "a,b.jpg");
    CHECK(rows[0].error == "a,b.jpg: cannot \"decode\"");
    CHECK(rows[1].label == "obama");
    CHECK(rows[1].face == 0);
    CHECK(rows[1].distance == doctest::Approx(0.25));
}
