// End-to-end tests of `facepipe serve` against bad and hostile requests and
// against the API key: each is answered with its status code (and one JSON
// error line) while the server keeps answering.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "fsutil.h"
#include "faces.h"
#include "serve_util.h"
#include "testutil.h"

using namespace facepipe::test;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Sends `request` raw and returns what comes back until the server closes
// the connection (at most `seconds`); "" when it closed without answering.
std::string raw_exchange(int port, const std::string& request, int seconds = 20) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string out;
    for (int i = 0; i < seconds * 10; ++i) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) == 0) continue;
        char buf[4096];
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
}

int status_line(const std::string& response) {
    return response.size() > 12 ? std::atoi(response.substr(9, 3).c_str()) : -1;
}

// The server still answers.
void still_up(ServeProcess& serve) {
    auto c = serve.client();
    auto h = c.Get("/api/v1/health");
    REQUIRE(h);
    CHECK(h->status == 200);
}

}  // namespace

TEST_CASE("e2e: serve answers bad and hostile requests with their status codes and keeps answering") {
    TempDir dir;
    make_demo_model(dir.path());
    ServeProcess serve(dir.path(), {"--threads", "1", "--read-timeout", "5", "--max-body", "20"});
    auto c = serve.client();
    const std::string jpeg = image_bytes(portrait("sample2-a"));

    struct Case {
        const char* what;
        int status;
        httplib::Result result;
    };
    std::vector<Case> cases;
    cases.push_back({"not an image (text/plain)", 415, c.Post("/api/v1/recognize", "hello", "text/plain")});
    cases.push_back({"not an image (image/jpeg)", 400, c.Post("/api/v1/recognize", "hello", "image/jpeg")});
    cases.push_back({"empty body", 400, c.Post("/api/v1/recognize", "", "image/jpeg")});
    cases.push_back({"truncated image", 400, c.Post("/api/v1/recognize", jpeg.substr(0, jpeg.size() / 2), "image/jpeg")});
    cases.push_back({"a pixel bomb", 413, c.Post("/api/v1/recognize", png_claiming_size(30000, 30000), "image/png")});
    cases.push_back({"a pixel bomb to the CompreFace API", 413,
                     c.Post("/api/v1/recognition/recognize", png_claiming_size(30000, 30000), "image/png")});
    cases.push_back({"100 MB body", 413, c.Post("/api/v1/recognize", std::string(100u << 20, '\0'), "image/jpeg")});
    cases.push_back({"multipart without a file", 400,
                     c.Post("/api/v1/recognize", httplib::MultipartFormDataItems{{"other", "x", "", ""}})});
    cases.push_back({"malformed multipart", 400,
                     c.Post("/api/v1/recognize", "--XX\r\nno headers end\r\n--XX--\r\n", "multipart/form-data; boundary=XX")});
    cases.push_back({"multipart with a wrong boundary", 400,
                     c.Post("/api/v1/recognize", "--XX\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc\r\n--XX--\r\n",
                            "multipart/form-data; boundary=YY")});
    cases.push_back({"invalid JSON", 400, c.Post("/api/v1/recognition/recognize", "{\"file\": ", "application/json")});
    cases.push_back({"JSON without file", 400, c.Post("/api/v1/recognition/recognize", "{\"img\": \"\"}", "application/json")});
    cases.push_back({"invalid base64", 400, c.Post("/api/v1/recognition/recognize", "{\"file\": \"@@@@\"}", "application/json")});
    cases.push_back({"bad CompreFace parameter", 400, c.Post("/api/v1/recognition/recognize?limit=-3", one_file(jpeg))});
    cases.push_back({"unknown endpoint", 404, c.Get("/api/v1/nothing")});
    cases.push_back({"hidden person name", 400, c.Post("/api/v1/people/.hidden/photos", one_file(jpeg))});
    cases.push_back({"dot-dot person name", 400, c.Post("/api/v1/people/../photos", one_file(jpeg))});
    cases.push_back({"control character in a name", 400, c.Post("/api/v1/people/a%0Ab/photos", one_file(jpeg))});
    cases.push_back({"bidi override in a name", 400, c.Post("/api/v1/people/evil%E2%80%AEgpj/photos", one_file(jpeg))});
    cases.push_back({"over-long name", 400, c.Post(("/api/v1/people/" + std::string(300, 'a') + "/photos").c_str(), one_file(jpeg))});
    cases.push_back({"CompreFace add without subject", 400, c.Post("/api/v1/recognition/faces", one_file(jpeg))});
    cases.push_back({"CompreFace add with a hostile subject", 400,
                     c.Post("/api/v1/recognition/faces?subject=..%2F..%2Fetc", one_file(jpeg))});
    cases.push_back({"enrol with no photo", 400,
                     c.Post("/api/v1/people/Someone/photos", httplib::MultipartFormDataItems{{"other", "x", "", ""}})});
    cases.push_back({"enrol not multipart", 415, c.Post("/api/v1/people/Someone/photos", jpeg, "image/jpeg")});
    cases.push_back({"an image sent as a form (curl --data-binary)", 415,
                     c.Post("/api/v1/recognize", jpeg, "application/x-www-form-urlencoded")});
    cases.push_back({"a write from another site's page", 403,
                     c.Post("/api/v1/people/Someone/photos", {{"Origin", "http://evil.example"}}, one_file(jpeg))});
    cases.push_back({"a rebound Host name", 403, c.Get("/api/v1/people", {{"Host", "evil.example:8080"}})});
    for (auto& k : cases) {
        CAPTURE(k.what);
        REQUIRE(k.result);
        CHECK(k.result->status == k.status);
        const Json j = Json::parse(k.result->body, nullptr, false);
        CHECK(j.is_object());
        if (j.is_object()) CHECK(j["error"].is_string());
        still_up(serve);
    }
    // A name that is hostile but exists as a path segment: nothing was written outside dataset/.
    CHECK_FALSE(fs::exists(dir / "etc"));
    CHECK_FALSE(fs::exists(dir / "dataset" / ".hidden"));

    // Raw: a chunked upload, a body shorter than announced, a trickling client.
    CHECK(status_line(raw_exchange(serve.port(), "POST /api/v1/recognize HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
                                                 "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")) == 411);
    CHECK(raw_exchange(serve.port(), "POST /api/v1/recognize HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
                                     "Content-Length: 1000\r\n\r\nshort").find("200 OK") == std::string::npos);
    {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(serve.port()));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        const std::string request = "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(200, 'a') + "\r\n\r\n";
        bool cut = false;
        for (size_t i = 0; i < request.size() && !cut; ++i) {  // one byte per 100 ms: 20 s in all
            if (::send(fd, request.data() + i, 1, MSG_NOSIGNAL) != 1) cut = true;
            pollfd p{fd, POLLIN, 0};
            if (!cut && ::poll(&p, 1, 100) > 0) cut = true;  // an answer (408/400) or a close: it gave up on us
        }
        ::close(fd);
        CHECK(cut);  // cut off (--read-timeout 5) long before the request was complete
    }
    still_up(serve);
    auto m = c.Get("/metrics");
    REQUIRE(m);
    CHECK(m->body.find("facepipe_http_timeouts_total 0\n") == std::string::npos);  // counted
    const RunResult end = serve.stop();
    CHECK(end.exit_code == 0);
}

