// e2e.h — running the built `facepipe` binary from end-to-end tests.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace facepipe::test {

struct RunResult {
    int exit_code = -1;  // the process's exit status; 128 + signal when killed by one
    std::string out;     // everything written to stdout
    std::string err;     // everything written to stderr
    long peak_rss_kib = -1;  // the process's peak resident memory (wait4's rusage)
};

// Runs FACEPIPE_BINARY with `args` (no shell: every argument is passed as is, so
// spaces, quotes and unicode need no quoting) in folder `cwd`, feeding
// `stdin_text` on stdin. stdout and stderr are captured separately.
RunResult run_facepipe(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                       const std::string& stdin_text = "");

// The same with `--models FACEPIPE_TEST_MODEL_DIR` put before `args`.
RunResult run_facepipe_m(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                         const std::string& stdin_text = "");

// The whole command line run_facepipe_m runs: FACEPIPE_BINARY, --models
// FACEPIPE_TEST_MODEL_DIR, then `args` (for a Child, or a script that runs it).
std::vector<std::string> facepipe_argv_m(const std::vector<std::string>& args);

// Whole-file helpers for building inputs.
std::string slurp(const std::filesystem::path& p);
void spit(const std::filesystem::path& p, const std::string& bytes);

// The lines of `text` that contain `needle`.
std::vector<std::string> lines_with(const std::string& text, const std::string& needle);

// Parsed `predict --format csv` output: one row per face (or per failed/faceless
// image), keyed by column name. Fields contain no commas in our test data, but
// quoted fields are handled.
struct CsvRow {
    std::string file, status, label, error;
    int face = -1;
    double distance = -1;
};
std::vector<CsvRow> parse_predict_csv(const std::string& text);

}  // namespace facepipe::test
