// `facepipe serve` driven by real clients under node: the CompreFace
// JavaScript SDK from npm (tests/serve/compreface_sdk.mjs), and a bounded load
// of 1, 2, 4 and 8 concurrent clients (tests/serve/load.mjs) during which the
// server's memory is watched. scripts/setup.sh --tests installs the SDK
// (scripts/npm_cache.sh); the tests fail, never pass, without it.
#include <doctest/doctest.h>

#include <atomic>
#include <iostream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <thread>

#include "faces.h"
#include "serve_util.h"
#include "testutil.h"

using namespace facepipe::test;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const fs::path kSource = FACEPIPE_SOURCE_DIR;
const fs::path kNodeModules = kSource / ".cache/npm/serve/node_modules";

// Runs a tests/serve script with node; its last stdout line as JSON.
Json node_script(const std::string& script, const std::vector<std::string>& args, const fs::path& cwd) {
    REQUIRE_MESSAGE(fs::exists(kNodeModules / "@exadel/compreface-js-sdk/package.json"),
                    "the CompreFace SDK is missing: run scripts/setup.sh --tests");
    std::vector<std::string> argv = {"node", (kSource / "tests/serve" / script).string()};
    argv.insert(argv.end(), args.begin(), args.end());
    Child node(argv, cwd, {{"NODE_PATH", kNodeModules.string()}});
    REQUIRE_MESSAGE(eventually([&] { return !node.running(); }, 300), "node ", script, " did not finish in 300 s");
    const RunResult r = node.wait();
    REQUIRE_MESSAGE(r.exit_code == 0, script, " failed: ", r.err, r.out);
    std::istringstream lines(r.out);
    std::string last;
    for (std::string line; std::getline(lines, line);)
        if (!line.empty()) last = line;  // the SDK prints lines of its own before
    const Json j = Json::parse(last, nullptr, false);
    REQUIRE_MESSAGE(!j.is_discarded(), script, " printed no JSON: ", r.out);
    return j;
}

}  // namespace

TEST_CASE("e2e: the CompreFace JavaScript SDK adds examples of two people to a fresh server and recognises a third photo") {
    TempDir dir;
    spit(dir / "alice.jpg", image_bytes(portrait("sample1-a")));
    spit(dir / "bob.jpg", image_bytes(portrait("sample2-a")));
    cv::Mat probe;  // another photo of alice: mirrored, smaller
    cv::resize(mirrored(portrait("sample1-a")), probe, {}, 0.8, 0.8, cv::INTER_AREA);
    spit(dir / "probe.jpg", image_bytes(probe));
    spit(dir / "stranger.jpg", image_bytes(portrait("stranger")));
    ServeProcess serve(dir.path(), {}, {{"FACEPIPE_API_KEY", "sdk-test-key"}});  // no model yet

    const Json out = node_script("compreface_sdk.mjs",
                                 {"http://127.0.0.1:" + std::to_string(serve.port()), "sdk-test-key", "./alice.jpg",
                                  "./bob.jpg", "./probe.jpg", "./stranger.jpg"},
                                 dir.path());
    REQUIRE(out["added"].size() == 2);
    CHECK(out["added"][0]["subject"] == "Alice");
    CHECK(out["added"][1]["subject"] == "Bob");
    CHECK(out["added"][0]["image_id"].get<std::string>().size() == 36);
    CHECK(out["list"]["faces"].size() == 2);
    CHECK(out["subjects"]["subjects"] == Json::array({"Alice", "Bob"}));
    REQUIRE(out["probe"]["result"].size() == 1);
    const Json& s = out["probe"]["result"][0]["subjects"];
    REQUIRE(s.size() == 2);  // prediction_count=2
    CHECK(s[0]["subject"] == "Alice");
    CHECK(s[0]["similarity"].get<double>() > 0.5);
    CHECK(s[1]["subject"] == "Bob");
    CHECK(s[1]["similarity"].get<double>() < 0.5);
    REQUIRE(out["stranger"]["result"].size() == 1);
    for (const auto& x : out["stranger"]["result"][0]["subjects"]) CHECK(x["similarity"].get<double>() < 0.5);
    CHECK(out["deleted"]["deleted"] == 1);
    CHECK(out["after"]["subjects"] == Json::array({"Alice"}));
    CHECK(out["unknown"]["status"] == 404);
    CHECK(fs::exists(dir / "dataset" / "Alice"));
    CHECK_FALSE(fs::exists(dir / "dataset" / "Bob"));
    CHECK(serve.stop().exit_code == 0);
}

TEST_CASE("slow e2e: serve under 1, 2, 4 and 8 concurrent clients answers every request and its memory stays bounded") {
    TempDir dir;
    make_demo_model(dir.path());
    cv::Mat photo;  // a 640x427 group photo with three faces
    const cv::Mat sample = cv::imread((kSource / ".cache/npm/face-api/package/demo/sample1.jpg").string());
    REQUIRE(!sample.empty());
    cv::resize(sample, photo, {640, 427}, 0, 0, cv::INTER_AREA);
    spit(dir / "photo.jpg", image_bytes(photo));
    ServeProcess serve(dir.path(), {"--threads", "2"});
    const std::string url = "http://127.0.0.1:" + std::to_string(serve.port());

    // The server's resident memory, sampled while the clients run.
    std::atomic<bool> sampling{true};
    std::atomic<double> peak{0};
    std::thread sampler([&] {
        while (sampling) {
            peak = std::max(peak.load(), rss_of(serve.pid()).now_mib);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });
    const double idle = rss_of(serve.pid()).now_mib;
    std::vector<double> after;
    std::ostringstream report;
    report << "serve load (2 analysis threads, 640x427 photo, 3 faces): idle RSS " << idle << " MiB\n";
    for (int clients : {1, 2, 4, 8}) {
        const Json r = node_script("load.mjs", {url, (dir / "photo.jpg").string(), std::to_string(clients), "6"}, dir.path());
        CAPTURE(r.dump());
        CHECK(r["requests"] == clients * 6);
        CHECK(r["errors"] == 0);
        after.push_back(rss_of(serve.pid()).now_mib);
        report << "  " << clients << " clients: " << r["photos_per_second"].get<double>() << " photos/s, median "
               << r["median_ms"].get<double>() << " ms, p95 " << r["p95_ms"].get<double>() << " ms, RSS after "
               << after.back() << " MiB\n";
    }
    sampling = false;
    sampler.join();
    report << "  peak RSS under load " << peak.load() << " MiB\n";
    std::cerr << report.str();
    MESSAGE(report.str());
    // Bounded: two analysers' working sets on top of the loaded models, and no
    // growth from the 2-client round to the 8-client one (the queue, not memory, absorbs clients).
    CHECK(peak.load() < idle + 1024);
    CHECK(after.back() < after[1] + 128);
    const RunResult end = serve.stop();
    CHECK(end.exit_code == 0);
}
