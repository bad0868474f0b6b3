// End-to-end tests of `facepipe serve` through the real binary on 127.0.0.1
// and an ephemeral port: every endpoint, native and CompreFace; the model
// retrained by the CLI picked up; SIGTERM. The model is the demo people's
// (scripts/make_demo_dataset.sh); the faces are npm's sample photos.
#include <doctest/doctest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "faces.h"
#include "serve_util.h"
#include "testutil.h"

using namespace facepipe::test;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The object `facepipe predict --format jsonl` prints for `file`.
Json predict_jsonl(const fs::path& dir, const fs::path& file) {
    const auto r = run_facepipe_m({"predict", "--format", "jsonl", file.string()}, dir);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return Json::parse(r.out);
}

}  // namespace

TEST_CASE("e2e: serve answers the native and CompreFace APIs, health, metrics and OpenAPI, picks up a CLI retrain, stops on SIGTERM") {
    TempDir dir;
    make_demo_model(dir.path());
    const std::string alice = image_bytes(mirrored(portrait("sample1-a")));  // not the enrolled photo
    const std::string stranger = image_bytes(portrait("stranger"));
    spit(dir / "alice.jpg", alice);
    ServeProcess serve(dir.path(), {"--threads", "2"});
    auto c = serve.client();

    // health
    Json health = json_of(c.Get("/api/v1/health"));
    CHECK(health["status"] == "ok");
    CHECK(health["people"] == 7);
    CHECK(health["model_generation"] == 0);
    const std::string first_training = health["training_id"];
    CHECK(first_training.size() == 64);

    // recognize: the object predict --format jsonl prints, for the body as image/jpeg or as multipart
    Json expected = predict_jsonl(dir.path(), dir / "alice.jpg");
    auto raw = c.Post("/api/v1/recognize", alice, "image/jpeg");
    Json got = json_of(raw);
    CHECK(raw->status == 200);
    CHECK(raw->get_header_value("Content-Type") == "application/json");
    expected["file"] = "upload";
    CHECK(got == expected);
    REQUIRE(got["faces"].size() == 1);
    CHECK(got["faces"][0]["label"] == "sample1-a");
    got = json_of(c.Post("/api/v1/recognize", one_file(alice, "alice.jpg")));
    expected["file"] = "alice.jpg";
    CHECK(got == expected);
    got = json_of(c.Post("/api/v1/recognize", one_file(stranger)));
    REQUIRE(got["faces"].size() == 1);
    CHECK(got["faces"][0]["label"] == "unknown");
    CHECK(got["faces"][0]["known"] == false);

    // CompreFace recognize: multipart, JSON base64, and its parameters
    Json cf = json_of(c.Post("/api/v1/recognition/recognize?prediction_count=2", one_file(alice)));
    REQUIRE(cf["result"].size() == 1);
    const Json& box = cf["result"][0]["box"];
    CHECK(box["x_max"].get<int>() > box["x_min"].get<int>());
    CHECK(box["probability"].get<double>() > 0.8);
    REQUIRE(cf["result"][0]["subjects"].size() == 2);
    CHECK(cf["result"][0]["subjects"][0]["subject"] == "sample1-a");
    CHECK(cf["result"][0]["subjects"][0]["similarity"].get<double>() > 0.5);
    CHECK(cf["result"][0]["subjects"][1]["similarity"].get<double>() < 0.5);
    const std::string b64 = [&] {
        static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        std::string out;
        size_t i = 0;
        for (; i + 2 < stranger.size(); i += 3) {
            const unsigned n = (unsigned char)stranger[i] << 16 | (unsigned char)stranger[i + 1] << 8 | (unsigned char)stranger[i + 2];
            out += {t[n >> 18], t[(n >> 12) & 63], t[(n >> 6) & 63], t[n & 63]};
        }
        if (i + 1 == stranger.size()) {
            const unsigned n = (unsigned char)stranger[i] << 16;
            out += {t[n >> 18], t[(n >> 12) & 63], '=', '='};
        } else if (i + 2 == stranger.size()) {
            const unsigned n = (unsigned char)stranger[i] << 16 | (unsigned char)stranger[i + 1] << 8;
            out += {t[n >> 18], t[(n >> 12) & 63], t[(n >> 6) & 63], '='};
        }
        return out;
    }();
    cf = json_of(c.Post("/api/v1/recognition/recognize", Json{{"file", b64}}.dump(), "application/json"));
    REQUIRE(cf["result"].size() == 1);
    CHECK(cf["result"][0]["subjects"][0]["similarity"].get<double>() < 0.5);  // a stranger
    auto none = c.Post("/api/v1/recognition/recognize", one_file(image_bytes(faceless_picture())));
    CHECK(none->status == 400);
    CHECK(json_of(none)["code"] == 28);
    cf = json_of(c.Post("/api/v1/recognition/recognize?limit=1&det_prob_threshold=0.5",
                        one_file(image_bytes(two_faces()))));
    CHECK(cf["result"].size() == 1);

    // enrol the stranger as a new person: verdicts, then the new model answers at once
    httplib::MultipartFormDataItems photos = one_file(stranger, "zoe.jpg");
    photos.push_back({"file", image_bytes(faceless_picture()), "empty.jpg", "image/jpeg"});
    photos.push_back({"file", "not an image at all", "notes.jpg", "image/jpeg"});
    auto enrolled = c.Post("/api/v1/people/Zo%C3%AB%20Test/photos", photos);
    Json e = json_of(enrolled);
    CHECK(enrolled->status == 200);
    CHECK(e["person"] == "Zoë Test");
    CHECK(e["new_person"] == true);
    CHECK(e["retrained"] == true);
    CHECK(e["people"] == 8);
    REQUIRE(e["photos"].size() == 3);
    CHECK(e["photos"][0]["verdict"] == "accepted");
    CHECK(e["photos"][0]["id"] == "zoe.jpg");
    CHECK(e["photos"][1]["verdict"] == "no_face");
    CHECK(e["photos"][2]["verdict"] == "not_an_image");
    CHECK(fs::exists(dir / "dataset" / "Zoë Test" / "zoe.jpg"));
    got = json_of(c.Post("/api/v1/recognize", one_file(stranger)));
    REQUIRE(got["faces"].size() == 1);
    CHECK(got["faces"][0]["label"] == "Zoë Test");
    health = json_of(c.Get("/api/v1/health"));
    CHECK(health["training_id"] == e["training_id"]);
    CHECK(health["model_generation"] == 1);
    CHECK(json_of(c.Get("/api/v1/jobs/current")).is_null());

    // CompreFace's add-an-example: one photo; no face is its code 28
    auto added = c.Post("/api/v1/recognition/faces?subject=Zo%C3%AB%20Test", one_file(image_bytes(portrait("stranger"), ".png"), "zoe.png"));
    CHECK(added->status == 201);
    Json a = json_of(added);
    CHECK(a["subject"] == "Zoë Test");
    CHECK(a["image_id"].get<std::string>().size() == 36);
    auto no_face = c.Post("/api/v1/recognition/faces?subject=Zo%C3%AB%20Test", one_file(image_bytes(faceless_picture())));
    CHECK(no_face->status == 400);
    CHECK(json_of(no_face)["code"] == 28);

    // a retrain by the CLI (another process, same lock) is picked up without a restart
    const auto cli = run_facepipe_m({"enroll", "Cli Person", (dir / "alice.jpg").string()}, dir.path());
    REQUIRE_MESSAGE(cli.exit_code == 0, cli.err);
    CHECK(eventually([&] { return json_of(c.Get("/api/v1/health"))["people"] == 9; }, 30));
    got = json_of(c.Post("/api/v1/recognize", one_file(alice)));
    REQUIRE(got["faces"].size() == 1);
    CHECK(got["faces"][0]["label"] != "unknown");

    // live: a session's frames are tracked (one track, named), sessions are independent
    const std::string frame = image_bytes(portrait("sample2-a"));
    for (int i = 0; i < 4; ++i) {
        auto f = c.Post("/api/v1/live/frame?session=tab-1", frame, "image/jpeg");
        Json j = json_of(f);
        REQUIRE(f->status == 200);
        CHECK(j["frame"] == i);
        REQUIRE(j["faces"].size() == 1);
        CHECK(j["faces"][0]["track"] == 1);
        CHECK(j["faces"][0]["label"] == "sample2-a");
        CHECK(j["faces"][0]["known"] == true);
        CHECK(j["faces"][0]["box"].size() == 4);
        CHECK(j["training_id"].get<std::string>().size() == 64);
    }
    CHECK(json_of(c.Post("/api/v1/live/frame?session=tab-2", frame, "image/jpeg"))["frame"] == 0);
    CHECK(c.Post("/api/v1/live/frame?session=no/good", frame, "image/jpeg")->status == 400);
    CHECK(c.Post("/api/v1/live/frame?session=tab-1", "garbage", "image/jpeg")->status == 400);

    // people: the list, a photo's bytes, removing a photo and a person (each retrains)
    Json people = json_of(c.Get("/api/v1/people"));
    Json zoe;
    for (const auto& p : people["people"])
        if (p["name"] == "Zoë Test") zoe = p;
    REQUIRE(zoe.is_object());
    CHECK(zoe["count"] == 2);
    REQUIRE(zoe["photos"].size() == 2);
    CHECK(zoe["photos"][0]["id"] == "zoe.jpg");
    CHECK(zoe["photos"][0]["url"] == "/api/v1/people/Zo%C3%AB%20Test/photos/zoe.jpg");
    auto thumb = c.Get(zoe["photos"][0]["url"].get<std::string>().c_str());
    REQUIRE(thumb);
    CHECK(thumb->status == 200);
    CHECK(thumb->get_header_value("Content-Type") == "image/jpeg");
    CHECK(thumb->body == stranger);
    CHECK(c.Get("/api/v1/people/Zo%C3%AB%20Test/photos/nope.jpg")->status == 404);
    CHECK(c.Get("/api/v1/people/Nobody/photos/zoe.jpg")->status == 404);
    CHECK(c.Get("/api/v1/people/Zo%C3%AB%20Test/photos/.hidden.jpg")->status == 400);
    Json removed = json_of(c.Delete("/api/v1/people/Zo%C3%AB%20Test/photos/zoe.png"));
    CHECK(removed["removed"] == 1);
    CHECK(removed["retrained"] == true);
    CHECK(json_of(c.Get("/api/v1/health"))["training_id"] == removed["training_id"]);

    // CompreFace's collection: examples, subjects, deletions
    Json faces = json_of(c.Get("/api/v1/recognition/faces?subject=Zo%C3%AB%20Test"));
    REQUIRE(faces["faces"].size() == 1);
    const std::string image_id = faces["faces"][0]["image_id"];
    CHECK(json_of(c.Get("/api/v1/recognition/faces"))["faces"].size() == 9);  // 7 demo + Zoë + the CLI's
    auto sub = c.Post("/api/v1/recognition/subjects", Json{{"subject", "Later"}}.dump(), "application/json");
    CHECK(sub->status == 201);
    Json subjects = json_of(c.Get("/api/v1/recognition/subjects"))["subjects"];
    CHECK(std::find(subjects.begin(), subjects.end(), "Later") != subjects.end());
    CHECK(std::find(subjects.begin(), subjects.end(), "Zoë Test") != subjects.end());
    CHECK(json_of(c.Delete("/api/v1/recognition/subjects/Later"))["subject"] == "Later");
    Json gone = json_of(c.Delete(("/api/v1/recognition/faces/" + image_id).c_str()));
    CHECK(gone["subject"] == "Zoë Test");
    CHECK(gone["image_id"] == image_id);
    CHECK(c.Delete(("/api/v1/recognition/faces/" + image_id).c_str())->status == 404);
    CHECK(json_of(c.Delete("/api/v1/recognition/faces?subject=Cli%20Person"))["deleted"] == 1);
    CHECK(c.Delete("/api/v1/recognition/faces?subject=Nobody")->status == 404);
    CHECK(c.Delete("/api/v1/recognition/faces")->status == 400);
    Json person_gone = json_of(c.Delete("/api/v1/people/sample3-c"));
    CHECK(person_gone["people"] == 6);
    CHECK(c.Delete("/api/v1/people/sample3-c")->status == 404);
    CHECK(json_of(c.Get("/api/v1/health"))["people"] == 6);
    CHECK_FALSE(fs::exists(dir / "dataset" / "sample3-c"));

    // metrics and the OpenAPI file
    auto m = c.Get("/metrics");
    REQUIRE(m);
    CHECK(m->status == 200);
    CHECK(m->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0);
    CHECK(m->body.find("facepipe_http_requests_total{endpoint=\"recognize\",method=\"POST\",code=\"200\"}") != std::string::npos);
    CHECK(m->body.find("facepipe_http_request_duration_seconds_bucket{endpoint=\"recognize\",le=\"+Inf\"}") != std::string::npos);
    CHECK(m->body.find("facepipe_model_info{training_id=\"" + json_of(c.Get("/api/v1/health"))["training_id"].get<std::string>()) != std::string::npos);
    const int generation = json_of(c.Get("/api/v1/health"))["model_generation"];
    CHECK(generation == 7);  // enrol, add, the CLI's enroll, four removals
    CHECK(m->body.find("facepipe_model_reloads_total " + std::to_string(generation) + "\n") != std::string::npos);
    CHECK(m->body.find("facepipe_live_sessions 2\n") != std::string::npos);
    CHECK(m->body.find("facepipe_faces_seen_total ") != std::string::npos);
    Json spec = json_of(c.Get("/api/openapi.json"));
    CHECK(spec["openapi"].get<std::string>().rfind("3.", 0) == 0);
    CHECK(spec["paths"].contains("/api/v1/recognize"));
    auto login = c.Get("/login");
    REQUIRE(login);
    CHECK(login->status == 200);
    CHECK(login->get_header_value("Content-Type").rfind("text/html", 0) == 0);

    // SIGTERM while a request is in flight: it is answered, then serve exits 0
    int in_flight = -1;
    const std::string two = image_bytes(two_faces());
    std::thread t([&] {
        auto c2 = serve.client();
        if (auto r = c2.Post("/api/v1/recognize", two, "image/jpeg")) in_flight = r->status;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const RunResult end = serve.stop();
    t.join();
    CHECK_MESSAGE(end.exit_code == 0, end.err);
    CHECK(in_flight == 200);
}
