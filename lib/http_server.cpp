#include "http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "error.h"

namespace facepipe {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kRejectQueue = 64;                 // connections waiting for a 503
constexpr milliseconds kRejectTimeout{2000};     // the 503 lane's read and write limit
constexpr milliseconds kLinger{1000};            // draining a closing connection
constexpr milliseconds kStopCheck{100};          // how often waits look at stop()

// Milliseconds left until `until`, rounded up (a poll must not wake early).
int remaining_ms(Clock::time_point until) {
    const auto left = std::chrono::duration_cast<std::chrono::microseconds>(until - Clock::now()).count();
    return left <= 0 ? 0 : left / 1000 >= INT_MAX ? INT_MAX : static_cast<int>((left + 999) / 1000);
}

enum class Wait { ready, timeout, error };

// Waits until fd is ready for `events` (an error or hang-up counts as ready:
// the next call reports it), or `until` passes.
Wait poll_fd(int fd, short events, Clock::time_point until) {
    for (;;) {
        pollfd p{fd, events, 0};
        const int r = ::poll(&p, 1, remaining_ms(until));
        if (r > 0) return Wait::ready;
        if (r == 0) return Wait::timeout;
        if (errno != EINTR) return Wait::error;
    }
}

bool wait_fd(int fd, short events, Clock::time_point until) { return poll_fd(fd, events, until) == Wait::ready; }

std::string openssl_error() {
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (!e) return "unknown TLS error";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

void address_of(const sockaddr_storage& a, std::string& ip, int& port) {
    char buf[INET6_ADDRSTRLEN] = "";
    if (a.ss_family == AF_INET) {
        const auto* s = reinterpret_cast<const sockaddr_in*>(&a);
        inet_ntop(AF_INET, &s->sin_addr, buf, sizeof buf);
        port = ntohs(s->sin_port);
    } else if (a.ss_family == AF_INET6) {
        const auto* s = reinterpret_cast<const sockaddr_in6*>(&a);
        inet_ntop(AF_INET6, &s->sin6_addr, buf, sizeof buf);
        port = ntohs(s->sin6_port);
    }
    ip = buf;
}

bool is_loopback(const sockaddr_storage& a) {
    if (a.ss_family == AF_INET)
        return (ntohl(reinterpret_cast<const sockaddr_in*>(&a)->sin_addr.s_addr) >> 24) == 127;
    if (a.ss_family == AF_INET6) {
        const in6_addr& x = reinterpret_cast<const sockaddr_in6*>(&a)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(&x) || (IN6_IS_ADDR_V4MAPPED(&x) && x.s6_addr[12] == 127);
    }
    return false;
}

const char* reason(int status) {
    switch (status) {
        case 400: return "bad request";
        case 401: return "unauthorized";
        case 403: return "forbidden";
        case 404: return "not found";
        case 405: return "method not allowed";
        case 408: return "request timeout";
        case 411: return "length required";
        case 413: return "payload too large";
        case 414: return "URI too long";
        case 415: return "unsupported media type";
        case 416: return "range not satisfiable";
        case 422: return "unprocessable entity";
        case 500: return "internal error";
        case 503: return "service unavailable";
        default: return status < 500 ? "client error" : "server error";
    }
}

void set_json_error(httplib::Response& res, int status, const std::string& message) {
    res.status = status;
    res.set_content(nlohmann::json{{"error", message}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    "application/json");
}

// One connection's bytes, plain or TLS, on a non-blocking socket: every wait
// is a poll() bounded by the current request's read or write deadline.
class ConnStream final : public httplib::Stream {
public:
    ConnStream(int fd, SSL* ssl, milliseconds write_timeout) : fd_(fd), ssl_(ssl), write_timeout_(write_timeout) {}

    bool handshake(Clock::time_point until) {
        for (;;) {
            ERR_clear_error();
            const int r = SSL_accept(ssl_);
            if (r == 1) return true;
            const int e = SSL_get_error(ssl_, r);
            const short ev = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
            if (!ev || !wait_fd(fd_, ev, until)) {
                ERR_clear_error();
                return false;
            }
        }
    }

    // A new request starts: the whole of it must arrive by `read_deadline`.
    void begin_request(Clock::time_point read_deadline) {
        read_deadline_ = read_deadline;
        writing_ = false;
    }

    bool buffered() const { return off_ < len_ || (ssl_ && SSL_pending(ssl_) > 0); }

    // Waits for a request's first byte until `until`; gives up early when
    // *abort turns true (checked every kStopCheck).
    bool wait_request(Clock::time_point until, const std::atomic<bool>* abort) {
        if (buffered()) return true;
        for (;;) {
            const auto slice = abort ? std::min(until, Clock::now() + kStopCheck) : until;
            if (wait_fd(fd_, POLLIN, slice)) return true;
            if (Clock::now() >= until || (abort && abort->load())) return false;
        }
    }

    bool timed_out() const { return timed_out_; }

    bool is_readable() const override { return buffered() || wait_fd(fd_, POLLIN, read_deadline_); }
    bool is_writable() const override {
        start_writing();
        return wait_fd(fd_, POLLOUT, write_deadline_);
    }

    ssize_t read(char* ptr, size_t size) override {
        writing_ = false;  // the answer that follows gets its own write_timeout
        if (off_ == len_) {
            if (size >= buf_.size()) return raw_read(ptr, size);
            const ssize_t n = raw_read(buf_.data(), buf_.size());
            if (n <= 0) return n;
            off_ = 0;
            len_ = static_cast<size_t>(n);
        }
        const size_t k = std::min(size, len_ - off_);
        std::memcpy(ptr, buf_.data() + off_, k);
        off_ += k;
        return static_cast<ssize_t>(k);
    }

    ssize_t write(const char* ptr, size_t size) override {
        start_writing();
        size_t done = 0;
        while (done < size) {
            short ev = POLLOUT;
            if (ssl_) {
                ERR_clear_error();
                const int r = SSL_write(ssl_, ptr + done, static_cast<int>(std::min<size_t>(size - done, INT_MAX)));
                if (r > 0) {
                    done += static_cast<size_t>(r);
                    continue;
                }
                const int e = SSL_get_error(ssl_, r);
                ev = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
                if (!ev) return -1;
            } else {
                const ssize_t r = ::send(fd_, ptr + done, size - done, MSG_NOSIGNAL);
                if (r >= 0) {
                    done += static_cast<size_t>(r);
                    continue;
                }
                if (errno == EINTR) continue;
                if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
            }
            if (const Wait w = poll_fd(fd_, ev, write_deadline_); w != Wait::ready) return failed(w);
        }
        return static_cast<ssize_t>(size);
    }

    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        sockaddr_storage a{};
        socklen_t n = sizeof a;
        if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&a), &n) == 0) address_of(a, ip, port);
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        sockaddr_storage a{};
        socklen_t n = sizeof a;
        if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &n) == 0) address_of(a, ip, port);
    }
    socket_t socket() const override { return fd_; }

    // Closes the connection. `linger`: the client may still be sending (a
    // body that was never read): when bytes are waiting, stop writing and
    // drop what comes for up to kLinger, so that closing with unread bytes
    // does not reset the connection before the client has read the answer.
    void close(bool linger) {
        if (ssl_) {
            ERR_clear_error();
            SSL_shutdown(ssl_);  // close_notify, best effort (non-blocking)
            ERR_clear_error();
        }
        if (linger && (buffered() || wait_fd(fd_, POLLIN, Clock::now()))) {
            ::shutdown(fd_, SHUT_WR);
            const auto until = Clock::now() + kLinger;
            char sink[16384];
            while (wait_fd(fd_, POLLIN, until)) {
                const ssize_t r = ::recv(fd_, sink, sizeof sink, 0);
                if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) break;
            }
        }
        ::close(fd_);
    }

