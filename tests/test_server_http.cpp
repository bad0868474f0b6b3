// Tests of the HTTP transport of `facepipe serve` (lib/http_server.h), in
// process on 127.0.0.1 ephemeral ports: limits, the 503 lane, read deadlines,
// errors as JSON, graceful stop and TLS. Every wait is bounded.
#include <doctest/doctest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "error.h"
#include "http_server.h"
#include "testutil.h"

using namespace facepipe;
using Json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

// A server running on its own thread; stopped and joined on destruction.
struct Running {
    HttpServer server;
    std::thread thread;
    explicit Running(HttpOptions o) : server(std::move(o)) {}
    void start() {
        thread = std::thread([this] { server.run(); });
    }
    ~Running() {
        server.stop();
        if (thread.joinable()) thread.join();
    }
    httplib::Client client() {
        httplib::Client c("127.0.0.1", server.port());
        c.set_read_timeout(10, 0);
        c.set_connection_timeout(5, 0);
        return c;
    }
};

HttpOptions local(int workers = 2, int queue = 4) {
    HttpOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.workers = workers;
    o.queue = queue;
    o.read_timeout = 2000ms;
    o.write_timeout = 2000ms;
    o.keep_alive = 1000ms;
    o.max_body = 1000;
    return o;
}

// A raw connection, for what a polite client would not do.
struct RawSocket {
    int fd = -1;
    explicit RawSocket(int port) {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    }
    ~RawSocket() { ::close(fd); }
    bool send(const std::string& s) { return ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size()); }
    // Everything until the peer closes or `limit` passes.
    std::string read_all(std::chrono::milliseconds limit = 10000ms) {
        std::string out;
        const auto until = std::chrono::steady_clock::now() + limit;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
            if (left.count() <= 0) break;
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
            char buf[4096];
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) break;
            out.append(buf, static_cast<size_t>(n));
        }
        return out;
    }
    // True when the peer has closed (recv gives 0 or an error) within `limit`.
    bool closed_within(std::chrono::milliseconds limit) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(limit.count())) <= 0) return false;
        char buf[4096];
        return ::recv(fd, buf, sizeof buf, MSG_DONTWAIT) <= 0;
    }
};

bool can_connect(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

int status_of(const std::string& response) {
    return response.size() > 12 ? std::atoi(response.substr(9, 3).c_str()) : -1;
}

// The tests' bounded waits: a safety net only, never a check of speed, so it
// is generous (the machine may be loaded by a parallel ctest, or ASan).
constexpr double kSafetyNetSeconds = 60;

// A handler that blocks until release().
struct Latch {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    std::atomic<int> waiting{0};
    void wait() {
        ++waiting;
        std::unique_lock<std::mutex> lock(mu);
        cv.wait_for(lock, 10s, [&] { return open; });
    }
    void release() {
        {
            std::lock_guard<std::mutex> lock(mu);
            open = true;
        }
        cv.notify_all();
    }
};

}  // namespace

TEST_CASE("HttpServer answers, refuses oversize, chunked and malformed requests as JSON, and keeps answering") {
    Running r(local());
    r.server.routes().Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
        res.set_content(std::to_string(req.body.size()), "text/plain");
    });
    r.server.routes().Get("/throw", [](const httplib::Request&, httplib::Response&) {
        throw std::runtime_error("boom");
    });
    r.start();
    auto c = r.client();
    auto ok = c.Post("/echo", std::string(1000, 'x'), "application/octet-stream");
    REQUIRE(ok);
    CHECK(ok->status == 200);
    CHECK(ok->body == "1000");

    auto big = c.Post("/echo", std::string(5000, 'x'), "application/octet-stream");
    REQUIRE(big);
    CHECK(big->status == 413);
    CHECK(Json::parse(big->body)["error"].get<std::string>().find("over the limit") != std::string::npos);

    {
        RawSocket s(r.server.port());
        s.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        const std::string got = s.read_all();
        CHECK(status_of(got) == 411);
    }
    {
        RawSocket s(r.server.port());
        s.send("NONSENSE\r\n\r\n");
        const std::string got = s.read_all();
        CHECK(status_of(got) == 400);
        CHECK(got.find("{\"error\":") != std::string::npos);
    }
    auto thrown = c.Get("/throw");
    REQUIRE(thrown);
    CHECK(thrown->status == 500);
    CHECK(Json::parse(thrown->body)["error"] == "internal error");
    auto missing = c.Get("/nowhere");
    REQUIRE(missing);
    CHECK(missing->status == 404);
    CHECK(Json::parse(missing->body)["error"] == "not found");

    auto again = c.Post("/echo", "abc", "application/octet-stream");
    REQUIRE(again);
    CHECK(again->status == 200);
}

TEST_CASE("HttpServer cuts off a client that trickles its request, while serving others") {
    HttpOptions o = local();
    o.read_timeout = 500ms;
    Running r(o);
    r.server.routes().Get("/ping", [](const httplib::Request&, httplib::Response& res) { res.set_content("pong", "text/plain"); });
    r.start();
    RawSocket slow(r.server.port());
    const std::string request = "GET /ping HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(400, 'a') + "\r\n\r\n";
    bool cut = false;
    // One byte every 50 ms: the whole request would take 20 s; the server must close first.
    for (size_t i = 0; i < request.size() && !cut; ++i) {
        if (!slow.send(request.substr(i, 1))) {
            cut = true;
            break;
        }
        cut = slow.closed_within(50ms);
        if (i == 3) {  // meanwhile a polite client is served
            auto c = r.client();
            auto res = c.Get("/ping");
            REQUIRE(res);
            CHECK(res->body == "pong");
        }
    }
    CHECK(cut);
    CHECK(test::eventually([&] { return r.server.counters().timed_out.load() >= 1; }, kSafetyNetSeconds));
}

