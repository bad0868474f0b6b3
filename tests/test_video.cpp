// Tests of lib/video.h on videos the tests write themselves.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "error.h"
#include "resources.h"
#include "testutil.h"
#include "video.h"

using namespace facepipe;
using facepipe::test::TempDir;
namespace test = facepipe::test;
namespace fs = std::filesystem;

namespace {

// A Motion-JPEG video whose frame i is a flat grey of level 8 * i.
void write_counting_video(const fs::path& path, int frames, double fps) {
    cv::VideoWriter w(path.string(), cv::CAP_FFMPEG, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), fps, {160, 120});
    REQUIRE(w.isOpened());
    for (int i = 0; i < frames; ++i) w.write(cv::Mat(120, 160, CV_8UC3, cv::Scalar::all(8 * i)));
}

int level(const cv::Mat& bgr) { return static_cast<int>(cv::mean(bgr)[0] / 8.0 + 0.5); }

}  // namespace

TEST_CASE("video: URLs are streams, file:// and paths are files") {
    CHECK(SourceSpec::from_video("rtsp://cam.local/stream").kind == SourceSpec::Kind::stream);
    CHECK(SourceSpec::from_video("http://127.0.0.1:8080/v.mjpg").kind == SourceSpec::Kind::stream);
    const auto f = SourceSpec::from_video("file:///tmp/clip.mp4");
    CHECK(f.kind == SourceSpec::Kind::file);
    CHECK(f.location == "/tmp/clip.mp4");
    CHECK(SourceSpec::from_video("clips/a b.mp4").kind == SourceSpec::Kind::file);
    CHECK(SourceSpec::from_video("odd:name://x.mp4").kind == SourceSpec::Kind::file);  // ':' is no scheme letter
    CHECK(SourceSpec::from_camera(0).describe() == "camera 0");
}

TEST_CASE("video: every_frame delivers each frame of a file in order") {
    TempDir dir;
    write_counting_video(dir / "c.avi", 24, 30);
    CaptureOptions o;
    o.every_frame = true;
    VideoSource src(SourceSpec::from_video((dir / "c.avi").string()), o);
    CHECK(src.size() == cv::Size(160, 120));
    CHECK(src.fps() == doctest::Approx(30));
    Frame f;
    int n = 0;
    while (src.next(f)) {
        // A slow consumer loses nothing: for the first frames it waits until the
        // decoder has filled its queue (4 frames) before taking the next.
        if (n < 3) REQUIRE(test::eventually([&] { return src.stats().decoded >= n + 5; }, 120));
        CHECK(f.index == n);
        CHECK(level(f.bgr) == n);
        CHECK(f.time_s == doctest::Approx(n / 30.0));
        ++n;
    }
    CHECK(n == 24);
    CHECK(src.stats().dropped == 0);
    CHECK(src.error().empty());
}

TEST_CASE("video: played live, a file is paced and a slow consumer gets the newest frame") {
    TempDir dir;
    constexpr int kFrames = 30;
    write_counting_video(dir / "c.avi", kFrames, 60);  // half a second
    const auto before = SteadyClock::now();
    VideoSource src(SourceSpec::from_video((dir / "c.avi").string()), CaptureOptions{});
    Frame f;
    std::int64_t last = -1;
    int taken = 0;
    while (src.next(f)) {
        CHECK(f.index > last);
        CHECK(level(f.bgr) == f.index);
        // Paced at 60 fps, as a camera would deliver: no frame is stamped before
        // its time in the file (1 ms for rounding). A bound that load can only
        // widen, never a measure of speed.
        CHECK(std::chrono::duration<double>(f.captured - before).count() >= f.time_s - 1e-3);
        last = f.index;
        ++taken;
        // A slow consumer, made slow by events rather than by sleeping: it comes
        // back only once the decoder has moved 3 frames on (or reached the end).
        // The limit is a safety net against a hang.
        const std::int64_t want = std::min<std::int64_t>(f.index + 4, kFrames);
        REQUIRE(test::eventually([&] { return src.stats().decoded >= want; }, 120));
    }
    const auto s = src.stats();
    CHECK(s.decoded == kFrames);
    CHECK(s.dropped > 10);  // each wait lets 2 newer frames replace the one not yet taken
    CHECK(taken + s.dropped == kFrames);
}

TEST_CASE("video: sources that cannot be opened say why") {
    TempDir dir;
    CHECK_THROWS_WITH_AS(VideoSource(SourceSpec::from_video((dir / "none.mp4").string()), {}),
                         doctest::Contains("no such file"), Error);
    const auto text = dir / "notes.mp4";
    { std::ofstream(text) << "not a video"; }
    CHECK_THROWS_WITH_AS(VideoSource(SourceSpec::from_video(text.string()), {}),
                         doctest::Contains("cannot be opened as a video"), Error);
    CHECK_THROWS_WITH_AS(VideoSource(SourceSpec::from_camera(97), {}), doctest::Contains("no such camera device"),
                         Error);
    CaptureOptions quick;
    quick.retries = 2;
    quick.backoff_s = 0.01;
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    CHECK_THROWS_WITH_AS(VideoSource(SourceSpec::from_video("http://127.0.0.1:9/none.mjpg"), quick),
                         doctest::Contains("gave up after 2 retries"), Error);
}

