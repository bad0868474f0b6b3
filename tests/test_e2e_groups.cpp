// End-to-end test of the unknown faces through the binary (issue 18): predict
// --collect-unknown keeps two strangers' faces, `cluster` groups them by person
// with stable ids and contact sheets, `name` enrols a group (then predict names
// that person in another photo), `forget` drops one; unknown groups exit 2.
#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>

#include "e2e.h"
#include "faces.h"
#include "serve_util.h"  // make_demo_model
#include "testutil.h"

using namespace facepipe::test;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Grace: a face of sample5.jpg whom the demo never enrols (as test_e2e_browser.cpp
// cuts her), with half a face of margin.
cv::Mat grace(double margin) {
    const cv::Mat img = cv::imread((npm_samples() / "sample5.jpg").string());
    REQUIRE(!img.empty());
    const cv::Rect face{366, 939, 227, 225};
    const int m = static_cast<int>(face.width * margin);
    return img(cv::Rect(face.x - m, face.y - m, face.width + 2 * m, face.height + 2 * m)).clone();
}

cv::Mat scaled(const cv::Mat& img, double s) {
    cv::Mat out;
    cv::resize(img, out, {}, s, s, cv::INTER_AREA);
    return out;
}

// cluster --format json, parsed; REQUIREs exit 0.
Json cluster(const fs::path& dir, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"cluster", "--format", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = run_facepipe_m(args, dir);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return Json::parse(r.out);
}

// group id -> the sources of its members (file names).
std::map<std::uint64_t, std::multiset<std::string>> sources(const Json& j) {
    std::map<std::uint64_t, std::multiset<std::string>> out;
    for (const auto& g : j.at("groups")) {
        CHECK(g.at("size") == g.at("members").size());
        for (const auto& m : g.at("members")) out[g.at("id")].insert(fs::path(m.at("source").get<std::string>()).filename());
    }
    return out;
}

}  // namespace

TEST_CASE("slow e2e: collect unknown faces, cluster them, name a group, predict names the person") {
    SKIP_IF(npm_samples_missing());
    TempDir dir;
    make_demo_model(dir.path());
    write_image(dir / "sam-1.jpg", portrait("stranger"));
    write_image(dir / "sam-2.jpg", mirrored(portrait("stranger")));
    write_image(dir / "sam-3.jpg", scaled(portrait("stranger"), 0.8));
    write_image(dir / "sam-aside.jpg", scaled(mirrored(portrait("stranger")), 0.7));
    write_image(dir / "grace-1.jpg", grace(0.5));
    write_image(dir / "grace-2.jpg", mirrored(grace(0.8)));

    const auto collect = run_facepipe_m({"predict", "--collect-unknown=unknown", "sam-1.jpg", "sam-2.jpg",
                                         "sam-3.jpg", "grace-1.jpg", "grace-2.jpg"},
                                        dir.path());
    REQUIRE_MESSAGE(collect.exit_code == 0, collect.err);

    // Two groups, each one person's faces only.
    const Json first = cluster(dir.path(), {"--sheets", "sheets"});
    const auto groups = sources(first);
    REQUIRE(groups.size() == 2);
    std::uint64_t sam = 0, grace_id = 0;
    for (const auto& [id, files] : groups) {
        if (files == std::multiset<std::string>{"sam-1.jpg", "sam-2.jpg", "sam-3.jpg"}) sam = id;
        if (files == std::multiset<std::string>{"grace-1.jpg", "grace-2.jpg"}) grace_id = id;
    }
    CHECK_MESSAGE(sam != 0, first.dump());
    CHECK_MESSAGE(grace_id != 0, first.dump());
    CHECK(first["groups"][0]["id"] == sam);  // the largest first
    for (const auto& m : first["groups"][0]["members"]) {
        CHECK(m["time"].is_null());  // photos
        CHECK(m["box"]["width"].get<int>() > 0);
        CHECK(m["distance"].get<double>() > 0);  // to the nearest of the seven enrolled
    }
    // A contact sheet per group, a JPEG, 0600.
    for (const auto& [id, files] : groups) {
        const fs::path sheet = dir / "sheets" / ("group-" + std::to_string(id) + ".jpg");
        CHECK(file_mode(sheet) == 0600);
        CHECK(!cv::imread(sheet.string()).empty());
    }
    // The table: one line per group, then the count.
    const auto table = run_facepipe_m({"cluster"}, dir.path());
    CHECK(table.exit_code == 0);
    CHECK(lines_with(table.out, "sam-").size() == 1);
    CHECK(table.out.find("2 groups, 5 of 5 faces") != std::string::npos);

    // Stable: a re-run gives the same ids.
    CHECK(sources(cluster(dir.path())) == groups);

    // An unknown group is a usage error: exit 2, one line naming it.
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"name", "999", "Sam"}, {"forget", "999"}, {"merge-groups", std::to_string(sam), "999"}}) {
        const auto r = run_facepipe_m(args, dir.path());
        CHECK(r.exit_code == 2);
        CHECK(lines_with(r.err, "group 999").size() == 1);
    }
    // A refused name changes nothing.
    CHECK(run_facepipe_m({"name", std::to_string(sam), "../evil"}, dir.path()).exit_code == 2);

    // Name Sam's group: enrolled like `enroll`, and the faces leave the store.
    const auto named = run_facepipe_m({"name", std::to_string(sam), "Sam"}, dir.path());
    REQUIRE_MESSAGE(named.exit_code == 0, named.err);
    CHECK(fs::exists(dir / "dataset/Sam"));
    const auto after = sources(cluster(dir.path()));
    CHECK(after.size() == 1);
    CHECK(after.count(grace_id) == 1);  // Grace keeps her id
    const auto predicted = run_facepipe_m({"predict", "sam-aside.jpg", "--format", "csv"}, dir.path());
    REQUIRE(predicted.exit_code == 0);
    const auto rows = parse_predict_csv(predicted.out);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].label == "Sam");

    // Forget Grace's group: the store is empty.
    const auto forgot = run_facepipe_m({"forget", std::to_string(grace_id)}, dir.path());
    CHECK_MESSAGE(forgot.exit_code == 0, forgot.err);
    CHECK(cluster(dir.path())["groups"].empty());
}

TEST_CASE("e2e: cluster, name, forget and merge-groups on a folder nothing collected into say so, and create nothing") {
    TempDir tmp;
    const fs::path typo = tmp / "unknwon";
    const std::vector<std::vector<std::string>> commands = {
        {"cluster", typo.string()},
        {"name", "1", "Zoe", "--unknown", typo.string()},
        {"forget", "1", "--unknown", typo.string()},
        {"merge-groups", "1", "2", "--unknown", typo.string()},
    };
    for (const auto& args : commands) {
        CAPTURE(args[0]);
        const RunResult r = run_facepipe_m(args, tmp.path());
        CHECK(r.exit_code == 1);
        CHECK(r.out.empty());
        const auto lines = lines_with(r.err, typo.string() + ": no unknown faces collected here");
        CHECK(lines.size() == 1);
        CHECK_FALSE(fs::exists(typo));  // it used to be created, and cluster printed 0 groups
    }
}
