// video.h — frames in (a camera, a file or a stream) and annotated frames out.
//
// VideoSource decodes on its own thread, so a slow frame downstream never
// stalls the camera. Two delivery policies:
//   live (cameras, streams, and files played in real time): the source keeps
//     only the newest frame; one not taken before the next arrives is dropped
//     and counted. A file is paced at its own frame rate, as a camera would be.
//   every_frame (files only): every frame is delivered, as fast as the consumer
//     takes them (the decoder waits on a small queue); for tests and benchmarks.
// Streams (URLs) that fail to open or break are reopened with exponential
// backoff; files end cleanly at their last frame.
#pragma once
#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>  // the CAP_ constants

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "image.h"
#include "media.h"

namespace facepipe {

using SteadyClock = std::chrono::steady_clock;

struct SourceSpec {
    enum class Kind { camera, file, stream };
    Kind kind = Kind::file;
    int camera = -1;        // device index, for cameras
    std::string location;   // path or URL, for files and streams

    static SourceSpec from_camera(int index);
    // A URL ("scheme://...", other than file://) is a stream; anything else a file path.
    static SourceSpec from_video(const std::string& path_or_url);
    std::string describe() const;  // "camera 0", the path, or the URL (for messages)
};

struct CaptureOptions {
    bool every_frame = false;  // files only: deliver every frame, unpaced
    int width = 0, height = 0; // cameras: requested size, 0 = the device's default
    int retries = 5;           // streams: reopen attempts in a row before giving up
    double backoff_s = 0.5;    // streams: first wait before reopening; doubles up to 8 s
    // Frames larger than this are refused (image.h's limit for photos): from the
    // size the source reports on opening, before a frame is read.
    std::uint64_t max_frame_pixels = ImageLimits{}.max_pixels;
};

struct Frame {
    cv::Mat bgr;                     // CV_8UC3
    std::int64_t index = 0;          // position in the source, counting dropped frames
    double time_s = 0;               // source time: position in a file, else since start
    SteadyClock::time_point captured;  // when decoding finished (latency starts here)
};

struct CaptureStats {
    std::int64_t decoded = 0;   // frames read from the source
    std::int64_t dropped = 0;   // decoded but replaced by a newer one before being taken
    int reconnects = 0;         // streams: successful reopenings
};

class VideoSource {
public:
    // Opens the source (streams: retrying as above) and starts decoding.
    // Throws Error(source, cause) when it cannot be opened: "no such file",
    // "no such camera device", "cannot be opened as a video ..."; LimitError
    // "frames are <w>x<h> (...), over the ... limit" when the reported frame
    // size is over options.max_frame_pixels (no frame is read then).
    VideoSource(SourceSpec spec, CaptureOptions options);
    ~VideoSource();  // stops and joins the decoder
    VideoSource(const VideoSource&) = delete;
    VideoSource& operator=(const VideoSource&) = delete;

    // Blocks for the next frame. False when the source has ended (end of file,
    // stream given up, stop()); then error() says why if it was not a clean end.
    // Also false soon (within 0.1 s) after *interrupt becomes true.
    bool next(Frame& out, const std::atomic<bool>* interrupt = nullptr);
    void stop();  // makes next() return false; safe from any thread

    const SourceSpec& spec() const;
    double fps() const;  // the source's nominal rate, 0 when unknown
    cv::Size size() const;
    CaptureStats stats() const;
    std::string error() const;  // "" for a clean end

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Writes frames to a video file. The file appears under its name only when
// finish() succeeds: until then it is written to a hidden temporary beside it,
// so an interrupted recording never looks like a complete one.
// The container follows the extension: .avi is Motion-JPEG, anything else
// (.mp4, .mkv, .mov) MPEG-4 Part 2, which OpenCV's FFmpeg always has.
class VideoRecorder {
public:
    VideoRecorder(std::string path, double fps);  // opens on the first frame
    ~VideoRecorder();  // without finish(): removes the temporary
    void write(const cv::Mat& bgr);  // throws Error(path, ...) if it cannot be written
    void finish();                   // closes and renames into place
    std::int64_t frames() const { return frames_; }

private:
    std::string path_, temp_;
    double fps_;
    std::int64_t frames_ = 0;
    std::unique_ptr<media::VideoWriter> writer_;  // opened on the first frame
};

}  // namespace facepipe
