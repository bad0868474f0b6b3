// Implementation of serve_util.h.
#include "serve_util.h"

#include <doctest/doctest.h>
#include <signal.h>

#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace facepipe::test {

ServeProcess::ServeProcess(const fs::path& cwd, const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& env) {
    std::vector<std::string> argv = {FACEPIPE_BINARY, "--models", FACEPIPE_TEST_MODEL_DIR, "serve",
                                     "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), args.begin(), args.end());
    child_ = std::make_unique<Child>(argv, cwd, env);
    nlohmann::json line;
    const bool up = eventually(
        [&] {
            const std::string out = child_->out_so_far();
            const auto eol = out.find('\n');
            if (eol == std::string::npos) return !child_->running();  // give up when it died
            line = nlohmann::json::parse(out.substr(0, eol), nullptr, false);
            return true;
        },
        60);
    REQUIRE_MESSAGE(up, "serve did not start within 60 s: ", child_->err_so_far());
    REQUIRE_MESSAGE(line.is_object(), "serve did not start: ", child_->err_so_far());
    REQUIRE(line["event"] == "listening");
    port_ = line["port"].get<int>();
    REQUIRE(port_ > 0);
}

ServeProcess::~ServeProcess() = default;  // Child kills the group

httplib::Client ServeProcess::client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(10, 0);
    c.set_read_timeout(120, 0);
    c.set_write_timeout(60, 0);
    return c;
}

RunResult ServeProcess::stop() {
    child_->kill_group(SIGTERM);
    if (!eventually([&] { return !child_->running(); }, 60)) child_->kill_group(SIGKILL);
    return child_->wait();
}

void make_demo_model(const fs::path& dir) {
    const std::string make = std::string("bash '") + FACEPIPE_SOURCE_DIR + "/scripts/make_demo_dataset.sh' '" +
                             (dir / "dataset").string() + "' 2>/dev/null";
    REQUIRE(std::system(make.c_str()) == 0);
    const auto enc = run_facepipe_m({"encode", "--dataset", "dataset"}, dir);
    REQUIRE_MESSAGE(enc.exit_code == 0, enc.err);
    const auto tr = run_facepipe_m({"train"}, dir);
    REQUIRE_MESSAGE(tr.exit_code == 0, tr.err);
}

httplib::MultipartFormDataItems one_file(const std::string& bytes, const std::string& name) {
    return {{"file", bytes, name, "image/jpeg"}};
}

nlohmann::json json_of(const httplib::Result& r) {
    REQUIRE_MESSAGE(r, "no response: ", httplib::to_string(r.error()));
    const auto j = nlohmann::json::parse(r->body, nullptr, false);
    REQUIRE_MESSAGE(!j.is_discarded(), "not JSON (status ", r->status, "): ", r->body.substr(0, 300));
    return j;
}

Rss rss_of(pid_t pid) {
    Rss r;
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);) {
        std::istringstream s(line);
        std::string key;
        double kb = 0;
        s >> key >> kb;
        if (key == "VmRSS:") r.now_mib = kb / 1024;
        if (key == "VmHWM:") r.peak_mib = kb / 1024;
    }
    return r;
}

}  // namespace facepipe::test
