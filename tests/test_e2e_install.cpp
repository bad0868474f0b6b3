// End-to-end: `cmake --install` gives a facepipe that finds its models and its
// image module from any working folder (cron runs it from anywhere),
// with --models still overriding.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <opencv2/imgcodecs.hpp>

#include "e2e.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe::test;

TEST_CASE("e2e: an installed facepipe finds its models from any folder") {
    TempDir prefix, elsewhere;
    const fs::path build = fs::path(FACEPIPE_TEST_MODEL_DIR).parent_path();
    const std::string cmd = "cmake --install '" + build.string() + "' --prefix '" + prefix.path().string() + "' >/dev/null";
    REQUIRE(std::system(cmd.c_str()) == 0);
    const fs::path bin = prefix / "bin" / "facepipe";
    REQUIRE(fs::exists(bin));

    // run_facepipe runs the build tree's binary; run the installed one through a shell in another folder.
    const std::string out = (elsewhere / "out").string();
    const std::string run = "cd '" + elsewhere.path().string() + "' && env -u FACEPIPE_MODELS '" + bin.string() +
                            "' models show > '" + out + "' 2>&1";
    const int status = std::system(run.c_str());
    const std::string text = slurp(out);
    INFO(text);
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(text.find((prefix / "share" / "facepipe" / "models").string()) != std::string::npos);

    const std::string bad = "cd '" + elsewhere.path().string() + "' && '" + bin.string() + "' --models '" +
                            elsewhere.path().string() + "' models show > '" + out + "' 2>&1";
    CHECK(WEXITSTATUS(std::system(bad.c_str())) == 2);
    CHECK(slurp(out).find("face recognition model not found") != std::string::npos);

    // Its image module (lib/media.h) is found from the installed binary too.
    fs::create_directories(elsewhere / "dataset" / "alice");
    REQUIRE(cv::imwrite((elsewhere / "dataset" / "alice" / "a.jpg").string(), cv::Mat(90, 120, CV_8UC3, cv::Scalar(9, 99, 199))));
    const std::string augment = "cd '" + elsewhere.path().string() + "' && '" + bin.string() +
                                "' augment -d dataset -n 1 > '" + out + "' 2>&1";
    const int augmented = WEXITSTATUS(std::system(augment.c_str()));
    INFO(slurp(out));
    CHECK(augmented == 0);
    CHECK(fs::is_directory(elsewhere / "dataset" / "alice" / "augmented"));
}
