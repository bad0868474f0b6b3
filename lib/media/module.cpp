// media/module.cpp — facepipe_media.so: forwards media.h's functions to
// opencv_imgcodecs, opencv_videoio and opencv_highgui, and nothing else. Only
// this file may call those libraries (media.h says why).
#include "media/module.h"

#include <opencv2/highgui.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

namespace facepipe::media {
namespace {

class Capture final : public VideoCapture {
public:
    bool open(int camera_index) override { return cap_.open(camera_index); }
    bool open(const std::string& location, int api) override { return cap_.open(location, api); }
    bool isOpened() const override { return cap_.isOpened(); }
    bool set(int prop, double value) override { return cap_.set(prop, value); }
    double get(int prop) const override { return cap_.get(prop); }
    bool read(cv::Mat& frame) override { return cap_.read(frame); }
    void release() override { cap_.release(); }

private:
    cv::VideoCapture cap_;
};

class Writer final : public VideoWriter {
public:
    bool open(const std::string& path, int api, int fourcc, double fps, cv::Size size, bool color) override {
        return writer_.open(path, api, fourcc, fps, size, color);
    }
    bool isOpened() const override { return writer_.isOpened(); }
    void write(const cv::Mat& frame) override { writer_.write(frame); }
    void release() override { writer_.release(); }

private:
    cv::VideoWriter writer_;
};

const Module kModule{
    kModuleAbi,
    [](const cv::Mat& buf, int flags) { return cv::imdecode(buf, flags); },
    [](const std::string& ext, const cv::Mat& img, std::vector<unsigned char>& buf, const std::vector<int>& params) {
        return cv::imencode(ext, img, buf, params);
    },
    []() -> VideoCapture* { return new Capture; },
    []() -> VideoWriter* { return new Writer; },
    [](const std::string& name, int flags) { cv::namedWindow(name, flags); },
    [](const std::string& name, const cv::Mat& img) { cv::imshow(name, img); },
    [](int delay_ms) { return cv::waitKey(delay_ms); },
    [](const std::string& name, int prop) { return cv::getWindowProperty(name, prop); },
    []() { cv::destroyAllWindows(); },
};

}  // namespace
}  // namespace facepipe::media

extern "C" __attribute__((visibility("default"))) const facepipe::media::Module* facepipe_media_module() { return &facepipe::media::kModule; }