TEST_CASE("HttpServer answers 503 with Retry-After when every worker and the queue are busy") {
    Running r(local(1, 0));
    Latch latch;
    r.server.routes().Get("/block", [&](const httplib::Request&, httplib::Response& res) {
        latch.wait();
        res.set_content("done", "text/plain");
    });
    r.start();
    RawSocket first(r.server.port());
    first.send("GET /block HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    REQUIRE(test::eventually([&] { return latch.waiting.load() == 1; }, kSafetyNetSeconds));

    RawSocket second(r.server.port());
    second.send("GET /block HTTP/1.1\r\nHost: x\r\n\r\n");
    const std::string busy = second.read_all();
    CHECK(status_of(busy) == 503);
    CHECK(busy.find("Retry-After: 1") != std::string::npos);
    CHECK(busy.find("server busy") != std::string::npos);
    CHECK(r.server.counters().busy.load() == 1);

    latch.release();
    const std::string done = first.read_all();
    CHECK(status_of(done) == 200);
    CHECK(done.find("done") != std::string::npos);
}

TEST_CASE("HttpServer's gate refuses before the body is read, and the client still gets the answer") {
    Running r(local());
    r.server.routes().Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
        res.set_content(std::to_string(req.body.size()), "text/plain");
    });
    r.server.set_gate([](const httplib::Request& req, httplib::Response& res) {
        if (req.get_header_value("x-api-key") == "k") return 0;
        res.status = 401;
        res.set_content("{\"error\":\"no key\"}", "application/json");
        return 401;
    });
    r.start();
    auto c = r.client();
    auto refused = c.Post("/echo", std::string(900, 'x'), "application/octet-stream");
    REQUIRE(refused);
    CHECK(refused->status == 401);
    CHECK(Json::parse(refused->body)["error"] == "no key");
    {
        RawSocket s(r.server.port());  // waiting for 100 Continue: refused without the body
        s.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\nExpect: 100-continue\r\n\r\n");
        CHECK(status_of(s.read_all()) == 401);
    }
    httplib::Headers key{{"x-api-key", "k"}};
    auto ok = c.Post("/echo", key, std::string(900, 'x'), "application/octet-stream");
    REQUIRE(ok);
    CHECK(ok->status == 200);
    CHECK(ok->body == "900");
}

TEST_CASE("HttpServer::stop finishes the request in flight, then run returns") {
    auto r = std::make_unique<Running>(local());
    Latch latch;
    r->server.routes().Get("/block", [&](const httplib::Request&, httplib::Response& res) {
        latch.wait();
        res.set_content("finished", "text/plain");
    });
    r->start();
    RawSocket s(r->server.port());
    s.send("GET /block HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(test::eventually([&] { return latch.waiting.load() == 1; }, kSafetyNetSeconds));
    r->server.stop();
    std::this_thread::sleep_for(200ms);  // the accept loop has seen the stop by now
    latch.release();
    const std::string got = s.read_all();
    CHECK(status_of(got) == 200);
    CHECK(got.find("finished") != std::string::npos);
    r->thread.join();  // returns: keep-alive ended because the server is stopping
    CHECK_FALSE(can_connect(r->server.port()));  // no longer listening
}

TEST_CASE("HttpServer refuses what it cannot bind or load, naming the flag") {
    Running first(local());
    HttpOptions taken = local();
    taken.port = first.server.port();
    try {
        HttpServer second(taken);
        FAIL("bound a port in use");
    } catch (const UsageError& e) {
        CHECK(e.subject() == "--listen");
    }
    CHECK(first.server.loopback_only());
    HttpOptions any = local();
    any.host = "0.0.0.0";
    CHECK_FALSE(HttpServer(any).loopback_only());
    HttpOptions bad = local();
    bad.tls_cert = "/nonexistent/cert.pem";
    bad.tls_key = "/nonexistent/key.pem";
    try {
        HttpServer s(bad);
        FAIL("loaded a missing certificate");
    } catch (const UsageError& e) {
        CHECK(e.subject() == "--tls-cert");
    }
    bad.tls_key.clear();
    CHECK_THROWS_AS(HttpServer{bad}, UsageError);
    HttpOptions unresolvable = local();
    unresolvable.host = "no-such-host.invalid";
    CHECK_THROWS_AS(HttpServer{unresolvable}, UsageError);
}

TEST_CASE("HttpServer serves HTTPS with --tls-cert and --tls-key") {
    facepipe::test::TempDir dir;
    const std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
    const std::string make = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -keyout '" + key +
                             "' -out '" + cert + "' 2>/dev/null";
    REQUIRE(std::system(make.c_str()) == 0);
    HttpOptions o = local();
    o.tls_cert = cert;
    o.tls_key = key;
    Running r(o);
    CHECK(r.server.tls());
    r.server.routes().Get("/ping", [](const httplib::Request&, httplib::Response& res) { res.set_content("pong", "text/plain"); });
    r.start();
    httplib::SSLClient c("127.0.0.1", r.server.port());
    c.enable_server_certificate_verification(false);
    c.set_read_timeout(10, 0);
    auto res = c.Get("/ping");
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->body == "pong");
    {
        RawSocket plain(r.server.port());  // plain HTTP to a TLS port: closed, and the server goes on
        plain.send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
        CHECK(plain.read_all().find("pong") == std::string::npos);
    }
    auto again = c.Get("/ping");
    REQUIRE(again);
    CHECK(again->body == "pong");
}
