// Tests of the pure pieces of `facepipe serve`: the API key (server_auth.h),
// request helpers (server_request.h), the --listen parser (server.h), the
// CompreFace mapping (compreface.h), /metrics (metrics.h) and the embedded
// pages (web_assets.h).
#include <doctest/doctest.h>
#include <chrono>
#include <thread>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "classifier.h"
#include "compreface.h"
#include "error.h"
#include "fsutil.h"
#include "metrics.h"
#include "server.h"
#include "server_auth.h"
#include "server_request.h"
#include "testutil.h"
#include "web_assets.h"

using namespace facepipe;
using Json = nlohmann::json;

TEST_CASE("same_secret compares keys whatever their lengths") {
    CHECK(same_secret("s3cret-key", "s3cret-key"));
    CHECK_FALSE(same_secret("s3cret-key", "s3cret-kex"));
    CHECK_FALSE(same_secret("s3cret-key", "s3cret-key2"));
    CHECK_FALSE(same_secret("s3cret-key", ""));
    CHECK(same_secret("", ""));
}

TEST_CASE("ApiKeyAuth: the header or the login cookie lets a request in, nothing else does") {
    const ApiKeyAuth open;
    CHECK_FALSE(open.enabled());
    CHECK(open.allows("", ""));

    const ApiKeyAuth auth("correct horse");
    REQUIRE(auth.enabled());
    CHECK(auth.allows("correct horse", ""));
    CHECK_FALSE(auth.allows("", ""));
    CHECK_FALSE(auth.allows("wrong", ""));
    CHECK(auth.is_key("correct horse"));
    CHECK_FALSE(auth.is_key("correct hors"));

    const std::string set = auth.set_cookie(false);
    CHECK(set.find("HttpOnly") != std::string::npos);
    CHECK(set.find("SameSite=Strict") != std::string::npos);
    CHECK(set.find("Secure") == std::string::npos);
    CHECK(auth.set_cookie(true).find("; Secure") != std::string::npos);
    CHECK(set.find("correct horse") == std::string::npos);  // the cookie never holds the key
    const std::string token = cookie_value(set.substr(0, set.find(';')), ApiKeyAuth::kCookie);
    REQUIRE(token.size() == 64);
    CHECK(auth.allows("", std::string("theme=dark; ") + ApiKeyAuth::kCookie + "=" + token + "; x=1"));
    CHECK_FALSE(auth.allows("", std::string(ApiKeyAuth::kCookie) + "=" + token.substr(1)));
    CHECK_FALSE(ApiKeyAuth("another key").allows("", std::string(ApiKeyAuth::kCookie) + "=" + token));
    CHECK(auth.set_cookie(false, true).find("Max-Age=0") != std::string::npos);
}

TEST_CASE("cookie_value and safe_redirect_target") {
    CHECK(cookie_value("a=1; b=2", "b") == "2");
    CHECK(cookie_value("a=1;b=\"q\"", "b") == "q");
    CHECK(cookie_value("ab=1", "a") == "");
    CHECK(cookie_value("", "a") == "");
    CHECK(safe_redirect_target("/live") == "/live");
    CHECK(safe_redirect_target("/enrol?x=1") == "/enrol?x=1");
    CHECK(safe_redirect_target("//evil.example/") == "/");
    CHECK(safe_redirect_target("/\\evil.example") == "/");
    CHECK(safe_redirect_target("https://evil.example/") == "/");
    CHECK(safe_redirect_target("/a\r\nSet-Cookie: x") == "/");
    CHECK(safe_redirect_target("") == "/");
}

TEST_CASE("API keys: a file's first line, checked") {
    facepipe::test::TempDir dir;
    const auto file = dir / "key";
    write_file_atomic(file.string(), "  k3y-with-spaces inside \nsecond line\n", 0600);
    CHECK(read_api_key_file(file) == "k3y-with-spaces inside");
    write_file_atomic(file.string(), "\n", 0600);
    CHECK_THROWS_AS(read_api_key_file(file), UsageError);
    CHECK_THROWS_AS(read_api_key_file(dir / "missing"), UsageError);
    CHECK_THROWS_AS(checked_api_key("a\x01" "b", "FACEPIPE_API_KEY"), UsageError);
    CHECK_THROWS_AS(checked_api_key(std::string(5000, 'k'), "FACEPIPE_API_KEY"), UsageError);
    CHECK(checked_api_key(" key\n", "FACEPIPE_API_KEY") == "key");
}