TEST_CASE("e2e: serve with an API key: 401 without it, the login form's cookie, pages redirect, TLS, and no key off loopback is refused") {
    TempDir dir;
    make_demo_model(dir.path());
    const std::string key = "k3y-" + std::to_string(::getpid()) + "-s3cret";

    // Listening beyond loopback without a key is refused before anything is served.
    const auto open = run_facepipe_m({"serve", "--listen", "0.0.0.0:0"}, dir.path());
    CHECK(open.exit_code == 2);
    CHECK(open.err.find("API key") != std::string::npos);

    facepipe::write_file_atomic((dir / "key.txt").string(), key + "\n", 0600);
    ServeProcess serve(dir.path(), {"--api-key-file", "key.txt"});
    auto c = serve.client();
    c.set_follow_location(false);
    const std::string jpeg = image_bytes(portrait("sample2-a"));

    auto no_key = c.Post("/api/v1/recognize", jpeg, "image/jpeg");
    REQUIRE(no_key);
    CHECK(no_key->status == 401);
    CHECK(json_of(no_key)["error"].get<std::string>().find("API key") != std::string::npos);
    auto wrong = c.Get("/api/v1/health", {{"x-api-key", key + "x"}});
    REQUIRE(wrong);
    CHECK(wrong->status == 401);
    auto metrics = c.Get("/metrics");
    REQUIRE(metrics);
    CHECK(metrics->status == 401);
    auto right = c.Post("/api/v1/recognize", {{"x-api-key", key}}, jpeg, "image/jpeg");
    REQUIRE(right);
    CHECK(right->status == 200);
    CHECK(json_of(right)["faces"][0]["label"] == "sample2-a");
    auto cf = c.Post("/api/v1/recognition/recognize", {{"x-api-key", key}}, one_file(jpeg));
    REQUIRE(cf);
    CHECK(cf->status == 200);

    // Pages go to the login form; the form sets the cookie; the cookie lets pages and API calls in.
    auto page = c.Get("/live");
    REQUIRE(page);
    CHECK(page->status == 303);
    const std::string location = page->get_header_value("Location");  // httplib's client decodes it
    CHECK((location == "/login?next=%2Flive" || location == "/login?next=/live"));
    auto form = c.Get("/login");
    REQUIRE(form);
    CHECK(form->status == 200);
    auto bad_login = c.Post("/login", httplib::Params{{"key", "nope"}, {"next", "/live"}});
    REQUIRE(bad_login);
    CHECK(bad_login->status == 303);
    CHECK(bad_login->get_header_value("Location").rfind("/login?failed=1", 0) == 0);
    CHECK_FALSE(bad_login->has_header("Set-Cookie"));
    auto login = c.Post("/login", httplib::Params{{"key", key}, {"next", "//evil.example/"}});
    REQUIRE(login);
    CHECK(login->status == 303);
    CHECK(login->get_header_value("Location") == "/");  // never to another site
    const std::string cookie = login->get_header_value("Set-Cookie");
    CHECK(cookie.find("HttpOnly") != std::string::npos);
    CHECK(cookie.find("SameSite=Strict") != std::string::npos);
    CHECK(cookie.find(key) == std::string::npos);
    const std::string pair = cookie.substr(0, cookie.find(';'));
    auto with_cookie = c.Get("/api/v1/health", {{"Cookie", pair}});
    REQUIRE(with_cookie);
    CHECK(with_cookie->status == 200);
    auto login_page = c.Get("/login", {{"Cookie", pair}});
    REQUIRE(login_page);
    CHECK(login_page->status == 200);

    const RunResult end = serve.stop();
    CHECK(end.exit_code == 0);
    CHECK(end.err.find(key) == std::string::npos);  // the key is never logged
    CHECK(end.out.find(key) == std::string::npos);

    // Over TLS: the same API, and the cookie is Secure.
    const std::string cert = (dir / "cert.pem").string(), tls_key = (dir / "tls-key.pem").string();
    const std::string make = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -keyout '" +
                             tls_key + "' -out '" + cert + "' 2>/dev/null";
    REQUIRE(std::system(make.c_str()) == 0);
    ServeProcess tls(dir.path(), {"--api-key-file", "key.txt", "--tls-cert", cert, "--tls-key", tls_key});
    httplib::SSLClient s("127.0.0.1", tls.port());
    s.enable_server_certificate_verification(false);
    s.set_read_timeout(60, 0);
    auto secure = s.Post("/api/v1/recognize", {{"x-api-key", key}}, jpeg, "image/jpeg");
    REQUIRE(secure);
    CHECK(secure->status == 200);
    CHECK(json_of(secure)["faces"][0]["label"] == "sample2-a");
    auto secure_login = s.Post("/login", httplib::Params{{"key", key}});
    REQUIRE(secure_login);
    CHECK(secure_login->get_header_value("Set-Cookie").find("; Secure") != std::string::npos);
    CHECK(tls.stop().exit_code == 0);
    const auto bad_tls = run_facepipe_m({"serve", "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", "missing.pem"}, dir.path());
    CHECK(bad_tls.exit_code == 2);
    CHECK(bad_tls.err.find("--tls-key") != std::string::npos);
}
