// media/video.cpp — facepipe_media_video.so: media.h's VideoCapture and VideoWriter
// over opencv_videoio's, and nothing else. Only this file may call that library.
#include <opencv2/videoio.hpp>

#include "media/module.h"

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

const VideoModule kModule{
    kModuleAbi,
    []() -> VideoCapture* { return new Capture; },
    []() -> VideoWriter* { return new Writer; },
};

}  // namespace
}  // namespace facepipe::media

const facepipe::media::VideoModule* facepipe_media_video() { return &facepipe::media::kModule; }
