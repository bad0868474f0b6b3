// End-to-end: with FACEPIPE_BUCKET set, a photo enrolled over serve's API
// reaches the bucket through the same scripts/sync.sh push the CLI side uses
// (the real gsutil against a file:// bucket), and a removal is pushed with
// --delete. The server finds sync.sh in ../scripts beside the build's binary.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "faces.h"
#include "serve_util.h"
#include "testutil.h"

using namespace facepipe::test;
using Json = nlohmann::json;
namespace fs = std::filesystem;

TEST_CASE("slow e2e: serve pushes an enrolment and a removal to FACEPIPE_BUCKET through scripts/sync.sh") {
    SKIP_IF(tool_missing("gsutil", "Google Cloud CLI's gsutil"));
    TempDir dir;
    make_demo_model(dir.path());
    const fs::path bucket = dir / "bucket";
    fs::create_directories(bucket);
    ServeProcess serve(dir.path(), {"--threads", "2"},
                       {{"FACEPIPE_BUCKET", "file://" + bucket.string()}, {"FACEPIPE_BIN", FACEPIPE_BINARY}});
    auto c = serve.client();

    const Json enrolled = json_of(c.Post("/api/v1/people/Ada/photos", one_file(image_bytes(portrait("stranger")), "ada.jpg")));
    INFO("enrol: ", enrolled.dump());
    REQUIRE(enrolled["retrained"] == true);
    const std::string training_id = enrolled["training_id"];
    const fs::path photo = bucket / "dataset" / "Ada" / "ada.jpg";
    const fs::path manifest = bucket / "artifacts" / "manifest.json";
    // The push runs in the background after the answer: wait for its manifest
    // (written last) to name the new model. Bounded: a safety net, not a timing.
    // The manifest names the model it belongs to.
    const auto bucket_has = [&](const std::string& id) {
        if (!fs::exists(manifest)) return false;
        const auto m = Json::parse(slurp(manifest), nullptr, false);
        return !m.is_discarded() && m.value("training_id", "") == id;
    };
    const bool pushed = eventually([&] { return bucket_has(training_id); }, 120);
    INFO("server stderr: ", serve.err_so_far());
    REQUIRE(pushed);
    CHECK(fs::is_regular_file(photo));
    CHECK(slurp(photo) == slurp(dir / "dataset" / "Ada" / "ada.jpg"));
    CHECK(fs::is_regular_file(bucket / "artifacts" / "model.bin"));
    // What was pushed is a pair another machine can pull and use.
    const auto check = run_facepipe_m({"manifest", "check", manifest.string()}, dir.path());
    CHECK_MESSAGE(check.exit_code == 0, check.out, check.err);

    // A removal is pushed with --delete: the photo leaves the bucket too.
    auto removed = c.Delete("/api/v1/people/Ada");
    REQUIRE(removed);
    CHECK(removed->status == 200);
    const std::string after_removal = json_of(c.Get("/api/v1/health"))["training_id"];
    CHECK(after_removal != training_id);
    CHECK(eventually([&] { return bucket_has(after_removal); }, 120));
    // Stopping the server's process group would end a push still running:
    // wait for the server to log that it finished.
    CHECK(eventually([&] { return serve.err_so_far().find("push --delete: done") != std::string::npos; }, 120));
    CHECK_FALSE(fs::exists(photo));
    const auto stopped = serve.stop();
    CHECK(stopped.exit_code == 0);
    CHECK(stopped.err.find(" push: exited") == std::string::npos);  // BucketSync's failure line
    CHECK(stopped.err.find(" push --delete: exited") == std::string::npos);
}
