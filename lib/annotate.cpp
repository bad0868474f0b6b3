#include "annotate.h"

#include <algorithm>
#include <cstdio>
#include <opencv2/imgproc.hpp>

namespace facepipe {

void draw_face(cv::Mat& bgr, const Box& box, const std::string& name, float distance, bool known) {
    const cv::Scalar color = known ? cv::Scalar(60, 200, 60) : cv::Scalar(40, 40, 230);
    // Scale strokes and text with the face, so labels stay legible on large photos.
    const int thick = std::max(2, box.width / 60);
    const double font = std::clamp(box.width / 160.0, 0.5, 2.0);
    cv::rectangle(bgr, cv::Rect(box.x, box.y, box.width, box.height), color, thick);
    char text[256];
    std::snprintf(text, sizeof text, "%s %.2f", name.c_str(), distance);
    int baseline = 0;
    const cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, font, thick / 2 + 1, &baseline);
    const int top = box.y - size.height - baseline - 4 >= 0 ? box.y - size.height - baseline - 4 : box.y + box.height;
    cv::rectangle(bgr, cv::Rect(box.x, top, size.width + 6, size.height + baseline + 4), color, cv::FILLED);
    cv::putText(bgr, text, cv::Point(box.x + 3, top + size.height + 2), cv::FONT_HERSHEY_SIMPLEX, font,
                cv::Scalar(255, 255, 255), thick / 2 + 1, cv::LINE_AA);
}

void draw_status(cv::Mat& bgr, const std::string& text) {
    const double font = std::clamp(bgr.cols / 1280.0, 0.45, 1.2);
    int baseline = 0;
    const cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, font, 1, &baseline);
    cv::rectangle(bgr, cv::Rect(0, 0, size.width + 10, size.height + baseline + 8), cv::Scalar(0, 0, 0), cv::FILLED);
    cv::putText(bgr, text, cv::Point(5, size.height + 4), cv::FONT_HERSHEY_SIMPLEX, font, cv::Scalar(255, 255, 255), 1,
                cv::LINE_AA);
}

}  // namespace facepipe
