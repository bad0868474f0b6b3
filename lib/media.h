// media.h — facepipe's one door to OpenCV's image codecs, video I/O and
// windows (opencv_imgcodecs, opencv_videoio, opencv_highgui), loaded on first use.
//
// Why: those three libraries pull in some 240 more (FFmpeg, GStreamer, GDAL,
// GTK ...). Linked into the binary, the dynamic loader maps and relocates all of
// them at every start, most of the time `facepipe --help` took. So each is
// linked only into a small module of its own, facepipe_media_image.so,
// _video.so and _window.so (lib/media/image.cpp, video.cpp, window.cpp), which
// this file loads with dlopen the first time one of its functions below is
// called: `--help`, `--version`, train, merge ... load none, predict and encode
// the image one only.
//
// Contract: each function forwards to the OpenCV function or class of the same
// name and has its contract, cv::Exception included; the modules hold no logic
// of their own. Thread-safe as OpenCV's functions are (each loads once).
// A module is looked up in <binary's folder>/../<libdir>/facepipe/ (installed;
// /usr/lib/x86_64-linux-gnu/facepipe/ for the package), then beside the binary
// (the build tree). Builds that link the modules' code in
// (FACEPIPE_MEDIA_LINKED: the fuzz harnesses) load nothing.
// Throws ModelError(module path, "cannot load ...") when the module is missing,
// broken or from another build: an incomplete install, nothing that needs it
// can run (exit 2).
#pragma once
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace facepipe::media {

// cv::imdecode, cv::imencode.
cv::Mat imdecode(const cv::Mat& buf, int flags);
bool imencode(const std::string& ext, const cv::Mat& img, std::vector<unsigned char>& buf,
              const std::vector<int>& params = {});

// cv::VideoCapture's methods facepipe uses. `api`: cv::CAP_* (opencv2/videoio.hpp).
class VideoCapture {
public:
    virtual ~VideoCapture() = default;
    virtual bool open(int camera_index) = 0;
    virtual bool open(const std::string& location, int api) = 0;
    virtual bool isOpened() const = 0;
    virtual bool set(int prop, double value) = 0;
    virtual double get(int prop) const = 0;
    virtual bool read(cv::Mat& frame) = 0;
    virtual void release() = 0;
};
std::unique_ptr<VideoCapture> new_video_capture();

// cv::VideoWriter's methods facepipe uses.
class VideoWriter {
public:
    virtual ~VideoWriter() = default;
    virtual bool open(const std::string& path, int api, int fourcc, double fps, cv::Size size, bool color) = 0;
    virtual bool isOpened() const = 0;
    virtual void write(const cv::Mat& frame) = 0;
    virtual void release() = 0;
};
std::unique_ptr<VideoWriter> new_video_writer();

// cv::VideoWriter::fourcc (a pure computation: no module needed).
constexpr int fourcc(char c1, char c2, char c3, char c4) {
    return (c1 & 255) + ((c2 & 255) << 8) + ((c3 & 255) << 16) + ((c4 & 255) << 24);
}

// The highgui window functions facepipe uses.
void namedWindow(const std::string& name, int flags);
void imshow(const std::string& name, const cv::Mat& img);
int waitKey(int delay_ms);
double getWindowProperty(const std::string& name, int prop);
void destroyAllWindows();

}  // namespace facepipe::media
