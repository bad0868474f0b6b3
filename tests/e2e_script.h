// e2e_script.h — running scripts/*.sh (and facepipe in the background) from
// end-to-end tests, plus small artifacts made without the face models.
#pragma once
#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "e2e.h"
#include "testutil.h"  // eventually()

namespace facepipe::test {

// A child process with stdout and stderr captured in files (no pipes to fill up),
// in its own process group so a test can kill it and everything it started.
class Child {
public:
    // argv[0] is run as is (execvp: a path, or a name searched on PATH); env entries
    // are added to (or replace) the test's own environment.
    Child(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
          const std::map<std::string, std::string>& env = {});
    ~Child();  // kills the group if the test did not wait
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    RunResult wait();
    bool running();               // false once the process has exited (reaps it)
    void kill_group(int signal);  // signals the whole process group
    std::string err_so_far() const;
    std::string out_so_far() const;
    pid_t pid() const { return pid_; }

private:
    std::filesystem::path io_;
    pid_t pid_ = -1;
    bool reaped_ = false;
    int status_ = 0;
};

// Runs scripts/<name> with bash and waits; FACEPIPE_BIN and FACEPIPE_MODELS point at
// the binary and models under test, then `env` is applied.
RunResult run_script(const std::string& name, const std::vector<std::string>& args,
                     const std::filesystem::path& cwd, std::map<std::string, std::string> env = {});
std::vector<std::string> script_argv(const std::string& name, const std::vector<std::string>& args);
std::map<std::string, std::string> script_env(std::map<std::string, std::string> env = {});

// Writes a small valid encodings.bin, model.bin and labels.bin into `dir` (made
// by the library from synthetic descriptors: no face models needed). With the
// model_id of real models (models.h ModelFiles::model_id), predict accepts them.
void write_synthetic_artifacts(const std::filesystem::path& dir, int people = 3,
                               const std::string& model_id = "resnet:000000000000/landmarks:000000000000");

// True when every regular file under a and b has the same relative path and bytes.
bool same_tree(const std::filesystem::path& a, const std::filesystem::path& b, std::string* diff = nullptr);

}  // namespace facepipe::test

