// facepipe serve — the REST API, the CompreFace subset and the web pages over
// warm models (lib/server.h).
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "live.h"
#include "options.h"
#include "server.h"
#include "server_auth.h"

namespace facepipe::cmd {
namespace {

struct ServeCommand {
    std::string listen = "127.0.0.1:8080", api_key_file;
    double read_timeout = 30, write_timeout = 30;
    double max_body_mb = 20;
    ServeOptions o;
    CollectFlags collect;
    ExitCode run(const Globals& g);
};

ExitCode ServeCommand::run(const Globals& g) {
    parse_listen(listen, o.http);
    if (!api_key_file.empty()) {
        o.api_key = read_api_key_file(api_key_file);
    } else if (const char* k = std::getenv("FACEPIPE_API_KEY"); k && *k) {
        o.api_key = checked_api_key(k, "FACEPIPE_API_KEY");
    }
    o.http.read_timeout = std::chrono::milliseconds(static_cast<long long>(read_timeout * 1000));
    o.http.write_timeout = std::chrono::milliseconds(static_cast<long long>(write_timeout * 1000));
    o.http.max_body = static_cast<std::uint64_t>(max_body_mb * (1 << 20));
    o.predict.analyzer = o.enroll.analyzer;  // recognition sees faces as enrolment does
    o.predict.limits = o.enroll.limits;
    o.sync_command = default_sync_command();
    o.collect = collect.resolve(o.enroll.model);
    StopOnSignals signals;
    serve(o, find_models(models_dir(g.models)), signals.flag(), [](const HttpServer& s) {
        // One line on stdout once listening, for scripts and tests (--listen HOST:0).
        const std::string url = std::string(s.tls() ? "https" : "http") + "://" +
                                (s.options().host.find(':') != std::string::npos ? "[" + s.options().host + "]"
                                                                                 : s.options().host) +
                                ":" + std::to_string(s.port()) + "/";
        std::cout << nlohmann::json{{"event", "listening"}, {"url", url}, {"port", s.port()}, {"tls", s.tls()}}.dump()
                  << std::endl;
    });
    return kOk;
}

}  // namespace

void add_serve(CLI::App& app, Globals& g) {
    auto* c = app.add_subcommand(
        "serve",
        "web pages, a REST API and a CompreFace-compatible API over models loaded once (docs/serve.md)\n"
        "  example: facepipe serve --listen 127.0.0.1:8080   # then open http://127.0.0.1:8080/");
    auto cmd = std::make_shared<ServeCommand>();
    ServeOptions& o = cmd->o;
    c->add_option("--listen", cmd->listen, "HOST:PORT, [IPv6]:PORT or :PORT (all addresses; needs an API key); port 0 = any")
        ->capture_default_str()->envname("FACEPIPE_LISTEN");
    c->add_option("--api-key-file", cmd->api_key_file,
                  "file whose first line is the API key every request must carry (default: $FACEPIPE_API_KEY)")
        ->envname("FACEPIPE_API_KEY_FILE");
    add_enrolment_flags(c, o.enroll);
    c->add_option("-j,--threads", o.threads, "images analysed at once (0 = all cores); 4 more connections serve the rest")
        ->capture_default_str()->check(CLI::Range(0, 256));
    c->add_option("--queue", o.http.queue, "connections that may wait for a worker; beyond, 503 with Retry-After")
        ->capture_default_str()->check(CLI::Range(0, 100000));
    c->add_option("--max-body", cmd->max_body_mb, "largest request body in MB (413 beyond)")
        ->capture_default_str()->check(CLI::Range(0.001, 4096.0));
    c->add_option("--read-timeout", cmd->read_timeout, "seconds a whole request may take to arrive")
        ->capture_default_str()->check(CLI::Range(0.1, 3600.0));
    c->add_option("--write-timeout", cmd->write_timeout, "seconds a whole answer may take to leave")
        ->capture_default_str()->check(CLI::Range(0.1, 3600.0));
    c->add_option("--sessions", o.max_sessions, "live sessions (browser tabs) at once")
        ->capture_default_str()->check(CLI::Range(1, 1000));
    c->add_option("--tls-cert", o.http.tls_cert, "PEM certificate (chain): serve HTTPS (with --tls-key)");
    c->add_option("--tls-key", o.http.tls_key, "PEM private key of --tls-cert");
    add_analyzer_flags(c, o.enroll.analyzer);
    add_collect_flags(c, cmd->collect, true);
    run_on_callback(c, g, cmd);
}

}  // namespace facepipe::cmd
