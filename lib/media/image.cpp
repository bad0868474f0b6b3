// media/image.cpp — facepipe_media_image.so: forwards media.h's image functions to
// opencv_imgcodecs, and nothing else. Only this file may call that library.
#include <opencv2/imgcodecs.hpp>

#include "media/module.h"

namespace facepipe::media {
namespace {

const ImageModule kModule{
    kModuleAbi,
    [](const cv::Mat& buf, int flags) { return cv::imdecode(buf, flags); },
    [](const std::string& ext, const cv::Mat& img, std::vector<unsigned char>& buf, const std::vector<int>& params) {
        return cv::imencode(ext, img, buf, params);
    },
};

}  // namespace
}  // namespace facepipe::media

const facepipe::media::ImageModule* facepipe_media_image() { return &facepipe::media::kModule; }
