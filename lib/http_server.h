// http_server.h — the HTTP transport of `facepipe serve`: sockets, TLS, limits
// and a graceful stop, with cpp-httplib (Debian's libcpp-httplib-dev) parsing,
// routing and answering each request.
//
// httplib's own listen() is not used, for three reasons:
//   - its timeouts are per read, so a client that trickles a byte every few
//     seconds holds a worker for ever. Here a whole request (head and body)
//     must arrive within read_timeout of its first byte, and a whole response
//     leave within write_timeout;
//   - its queue of accepted connections has no bound. Here at most `queue`
//     wait for a worker; the next ones are answered 503 with Retry-After by
//     one small extra thread, and closed unanswered when even that is backed up;
//   - its stop() abandons the connections waiting in its queue. Here stop()
//     closes the listening socket, then every connection already accepted gets
//     its current request served (keep-alive ends), and run() returns.
// Each connection is served by httplib::Server::process_request, one request
// at a time, over this module's own socket (or TLS) stream.
//
// Per request, before the body is read, the server refuses by itself:
//   503 (+ Retry-After) when the connection came in while all workers and the
//   queue were busy; 411 for a chunked body (a length is required, so that
//   max_body is enforced before reading); 413 when Content-Length exceeds
//   max_body, 415 for a form-encoded body over 8 KB (httplib's limit for
//   those); then the `gate` (authentication) may refuse.
// A refused request's body is read and dropped (within read_timeout), so the
// client sees the answer; when the client waits for "100 Continue" it is never
// sent the go-ahead. A connection closes after any answer with status >= 400.
//
// Every answer with status >= 400 and no body gets {"error": "<reason>"}.
// Handlers must not throw: anything that escapes one becomes a 500 with
// {"error": "internal error"} (and one log line), never a crash.
#pragma once
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace facepipe {

struct HttpOptions {
    std::string host = "127.0.0.1";  // a name or a numeric IPv4/IPv6 address
    int port = 8080;                 // 0: any free port (see port())
    int workers = 4;                 // connections served at once, >= 1
    int queue = 64;                  // accepted connections waiting for a worker, >= 0
    std::chrono::milliseconds read_timeout{30000};   // a whole request, from its first byte
    std::chrono::milliseconds write_timeout{30000};  // a whole response
    std::chrono::milliseconds keep_alive{5000};      // idle time allowed between requests
    int keep_alive_max = 100;                        // requests per connection
    std::uint64_t max_body = 20ull << 20;            // bytes
    std::string tls_cert, tls_key;                   // PEM files; both set = HTTPS
};

struct HttpCounters {
    std::atomic<std::uint64_t> connections{0};  // accepted
    std::atomic<std::uint64_t> busy{0};         // answered 503 because workers and queue were full
    std::atomic<std::uint64_t> dropped{0};      // closed unanswered (even the 503 lane was full)
    std::atomic<std::uint64_t> timed_out{0};    // cut off by read_timeout or write_timeout
    std::atomic<std::uint64_t> tls_failed{0};   // TLS handshakes that failed
    std::atomic<int> active{0};                 // connections being served now
    std::atomic<int> queued{0};                 // connections waiting for a worker now
};

class HttpServer {
public:
    // Returns 0 to let the request through, else the status it has set on res
    // (with any headers and body). Called once the head is read, before the
    // body; it may be called twice for one request (Expect: 100-continue).
    using Gate = std::function<int(const httplib::Request&, httplib::Response&)>;
    // Called after each answer is written: request, response, milliseconds.
    using Logger = std::function<void(const httplib::Request&, const httplib::Response&, double ms)>;

    // HttpServer(options)
    //   ensures: the listening socket is bound to host:port (SO_REUSEADDR) and
    //            listening; with tls_cert/tls_key, the certificate and key are
    //            loaded and match.
    //   throws:  UsageError("--listen", cause) when host does not resolve or
    //            the port cannot be bound (in use, not permitted);
    //            UsageError("--tls-cert"/"--tls-key", cause) when the files
    //            cannot be loaded, do not match, or only one is given;
    //            UsageError("--threads"/"--queue", ...) when out of range.
    explicit HttpServer(HttpOptions options);
    ~HttpServer();  // requires: run() is not running (stop() it and let it return first)
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    int port() const;                // the bound port
    bool loopback_only() const;      // bound to 127.0.0.0/8 or ::1 only
    bool tls() const;
    const HttpOptions& options() const;
    const HttpCounters& counters() const;

    // Register handlers on it (Get, Post, Delete, set_error_handler...)
    // before run(). Never call its listen() or its pre-routing, Expect or
    // logger setters: they belong to this class.
    httplib::Server& routes();
    void set_gate(Gate gate);
    void set_logger(Logger logger);

    // Serves until stop(); returns once every accepted connection's current
    // request has been answered and every worker has ended.
    void run();
    // Thread-safe; returns at once. Safe to call before run() (which then
    // returns at once) and more than once.
    void stop();

    // From inside a handler: the connection closes after this answer.
    static void close_after_response();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace facepipe
