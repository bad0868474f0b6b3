// media/window.cpp — facepipe_media_window.so: forwards media.h's window functions
// to opencv_highgui, and nothing else. Only this file may call that library.
#include <opencv2/highgui.hpp>

#include "media/module.h"

namespace facepipe::media {
namespace {

const WindowModule kModule{
    kModuleAbi,
    [](const std::string& name, int flags) { cv::namedWindow(name, flags); },
    [](const std::string& name, const cv::Mat& img) { cv::imshow(name, img); },
    [](int delay_ms) { return cv::waitKey(delay_ms); },
    [](const std::string& name, int prop) { return cv::getWindowProperty(name, prop); },
    []() { cv::destroyAllWindows(); },
};

}  // namespace
}  // namespace facepipe::media

const facepipe::media::WindowModule* facepipe_media_window() { return &facepipe::media::kModule; }
