// End-to-end: what facepipe's start-up loads. OpenCV's image codecs, video I/O
// and windows, with the ~240 libraries they pull in, load only when a command
// needs them, each from its module (lib/media.h): `--help` and `--version` must
// map none, a command that decodes photos the image one only. Checked on the
// libraries the dynamic loader reports (LD_DEBUG=files), not on the clock.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <opencv2/imgcodecs.hpp>

#include "e2e.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe::test;

namespace {

struct TracedRun {
    int exit_code = -1;
    std::string output;  // stdout and stderr
    std::string loaded;  // the loader's trace: one "file=<library> ..." line per object it loads
};

// Runs `bin` with `args` (simple words, no quoting needed) in `cwd` under LD_DEBUG=files.
TracedRun traced_run(const fs::path& bin, const std::string& args, const fs::path& cwd) {
    TempDir io;
    const std::string cmd = "cd '" + cwd.string() + "' && env LD_DEBUG=files LD_DEBUG_OUTPUT='" +
                            (io / "ld").string() + "' '" + bin.string() + "' " + args + " > '" +
                            (io / "out").string() + "' 2>&1";
    TracedRun r;
    const int status = std::system(cmd.c_str());
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.output = slurp(io / "out");
    for (const auto& e : fs::directory_iterator(io.path()))  // ld.<pid>
        if (e.path().filename().string().rfind("ld.", 0) == 0) r.loaded += slurp(e.path());
    return r;
}

bool loads(const TracedRun& r, const std::string& library) {
    return r.loaded.find("file=" + library) != std::string::npos ||
           r.loaded.find("/" + library) != std::string::npos;
}

// A one-person dataset of one generated photo, for a command that decodes and encodes images.
void make_dataset(const fs::path& root) {
    fs::create_directories(root / "dataset" / "alice");
    cv::Mat img(120, 160, CV_8UC3, cv::Scalar(40, 120, 200));
    REQUIRE(cv::imwrite((root / "dataset" / "alice" / "a.jpg").string(), img));
}

}  // namespace

TEST_CASE("e2e: --help and --version load neither OpenCV's image codecs, video I/O nor windows") {
    TempDir dir;
    for (const std::string args : {"--help", "--version"}) {
        CAPTURE(args);
        const TracedRun r = traced_run(FACEPIPE_BINARY, args, dir.path());
        INFO(r.output);
        CHECK(r.exit_code == 0);
        REQUIRE(loads(r, "libopencv_core"));  // the trace works
        CHECK_FALSE(loads(r, "libopencv_imgcodecs"));
        CHECK_FALSE(loads(r, "libopencv_videoio"));
        CHECK_FALSE(loads(r, "libopencv_highgui"));
        CHECK_FALSE(loads(r, "facepipe_media_"));
    }
}

TEST_CASE("e2e: --version names the models with their recorded checksums, the ones models show verifies") {
    TempDir dir;
    const auto version = run_facepipe_m({"--version"}, dir.path());
    const auto show = run_facepipe_m({"models", "show"}, dir.path());
    REQUIRE(version.exit_code == 0);
    REQUIRE(show.exit_code == 0);
    const auto id = lines_with(show.out, "model id");
    REQUIRE(id.size() == 1);
    CHECK(lines_with(version.out, "model id") == id);
    CHECK(lines_with(version.out, "sha256") == lines_with(show.out, "sha256"));
    CHECK(version.out.find("`facepipe models show` verifies them") != std::string::npos);
}

TEST_CASE("e2e: a command that decodes images loads the image module, and not the video or window one") {
    TempDir dir;
    make_dataset(dir.path());
    const TracedRun r = traced_run(FACEPIPE_BINARY, "augment -d dataset -n 1", dir.path());
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(loads(r, "facepipe_media_image.so"));
    CHECK(loads(r, "libopencv_imgcodecs"));
    CHECK_FALSE(loads(r, "facepipe_media_video.so"));
    CHECK_FALSE(loads(r, "libopencv_videoio"));
    CHECK_FALSE(loads(r, "libopencv_highgui"));
    CHECK(fs::is_directory(dir / "dataset" / "alice" / "augmented"));
}

TEST_CASE("e2e: without its image module facepipe says which file is missing") {
    TempDir bin_dir, dir;
    const fs::path bin = bin_dir / "facepipe";  // no module beside it, nor in ../<libdir>/facepipe
    fs::copy_file(FACEPIPE_BINARY, bin);
    make_dataset(dir.path());
    const TracedRun help = traced_run(bin, "--help", dir.path());
    CHECK(help.exit_code == 0);  // what needs no image still runs
    const TracedRun r = traced_run(bin, "augment -d dataset -n 1", dir.path());
    INFO(r.output);
    CHECK(r.exit_code != 0);
    CHECK(r.output.find((bin_dir / "facepipe_media_image.so").string() +
                        ": cannot load facepipe's image module") != std::string::npos);
}
