// End-to-end test of serve's unknown-faces API (face_groups.h) on a store this
// test fills with made-up faces: the groups, a crop, merge, forget, and the
// statuses of bad requests; with an API key, nothing of it answers without the
// key. (Naming a group enrols real faces: tests/test_e2e_browser.cpp.)
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <random>

#include "e2e.h"
#include "serve_util.h"
#include "testutil.h"
#include "unknown_store.h"

using namespace facepipe::test;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Three made-up people, three faces each, in <dir>/unknown (the default beside model.bin).
void made_up_store(const fs::path& dir) {
    facepipe::UnknownStore store(dir / "unknown");
    std::mt19937 rng(5);
    std::normal_distribution<float> centre(0.f, 0.0625f), noise(0.f, 0.018f);
    for (int p = 0; p < 3; ++p) {
        facepipe::Descriptor c;
        for (float& v : c) v = centre(rng);
        for (int k = 0; k < 3; ++k) {
            facepipe::UnknownFace f;
            f.source = "person-" + std::to_string(p) + ".jpg";
            f.box = {1, 1, 20, 20};
            f.distance = std::numeric_limits<float>::infinity();
            f.score = 1.f;
            f.descriptor = c;
            for (float& v : f.descriptor) v += noise(rng);
            store.append(f, cv::Mat(40, 40, CV_8UC3, cv::Scalar(40.0 * p, 90, 160)));
        }
    }
}

Json json_body(const httplib::Result& r, int status) {
    REQUIRE(r);
    CHECK_MESSAGE(r->status == status, r->body);
    return Json::parse(r->body, nullptr, false);
}

}  // namespace

TEST_CASE("e2e: serve's unknown-faces API groups, merges and forgets, answers bad requests with their status, and needs the key") {
    TempDir dir;
    made_up_store(dir.path());
    const std::string key = "unknown-test-key-0b1c";
    spit(dir / "api.key", key + "\n");
    fs::permissions(dir / "api.key", fs::perms::owner_read | fs::perms::owner_write);
    ServeProcess server(dir.path(), {"--api-key-file", "api.key"});
    auto c = server.client();

    // Without the key: 401, for reads and changes alike.
    CHECK(c.Get("/api/v1/unknown/groups")->status == 401);
    CHECK(c.Delete("/api/v1/unknown/groups/1")->status == 401);
    CHECK(c.Post("/api/v1/unknown/groups/1/name", R"({"name":"x"})", "application/json")->status == 401);
    CHECK(c.Post("/api/v1/unknown/groups/1/merge", R"({"group":2})", "application/json")->status == 401);
    c.set_default_headers({{"x-api-key", key}});

    const Json g = json_body(c.Get("/api/v1/unknown/groups"), 200);
    REQUIRE(g["groups"].size() == 3);
    CHECK(g["faces"] == 9);
    for (const auto& group : g["groups"]) {
        CHECK(group["size"] == 3);
        CHECK(group["maybe"].is_null());  // nobody enrolled
        for (const auto& m : group["members"]) CHECK(m["distance"].is_null());
    }
    const auto a = g["groups"][0]["id"].get<std::uint64_t>(), b = g["groups"][1]["id"].get<std::uint64_t>(),
               gone = g["groups"][2]["id"].get<std::uint64_t>();
    const auto crop = c.Get(g["groups"][0]["members"][0]["url"].get<std::string>().insert(0, "/"));
    REQUIRE(crop);
    CHECK(crop->status == 200);
    CHECK(crop->get_header_value("Content-Type") == "image/jpeg");
    CHECK(crop->body.rfind("\xFF\xD8", 0) == 0);

    // Bad requests.
    json_body(c.Get("/api/v1/unknown/groups?threshold=abc"), 400);
    json_body(c.Get("/api/v1/unknown/groups?threshold=0"), 400);
    json_body(c.Get("/api/v1/unknown/faces/999"), 404);
    json_body(c.Get("/api/v1/unknown/faces/x"), 400);
    json_body(c.Delete("/api/v1/unknown/groups/999"), 404);
    json_body(c.Delete("/api/v1/unknown/groups/-1"), 400);
    json_body(c.Post("/api/v1/unknown/groups/999/name", R"({"name":"Zoë"})", "application/json"), 404);
    json_body(c.Post("/api/v1/unknown/groups/" + std::to_string(a) + "/name", R"({"name":"../x"})", "application/json"), 400);
    json_body(c.Post("/api/v1/unknown/groups/" + std::to_string(a) + "/name", "[]", "application/json"), 400);
    json_body(c.Post("/api/v1/unknown/groups/" + std::to_string(a) + "/merge", R"({"group":999})", "application/json"), 404);
    json_body(c.Post("/api/v1/unknown/groups/" + std::to_string(a) + "/merge", R"({"group":"b"})", "application/json"), 400);
    json_body(c.Post("/api/v1/unknown/groups/" + std::to_string(a) + "/merge",
                     Json{{"group", a}}.dump(), "application/json"), 400);

    // Merge b into a, forget the third: the next grouping shows one group of six, under a's id.
    json_body(c.Post("/api/v1/unknown/groups/" + std::to_string(a) + "/merge", Json{{"group", b}}.dump(),
                     "application/json"), 200);
    CHECK(json_body(c.Delete("/api/v1/unknown/groups/" + std::to_string(gone)), 200)["removed"] == 3);
    const Json after = json_body(c.Get("/api/v1/unknown/groups"), 200);
    REQUIRE(after["groups"].size() == 1);
    CHECK(after["groups"][0]["id"] == a);
    CHECK(after["groups"][0]["size"] == 6);
    CHECK(after["faces"] == 6);

    const auto s = server.stop();
    CHECK_MESSAGE(s.exit_code == 0, s.err);
}
