// serve_util.h — `facepipe serve` in end-to-end tests: the real binary on
// 127.0.0.1 and an ephemeral port (read from its first stdout line), stopped
// with SIGTERM. Every wait is bounded.
#pragma once
#include <httplib.h>

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "e2e_script.h"

namespace facepipe::test {

class ServeProcess {
public:
    // Runs `facepipe --models <test models> serve --listen 127.0.0.1:0 <args>`
    // in `cwd` and waits (at most 60 s) for its "listening" line; REQUIREs it.
    ServeProcess(const std::filesystem::path& cwd, const std::vector<std::string>& args = {},
                 const std::map<std::string, std::string>& env = {});
    ~ServeProcess();  // kills it when the test did not stop it

    int port() const { return port_; }
    pid_t pid() const { return child_->pid(); }
    // A client with generous timeouts (an enrolment retrains).
    httplib::Client client() const;
    // SIGTERM, then waits (at most 60 s, else SIGKILL): exit code and output.
    RunResult stop();
    std::string err_so_far() const { return child_->err_so_far(); }
    bool running() { return child_->running(); }

private:
    std::unique_ptr<Child> child_;
    int port_ = 0;
};

// A trained model of the demo people in `dir`: dataset/ (scripts/make_demo_dataset.sh),
// encodings.bin, model.bin, labels.bin. REQUIREs each step.
void make_demo_model(const std::filesystem::path& dir);

// A multipart body of one `file` field (CompreFace's and the enrol API's form).
httplib::MultipartFormDataItems one_file(const std::string& bytes, const std::string& name = "photo.jpg");

// The JSON body of a response (REQUIREs the response and valid JSON).
nlohmann::json json_of(const httplib::Result& r);

// The server's resident set (VmRSS) and peak (VmHWM) in MiB, from /proc.
struct Rss {
    double now_mib = 0, peak_mib = 0;
};
Rss rss_of(pid_t pid);

}  // namespace facepipe::test