private:
    void start_writing() const {
        if (writing_) return;
        writing_ = true;
        write_deadline_ = Clock::now() + write_timeout_;
    }

    ssize_t failed(Wait w) const {
        if (w == Wait::timeout) timed_out_ = true;
        return -1;
    }

    // One read of up to n bytes; 0 at the end of the stream, -1 on an error
    // or when the read deadline passes.
    ssize_t raw_read(char* p, size_t n) {
        for (;;) {
            short ev = POLLIN;
            if (ssl_) {
                ERR_clear_error();
                const int r = SSL_read(ssl_, p, static_cast<int>(std::min<size_t>(n, INT_MAX)));
                if (r > 0) return r;
                const int e = SSL_get_error(ssl_, r);
                if (e == SSL_ERROR_ZERO_RETURN) return 0;
                ev = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
                if (!ev) return -1;
            } else {
                const ssize_t r = ::recv(fd_, p, n, 0);
                if (r >= 0) return r;
                if (errno == EINTR) continue;
                if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
            }
            if (const Wait w = poll_fd(fd_, ev, read_deadline_); w != Wait::ready) return failed(w);
        }
    }

    int fd_;
    SSL* ssl_;
    milliseconds write_timeout_;
    std::array<char, 16384> buf_{};
    size_t off_ = 0, len_ = 0;
    Clock::time_point read_deadline_ = Clock::now();
    mutable Clock::time_point write_deadline_;
    mutable bool writing_ = false;
    mutable bool timed_out_ = false;
};

