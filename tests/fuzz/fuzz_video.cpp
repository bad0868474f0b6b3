// Fuzzes a video file as `facepipe live --video FILE` opens and decodes it
// (VideoSource, lib/video.h, over OpenCV's FFmpeg backend). VideoCapture wants
// a path, so each input is written to a file first. every_frame delivery (no
// pacing), and at most kMaxFrames frames per input, bound the cost of one run.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "error.h"
#include "fuzz_util.h"
#include "video.h"

using namespace facepipe;

namespace {
constexpr int kMaxFrames = 16;
}

// FFmpeg reports every damaged macroblock on stderr: thousands of lines a second.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
    ::setenv("OPENCV_FFMPEG_LOGLEVEL", "-8", 0);  // AV_LOG_QUIET, unless the caller chose a level
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = fuzz::write_temp("video", fuzz::view(data, size));
    CaptureOptions options;
    options.every_frame = true;
    try {
        VideoSource source(SourceSpec::from_video(path), options);
        Frame f;
        for (int i = 0; i < kMaxFrames && source.next(f); ++i)
            if (f.bgr.empty() || f.bgr.type() != CV_8UC3) __builtin_trap();
        source.stop();
    } catch (const Error&) {
    }
    return 0;
}
