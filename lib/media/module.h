// media/module.h — the table facepipe_media.so hands to lib/media.cpp (media.h
// says why the module exists). Private to those two files.
#pragma once
#include <cstdint>

#include "media.h"

namespace facepipe::media {

// Bumped whenever this struct or media.h's classes change: the loader refuses
// a module whose table has another layout (a module left from another build).
inline constexpr std::uint32_t kModuleAbi = 1;
// The module's one exported function; it returns its table.
inline constexpr const char* kModuleEntry = "facepipe_media_module";
inline constexpr const char* kModuleFile = "facepipe_media.so";

struct Module {
    std::uint32_t abi;
    cv::Mat (*imdecode)(const cv::Mat& buf, int flags);
    bool (*imencode)(const std::string& ext, const cv::Mat& img, std::vector<unsigned char>& buf,
                     const std::vector<int>& params);
    VideoCapture* (*new_video_capture)();
    VideoWriter* (*new_video_writer)();
    void (*namedWindow)(const std::string& name, int flags);
    void (*imshow)(const std::string& name, const cv::Mat& img);
    int (*waitKey)(int delay_ms);
    double (*getWindowProperty)(const std::string& name, int prop);
    void (*destroyAllWindows)();
};

}  // namespace facepipe::media

extern "C" const facepipe::media::Module* facepipe_media_module();