// What the handlers of the request being served on this thread may change.
struct RequestState {
    ConnStream* stream = nullptr;
    bool overloaded = false;   // served by the 503 lane
    bool close_after = false;  // the connection closes after this answer
    int status = 0;            // of the answer written last
    Clock::time_point start;
};
thread_local RequestState* tl_request = nullptr;

bool header_says(const httplib::Request& req, const char* name, const char* token) {
    std::string v = req.get_header_value(name);
    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
    return v.find(token) != std::string::npos;
}

}  // namespace

struct HttpServer::Impl : httplib::Server {
    HttpOptions o;
    HttpCounters counters;
    int listen_fd = -1;
    int bound_port = 0;
    bool loopback = false;
    SSL_CTX* ctx = nullptr;
    Gate gate;
    HttpServer::Logger logger;
    std::atomic<bool> stopping{false};
    std::mutex mu;
    std::condition_variable cv, cv_reject;
    std::deque<int> pending, rejects;
    int idle = 0;
    bool draining = false;

    explicit Impl(HttpOptions options) : o(std::move(options)) {}
    ~Impl() override {
        for (int fd : pending) ::close(fd);
        for (int fd : rejects) ::close(fd);
        if (listen_fd >= 0) ::close(listen_fd);
        if (ctx) SSL_CTX_free(ctx);
    }

    void bind_socket();
    void close_listener() {
        svr_sock_ = INVALID_SOCKET;
        ::close(listen_fd);
        listen_fd = -1;
    }
    void load_tls();
    void install_hooks();
    int admit(const httplib::Request& req, httplib::Response& res);
    void discard_body(const httplib::Request& req);
    void dispatch(int fd);
    void worker(bool reject_lane);
    void serve(int fd, bool overloaded);
};

void HttpServer::Impl::bind_socket() {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string where = (o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host) + ":" +
                              std::to_string(o.port);
    const int rc = ::getaddrinfo(o.host.empty() ? nullptr : o.host.c_str(), std::to_string(o.port).c_str(), &hints, &found);
    if (rc != 0) throw UsageError("--listen", where + ": cannot resolve the host (" + gai_strerror(rc) + ")");
    int err = 0;
    for (addrinfo* a = found; a && listen_fd < 0; a = a->ai_next) {
        const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        const int yes = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 128) == 0) {
            listen_fd = fd;
        } else {
            err = errno;
            ::close(fd);
        }
    }
    ::freeaddrinfo(found);
    if (listen_fd < 0) throw UsageError("--listen", where + ": cannot listen (" + std::strerror(err) + ")");
    sockaddr_storage a{};
    socklen_t n = sizeof a;
    ::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&a), &n);
    std::string ip;
    address_of(a, ip, bound_port);
    loopback = is_loopback(a);
    svr_sock_ = listen_fd;  // httplib reads it as "not shutting down"
}

void HttpServer::Impl::load_tls() {
    if (o.tls_cert.empty() && o.tls_key.empty()) return;
    if (o.tls_cert.empty()) throw UsageError("--tls-cert", "--tls-key needs --tls-cert too");
    if (o.tls_key.empty()) throw UsageError("--tls-key", "--tls-cert needs --tls-key too");
    ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) throw UsageError("--tls-cert", "cannot set up TLS: " + openssl_error());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_use_certificate_chain_file(ctx, o.tls_cert.c_str()) != 1)
        throw UsageError("--tls-cert", o.tls_cert + ": cannot load the certificate (" + openssl_error() + ")");
    if (SSL_CTX_use_PrivateKey_file(ctx, o.tls_key.c_str(), SSL_FILETYPE_PEM) != 1)
        throw UsageError("--tls-key", o.tls_key + ": cannot load the private key (" + openssl_error() + ")");
    if (SSL_CTX_check_private_key(ctx) != 1)
        throw UsageError("--tls-key", o.tls_key + ": does not match the certificate " + o.tls_cert);
}

