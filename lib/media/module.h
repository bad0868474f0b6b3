// media/module.h — the tables facepipe's three media modules hand to lib/media.cpp
// (media.h says why they exist). Private to those files.
//
// One module per OpenCV library, so that a command loads only what it uses:
// decoding a photo (predict, encode, serve) needs the image codecs and their ~140
// libraries, not FFmpeg and GStreamer (video) nor GTK (windows).
#pragma once
#include <cstdint>

#include "media.h"

namespace facepipe::media {

// Bumped whenever a table below or media.h's classes change: the loader refuses a
// module whose table has another layout (a module left from another build).
inline constexpr std::uint32_t kModuleAbi = 2;

// facepipe_media_image.so (media/image.cpp): opencv_imgcodecs.
struct ImageModule {
    std::uint32_t abi;
    cv::Mat (*imdecode)(const cv::Mat& buf, int flags);
    bool (*imencode)(const std::string& ext, const cv::Mat& img, std::vector<unsigned char>& buf,
                     const std::vector<int>& params);
};

// facepipe_media_video.so (media/video.cpp): opencv_videoio.
struct VideoModule {
    std::uint32_t abi;
    VideoCapture* (*new_video_capture)();
    VideoWriter* (*new_video_writer)();
};

// facepipe_media_window.so (media/window.cpp): opencv_highgui.
struct WindowModule {
    std::uint32_t abi;
    void (*namedWindow)(const std::string& name, int flags);
    void (*imshow)(const std::string& name, const cv::Mat& img);
    int (*waitKey)(int delay_ms);
    double (*getWindowProperty)(const std::string& name, int prop);
    void (*destroyAllWindows)();
};

}  // namespace facepipe::media

// Each module's one exported function: it returns its table.
#define FACEPIPE_MEDIA_EXPORT extern "C" __attribute__((visibility("default")))
FACEPIPE_MEDIA_EXPORT const facepipe::media::ImageModule* facepipe_media_image();
FACEPIPE_MEDIA_EXPORT const facepipe::media::VideoModule* facepipe_media_video();
FACEPIPE_MEDIA_EXPORT const facepipe::media::WindowModule* facepipe_media_window();