TEST_CASE("video: stop() ends next() and the decoder") {
    TempDir dir;
    write_counting_video(dir / "c.avi", 200, 10);  // 20 s if played to the end
    VideoSource src(SourceSpec::from_video((dir / "c.avi").string()), CaptureOptions{});
    Frame f;
    REQUIRE(src.next(f));
    // A frame comes every 100 ms: a next() that ignored the interrupt would
    // return one (true), so the answer itself shows the interrupt was honoured.
    std::atomic<bool> interrupt{true};
    CHECK_FALSE(src.next(f, &interrupt));
    src.stop();
    CHECK_FALSE(src.next(f));
}

TEST_CASE("video: a recording appears only when finished") {
    TempDir dir;
    const auto out = dir / "rec.mp4";
    {
        VideoRecorder rec(out.string(), 15);
        for (int i = 0; i < 10; ++i) rec.write(cv::Mat(96, 128, CV_8UC3, cv::Scalar::all(20 * i)));
        CHECK_FALSE(fs::exists(out));
        rec.finish();
        CHECK(rec.frames() == 10);
    }
    REQUIRE(fs::exists(out));
    cv::VideoCapture cap(out.string());
    REQUIRE(cap.isOpened());
    CHECK(cap.get(cv::CAP_PROP_FRAME_COUNT) == doctest::Approx(10));

    // Abandoned (an exception, a crash of the loop): nothing is left behind.
    const auto abandoned = dir / "gone.avi";
    {
        VideoRecorder rec(abandoned.string(), 15);
        rec.write(cv::Mat(96, 128, CV_8UC3, cv::Scalar::all(0)));
    }
    CHECK_FALSE(fs::exists(abandoned));
    CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator{}) == 1);
}

namespace {

// A y4m file whose header claims w x h greyscale frames: the header alone, or
// with one whole frame of zeros (a sparse file: no disk used, but FFmpeg reads
// a real frame of that size from it).
fs::path y4m_claiming(const fs::path& dir, int w, int h, bool with_frame) {
    const fs::path p = dir / ("claims-" + std::to_string(w) + "x" + std::to_string(h) + ".y4m");
    const std::string head = "YUV4MPEG2 W" + std::to_string(w) + " H" + std::to_string(h) + " F25:1 Ip A1:1 Cmono\nFRAME\n";
    std::ofstream(p, std::ios::binary) << head;
    if (with_frame) fs::resize_file(p, head.size() + std::uint64_t(w) * h);
    return p;
}

// Opens `path` and takes one frame, in a child; "<what() of the refusal>" or
// "read a WxH frame", and the child's peak memory growth.
test::ChildOutcome open_in_child(const fs::path& path) {
    return test::run_in_child([&] {
        VideoSource src(SourceSpec::from_video(path.string()), CaptureOptions{true});
        Frame f;
        if (!src.next(f)) return "no frame: " + src.error();
        return "read a " + std::to_string(f.bgr.cols) + "x" + std::to_string(f.bgr.rows) + " frame";
    });
}

}  // namespace

TEST_CASE("video: frames over the pixel limit are refused from the reported size, before any is read") {
    test::TempDir dir;
    // 8000x8000 = 64 MP with a real frame: decoding it would take ~500 MB.
    const fs::path big = y4m_claiming(dir.path(), 8000, 8000, true);
    test::ChildOutcome r = open_in_child(big);
    MESSAGE("8000x8000 y4m: peak RSS grew by ", r.peak_rss_growth_kib, " KiB: ", r.text);
    CHECK(r.text == "threw: " + big.string() + ": frames are 8000x8000 (64 MP), over the 60 MP limit");
    CHECK(r.peak_rss_growth_kib < 100 * 1024);
    // A small file claiming 16000x16000.
    const fs::path huge = y4m_claiming(dir.path(), 16000, 16000, false);
    r = open_in_child(huge);
    MESSAGE("16000x16000 y4m header: peak RSS grew by ", r.peak_rss_growth_kib, " KiB: ", r.text);
    CHECK(r.text == "threw: " + huge.string() + ": frames are 16000x16000 (256 MP), over the 60 MP limit");
    CHECK(r.peak_rss_growth_kib < 100 * 1024);
    // Under the limit: read as usual.
    const fs::path ok = y4m_claiming(dir.path(), 64, 48, true);
    CHECK(open_in_child(ok).text == "read a 64x48 frame");
}