// The checks every request passes before its body is read (see the header).
int HttpServer::Impl::admit(const httplib::Request& req, httplib::Response& res) {
    if (tl_request && tl_request->overloaded) {
        set_json_error(res, 503, "server busy: every worker and the queue are full, retry shortly");
        res.set_header("Retry-After", "1");
        return 503;
    }
    if (header_says(req, "Transfer-Encoding", "chunked")) {
        set_json_error(res, 411, "a request body needs a Content-Length (chunked uploads are not accepted)");
        if (tl_request) tl_request->close_after = true;
        return 411;
    }
    if (req.has_header("Content-Length")) {
        const std::string v = req.get_header_value("Content-Length");
        char* end = nullptr;
        errno = 0;
        const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
        if (v.empty() || *end || errno || v[0] == '-') {
            set_json_error(res, 400, "invalid Content-Length");
            if (tl_request) tl_request->close_after = true;
            return 400;
        }
        if (n > o.max_body) {
            set_json_error(res, 413, "request body of " + v + " bytes is over the limit of " +
                                         std::to_string(o.max_body) + " bytes (--max-body)");
            return 413;
        }
        // httplib parses such a body into parameters, and refuses it beyond 8 KB as "too large".
        if (n > CPPHTTPLIB_FORM_URL_ENCODED_PAYLOAD_MAX_LENGTH &&
            header_says(req, "Content-Type", "application/x-www-form-urlencoded")) {
            set_json_error(res, 415, "a form-encoded body is for small forms (8 KB at most): send an image as "
                                     "image/* (curl -H 'Content-Type: image/jpeg') or multipart/form-data");
            return 415;
        }
    }
    if (gate) return gate(req, res);
    return 0;
}

// A request refused before its body was read: read and drop the body, so the
// next request on the connection starts where it should (within the read
// deadline). When that fails, the connection closes.
void HttpServer::Impl::discard_body(const httplib::Request& req) {
    if (!tl_request || !tl_request->stream) return;
    std::uint64_t left = std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10);
    char sink[16384];
    while (left > 0) {
        const ssize_t n = tl_request->stream->read(sink, std::min<std::uint64_t>(left, sizeof sink));
        if (n <= 0) {
            tl_request->close_after = true;
            return;
        }
        left -= static_cast<std::uint64_t>(n);
    }
}

void HttpServer::Impl::install_hooks() {
    keep_alive_timeout_sec_ = std::max<time_t>(1, std::chrono::duration_cast<std::chrono::seconds>(o.keep_alive).count());
    keep_alive_max_count_ = static_cast<size_t>(o.keep_alive_max);
    payload_max_length_ = static_cast<size_t>(o.max_body);
    set_expect_100_continue_handler([this](const httplib::Request& req, httplib::Response& res) {
        if (admit(req, res) == 0) return 100;
        if (tl_request) tl_request->close_after = true;  // the client holds the body back; don't wait for it
        return res.status;
    });
    set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        if (admit(req, res) == 0) return HandlerResponse::Unhandled;
        if (!tl_request || !tl_request->close_after) discard_body(req);
        return HandlerResponse::Handled;
    });
    set_error_handler(HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
        if (res.body.empty()) set_json_error(res, res.status, reason(res.status));
        return HandlerResponse::Handled;
    }));
    set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
            if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
            what = e.what();
        } catch (...) {
        }
        spdlog::error("{} {}: internal error: {}", req.method, printable(req.path), printable(what));
        set_json_error(res, 500, "internal error");
    });
    Server::set_logger([this](const httplib::Request& req, const httplib::Response& res) {
        if (tl_request) tl_request->status = res.status;
        if (!logger) return;
        const double ms = tl_request ? std::chrono::duration<double, std::milli>(Clock::now() - tl_request->start).count() : 0;
        logger(req, res, ms);
    });
}

void HttpServer::Impl::dispatch(int fd) {
    {
        std::lock_guard<std::mutex> lock(mu);
        if (static_cast<int>(pending.size()) < o.queue + idle) {
            pending.push_back(fd);
            counters.queued = static_cast<int>(pending.size());
            cv.notify_one();
            return;
        }
        if (static_cast<int>(rejects.size()) < kRejectQueue) {
            rejects.push_back(fd);
            ++counters.busy;
            cv_reject.notify_one();
            return;
        }
    }
    ++counters.dropped;
    ::close(fd);
}

void HttpServer::Impl::worker(bool reject_lane) {
    auto& queue = reject_lane ? rejects : pending;
    auto& wake = reject_lane ? cv_reject : cv;
    for (;;) {
        int fd = -1;
        {
            std::unique_lock<std::mutex> lock(mu);
            if (!reject_lane) ++idle;
            wake.wait(lock, [&] { return !queue.empty() || draining; });
            if (!reject_lane) --idle;
            if (queue.empty()) return;  // draining, and nothing left
            fd = queue.front();
            queue.pop_front();
            if (!reject_lane) counters.queued = static_cast<int>(queue.size());
        }
        ++counters.active;
        try {
            serve(fd, reject_lane);
        } catch (const std::exception& e) {  // never expected: handlers are wrapped
            spdlog::error("connection: {}", printable(e.what()));
        }
        --counters.active;
    }
}