TEST_CASE("API keys: --api-key-file may be a pipe, as from `<(pass show facepipe)`; a device may not") {
    facepipe::test::TempDir dir;
    const auto fifo = dir / "key.fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    // The writer: opens the pipe once a reader has it open (a non-blocking open
    // fails with ENXIO until then; it gives up after a while, so that a reader that
    // never opens the pipe fails this test instead of hanging it), writes the key.
    std::thread writer([&] {
        int fd = -1;
        for (int i = 0; i < 1000 && fd < 0; ++i) {
            fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
            if (fd < 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (fd < 0) return;
        const std::string key = "piped-key\n";
        (void)!::write(fd, key.data(), key.size());
        ::close(fd);
    });
    std::string key;
    CHECK_NOTHROW(key = read_api_key_file(fifo));
    writer.join();
    CHECK(key == "piped-key");
    CHECK_THROWS_AS(read_api_key_file("/dev/zero"), UsageError);
    CHECK_THROWS_AS(read_api_key_file(dir.path()), UsageError);
}

TEST_CASE("decode_base64 is strict") {
    CHECK(decode_base64("") == std::string());
    CHECK(decode_base64("Zg==") == std::string("f"));
    CHECK(decode_base64("Zm8=") == std::string("fo"));
    CHECK(decode_base64("Zm9v") == std::string("foo"));
    CHECK(decode_base64("AP8A") == std::string("\x00\xff\x00", 3));
    CHECK(decode_base64("data:image/jpeg;base64,Zm9v") == std::string("foo"));
    CHECK_FALSE(decode_base64("Zm9"));        // length
    CHECK_FALSE(decode_base64("Zm9v\n"));     // white space
    CHECK_FALSE(decode_base64("Zm=v"));       // padding inside
    CHECK_FALSE(decode_base64("Z==="));       // too much padding
    CHECK_FALSE(decode_base64("Zg==Zm9v"));   // data after padding
    CHECK_FALSE(decode_base64("Zm9*"));       // not the alphabet
    CHECK_FALSE(decode_base64("data:image/jpeg,Zm9v"));  // not base64
}

TEST_CASE("url_encode and media_type") {
    CHECK(url_encode("Zoë Smith/x?y") == "Zo%C3%AB%20Smith%2Fx%3Fy");
    CHECK(url_encode("a-b_c.d~e") == "a-b_c.d~e");
    CHECK(media_type("Image/JPEG; charset=x") == "image/jpeg");
    CHECK(media_type(" multipart/form-data ; boundary=x") == "multipart/form-data");
    CHECK(media_type("") == "");
}

TEST_CASE("cross_site_refusal: foreign Origins on writes, and non-loopback Hosts on a loopback server") {
    for (const char* host : {"127.0.0.1:8080", "localhost:8080", "localhost", "[::1]:8080", "[::1]", "127.0.0.2"})
        CHECK_MESSAGE(cross_site_refusal("GET", host, "", true) == "", host);
    for (const char* host : {"evil.example", "evil.example:8080", "10.0.0.1:8080", "[::2]:80", "127.0.0.1.evil.example"})
        CHECK_MESSAGE(cross_site_refusal("GET", host, "", true) != "", host);
    CHECK(cross_site_refusal("GET", "evil.example", "", false) == "");  // elsewhere the API key guards
    CHECK(cross_site_refusal("POST", "127.0.0.1:8080", "http://127.0.0.1:8080", true) == "");
    CHECK(cross_site_refusal("POST", "127.0.0.1:8080", "", true) == "");  // not a browser
    CHECK(cross_site_refusal("POST", "127.0.0.1:8080", "http://evil.example", true) != "");
    CHECK(cross_site_refusal("DELETE", "host:1", "https://host:2", false) != "");
    CHECK(cross_site_refusal("POST", "host:1", "null", false) != "");
    CHECK(cross_site_refusal("GET", "127.0.0.1:8080", "http://evil.example", true) == "");  // reads: same-origin policy
}

TEST_CASE("--listen accepts HOST:PORT, [IPv6]:PORT and :PORT only") {
    HttpOptions h;
    parse_listen("127.0.0.1:8080", h);
    CHECK(h.host == "127.0.0.1");
    CHECK(h.port == 8080);
    parse_listen("[::1]:0", h);
    CHECK(h.host == "::1");
    CHECK(h.port == 0);
    parse_listen(":9000", h);
    CHECK(h.host == "0.0.0.0");
    CHECK(h.port == 9000);
    parse_listen("localhost:1", h);
    CHECK(h.host == "localhost");
    for (const char* bad : {"8080", "host:", "host:70000", "host:-1", "::1:80", "[::1]80", "host:8o"})
        CHECK_THROWS_AS(parse_listen(bad, h), UsageError);
}

TEST_CASE("compreface_similarity: 1 at distance 0, 0.5 at the threshold, above 0.5 exactly below it") {
    const double t = 0.55;
    CHECK(compreface_similarity(0, t) == 1.0);
    CHECK(compreface_similarity(t, t) == doctest::Approx(0.5));
    double previous = 1.1;
    for (int i = 0; i <= 300; ++i) {
        const double d = i * 0.005;
        const double s = compreface_similarity(d, t);
        CHECK(s < previous);  // strictly decreasing
        CHECK(s >= 0.0);
        CHECK(s <= 1.0);
        if (d < t) CHECK(s > 0.5);
        if (d > t) CHECK(s < 0.5);
        previous = s;
    }
    CHECK(compreface_similarity(0.5 * t, t) == doctest::Approx(1 / (1 + 0.0625)));
}

TEST_CASE("compreface_probability: 0.8 at the detector's threshold, rising with the score") {
    CHECK(compreface_probability(0) == doctest::Approx(0.8));
    CHECK(compreface_probability(1) > 0.95);
    CHECK(compreface_probability(-1) < 0.5);
    CHECK(compreface_probability(-1) > 0);
}

TEST_CASE("compreface_image_id is a stable UUID-shaped hash") {
    const std::string id = compreface_image_id("alice", "a.jpg");
    CHECK(id.size() == 36);
    CHECK(id[8] == '-');
    CHECK(id[13] == '-');
    CHECK(id == compreface_image_id("alice", "a.jpg"));
    CHECK(id != compreface_image_id("alice", "b.jpg"));
    CHECK(id != compreface_image_id("alice/a", ".jpg") );
}

TEST_CASE("parse_compreface_query: defaults, values, and refusals naming the parameter") {
    std::map<std::string, std::string> p;
    auto get = [&](const char* k) { return p.count(k) ? p[k] : std::string(); };
    CompreFaceQuery q = parse_compreface_query(get);
    CHECK(q.limit == 0);
    CHECK(q.det_prob_threshold == 0);
    CHECK(q.prediction_count == 1);
    p = {{"limit", "2"}, {"det_prob_threshold", "0.8"}, {"prediction_count", "3"}};
    q = parse_compreface_query(get);
    CHECK(q.limit == 2);
    CHECK(q.det_prob_threshold == doctest::Approx(0.8));
    CHECK(q.prediction_count == 3);
    for (auto bad : std::vector<std::pair<std::string, std::string>>{
             {"limit", "-1"}, {"limit", "1.5"}, {"limit", "x"}, {"det_prob_threshold", "1.2"},
             {"det_prob_threshold", "nan"}, {"prediction_count", "0"}}) {
        p = {bad};
        try {
            parse_compreface_query(get);
            FAIL("accepted " << bad.first << "=" << bad.second);
        } catch (const UsageError& e) {
            CHECK(e.subject() == bad.first);
        }
    }
}

namespace {

// A gallery of three people whose descriptors sit on three axes.
Classifier three_axes() {
    Gallery::Rows rows;
    rows.names = {"alice", "bob", "carol"};
    for (int p = 0; p < 3; ++p) {
        rows.source_paths.push_back(rows.names[p] + "/1.jpg");
        Descriptor d{};
        d[p] = 1.f;
        rows.descriptors.insert(rows.descriptors.end(), d.begin(), d.end());
        rows.labels.push_back(p);
        rows.sources.push_back(p);
    }
    TrainedModel m;
    m.model_id = "test";
    m.threshold = 0.6f;
    m.threshold_source = "test";
    m.gallery = Gallery(std::move(rows), nullptr);
    m.training_id = training_id_of(m);
    return Classifier(std::move(m));
}

FaceLabel face_near(const Classifier& c, int axis, float off, Box box, double score) {
    FaceLabel f;
    f.box = box;
    f.score = score;
    f.descriptor[axis] = 1.f;
    f.descriptor[3] = off;  // distance `off` from that person
    f.prediction = c.predict(f.descriptor);
    return f;
}

}  // namespace

TEST_CASE("compreface_recognize: boxes, subjects best first, limit, det_prob_threshold, prediction_count") {
    const Classifier c = three_axes();
    ImageLabels r;
    r.faces.push_back(face_near(c, 1, 0.3f, {10, 20, 100, 110}, 1.0));   // bob, similar
    r.faces.push_back(face_near(c, 2, 0.9f, {200, 20, 50, 50}, -0.5));   // nearest carol, too far: unknown
    const Json all = compreface_recognize(r, c, {});
    REQUIRE(all["result"].size() == 2);
    const Json& a = all["result"][0];
    CHECK(a["box"]["x_min"] == 10);
    CHECK(a["box"]["y_min"] == 20);
    CHECK(a["box"]["x_max"] == 110);
    CHECK(a["box"]["y_max"] == 130);
    CHECK(a["box"]["probability"].get<double>() > 0.95);
    REQUIRE(a["subjects"].size() == 1);
    CHECK(a["subjects"][0]["subject"] == "bob");
    CHECK(a["subjects"][0]["similarity"].get<double>() ==
          doctest::Approx(compreface_similarity(0.3, 0.6)).epsilon(1e-4));
    const Json& b = all["result"][1];
    REQUIRE(b["subjects"].size() == 1);
    CHECK(b["subjects"][0]["subject"] == "carol");
    CHECK(b["subjects"][0]["similarity"].get<double>() < 0.5);  // facepipe says unknown: below 0.5

    CompreFaceQuery q;
    q.prediction_count = 3;
    const Json three = compreface_recognize(r, c, q);
    const Json& s = three["result"][0]["subjects"];
    REQUIRE(s.size() == 3);
    CHECK(s[0]["subject"] == "bob");
    CHECK(s[0]["similarity"].get<double>() > s[1]["similarity"].get<double>());

    q = {};
    q.limit = 1;
    CHECK(compreface_recognize(r, c, q)["result"].size() == 1);
    q = {};
    q.det_prob_threshold = 0.9;  // the second face's score gives 0.6
    const Json sure = compreface_recognize(r, c, q);
    REQUIRE(sure["result"].size() == 1);
    CHECK(sure["result"][0]["subjects"][0]["subject"] == "bob");
}

TEST_CASE("Metrics renders Prometheus text: counters, a cumulative histogram, escaped labels") {
    Metrics m;
    m.observe("recognize", "POST", 200, 0.02);
    m.observe("recognize", "POST", 200, 0.2);
    m.observe("recognize", "POST", 400, 50);
    m.observe("health", "GET", 200, -1);
    m.add_faces(3);
    const std::string text = m.render({{"facepipe_model_info", "The model.", "gauge", {{"training_id", "a\"b\\c\nd"}}, 1}});
    CHECK(text.find("facepipe_http_requests_total{endpoint=\"recognize\",method=\"POST\",code=\"200\"} 2\n") !=
          std::string::npos);
    CHECK(text.find("facepipe_http_requests_total{endpoint=\"recognize\",method=\"POST\",code=\"400\"} 1\n") !=
          std::string::npos);
    CHECK(text.find("facepipe_http_request_duration_seconds_bucket{endpoint=\"recognize\",le=\"0.025\"} 1\n") !=
          std::string::npos);
    CHECK(text.find("facepipe_http_request_duration_seconds_bucket{endpoint=\"recognize\",le=\"0.25\"} 2\n") !=
          std::string::npos);
    CHECK(text.find("facepipe_http_request_duration_seconds_bucket{endpoint=\"recognize\",le=\"30\"} 2\n") !=
          std::string::npos);
    CHECK(text.find("facepipe_http_request_duration_seconds_bucket{endpoint=\"recognize\",le=\"+Inf\"} 3\n") !=
          std::string::npos);
    CHECK(text.find("facepipe_http_request_duration_seconds_count{endpoint=\"recognize\"} 3\n") != std::string::npos);
    CHECK(text.find("facepipe_http_request_duration_seconds_bucket{endpoint=\"health\",le=\"0.005\"} 1\n") !=
          std::string::npos);
    CHECK(text.find("facepipe_faces_seen_total 3\n") != std::string::npos);
    CHECK(text.find("# TYPE facepipe_model_info gauge\n") != std::string::npos);
    CHECK(text.find("facepipe_model_info{training_id=\"a\\\"b\\\\c\\nd\"} 1\n") != std::string::npos);
    CHECK(text.back() == '\n');
}

TEST_CASE("web assets: the pages and the OpenAPI file are in the binary") {
    const WebAsset* api = find_web_asset("/api/openapi.json");
    REQUIRE(api);
    const Json spec = Json::parse(std::string(reinterpret_cast<const char*>(api->data), api->size));
    CHECK(spec["openapi"].get<std::string>().rfind("3.", 0) == 0);
    const WebAsset* login = find_web_asset("/login");
    REQUIRE(login);
    CHECK(std::string(login->path) == "/login.html");
    CHECK(find_web_asset("/no-such-page") == nullptr);
    CHECK(find_web_asset("login.html") == nullptr);
    CHECK(std::string(web_content_type("/a/b.js")) == "text/javascript; charset=utf-8");
    CHECK(std::string(web_content_type("/x.png")) == "image/png");
    CHECK(std::string(web_content_type("/x")) == "application/octet-stream");
}