void HttpServer::Impl::serve(int fd, bool overloaded) {
    const int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    const milliseconds read_limit = overloaded ? std::min(o.read_timeout, kRejectTimeout) : o.read_timeout;
    const milliseconds write_limit = overloaded ? std::min(o.write_timeout, kRejectTimeout) : o.write_timeout;
    SSL* ssl = nullptr;
    if (ctx) {
        ssl = SSL_new(ctx);
        if (!ssl || SSL_set_fd(ssl, fd) != 1) {
            if (ssl) SSL_free(ssl);
            ::close(fd);
            ++counters.tls_failed;
            return;
        }
    }
    ConnStream stream(fd, ssl, write_limit);
    RequestState state;
    state.stream = &stream;
    state.overloaded = overloaded;
    bool linger = false;
    if (ssl && !stream.handshake(Clock::now() + read_limit)) {
        ++counters.tls_failed;
    } else {
        tl_request = &state;
        static const std::function<void(httplib::Request&)> no_setup;
        for (int n = 0; n < o.keep_alive_max; ++n) {
            // The first request may come up to keep_alive after connecting, as
            // the next ones do; a stop only cuts the wait between requests.
            if (!stream.wait_request(Clock::now() + std::min(o.keep_alive, read_limit), n == 0 ? nullptr : &stopping))
                break;
            state.close_after = false;
            state.status = 0;
            state.start = Clock::now();
            stream.begin_request(state.start + read_limit);
            const bool last = overloaded || stopping || n + 1 == o.keep_alive_max;
            bool closed = false;
            const bool ok = process_request(stream, last, closed, no_setup);
            if (stream.timed_out()) {
                ++counters.timed_out;
                break;
            }
            // After an error the body may be partly unread (a malformed
            // multipart stops the parser): the connection is not reused.
            if (!ok || closed || last || state.close_after || state.status >= 400) {
                linger = ok && !closed;
                break;
            }
        }
        tl_request = nullptr;
    }
    stream.close(linger);
    if (ssl) SSL_free(ssl);
}

HttpServer::HttpServer(HttpOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
    const HttpOptions& o = impl_->o;
    if (o.workers < 1 || o.workers > 1024) throw UsageError("--threads", "must be between 1 and 1024");
    if (o.queue < 0 || o.queue > 100000) throw UsageError("--queue", "must be between 0 and 100000");
    if (o.port < 0 || o.port > 65535) throw UsageError("--listen", "port " + std::to_string(o.port) + " out of range");
    impl_->load_tls();
    impl_->bind_socket();
    impl_->install_hooks();
}

HttpServer::~HttpServer() = default;

int HttpServer::port() const { return impl_->bound_port; }
bool HttpServer::loopback_only() const { return impl_->loopback; }
bool HttpServer::tls() const { return impl_->ctx != nullptr; }
const HttpOptions& HttpServer::options() const { return impl_->o; }
const HttpCounters& HttpServer::counters() const { return impl_->counters; }
httplib::Server& HttpServer::routes() { return *impl_; }
void HttpServer::set_gate(Gate gate) { impl_->gate = std::move(gate); }
void HttpServer::set_logger(Logger logger) { impl_->logger = std::move(logger); }
void HttpServer::stop() { impl_->stopping = true; }

void HttpServer::close_after_response() {
    if (tl_request) tl_request->close_after = true;
}

void HttpServer::run() {
    Impl& s = *impl_;
    std::vector<std::thread> threads;
    for (int i = 0; i < s.o.workers; ++i) threads.emplace_back([&s] { s.worker(false); });
    threads.emplace_back([&s] { s.worker(true); });
    while (!s.stopping) {
        pollfd p{s.listen_fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(kStopCheck.count())) <= 0 || !(p.revents & POLLIN)) continue;
        const int fd = ::accept4(s.listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                std::this_thread::sleep_for(milliseconds(10));  // out of descriptors: let workers free some
            continue;
        }
        ++s.counters.connections;
        s.dispatch(fd);
    }
    // Stop accepting; serve what was accepted; let the workers end.
    s.close_listener();
    {
        std::lock_guard<std::mutex> lock(s.mu);
        s.draining = true;
    }
    s.cv.notify_all();
    s.cv_reject.notify_all();
    for (auto& t : threads) t.join();
}

}  // namespace facepipe
