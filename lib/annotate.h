// annotate.h — drawing labelled faces onto an image (predict --annotate, live).
#pragma once
#include <opencv2/core.hpp>
#include <string>

#include "types.h"

namespace facepipe {

// Draws the box and "name 0.42" above it: green for a known person, red for
// unknown. Requires bgr CV_8UC3; boxes may extend past the image.
void draw_face(cv::Mat& bgr, const Box& box, const std::string& name, float distance, bool known);

// Draws one line of status text (e.g. "12.3 fps") in the top-left corner, on a
// dark band so it stays readable on any picture.
void draw_status(cv::Mat& bgr, const std::string& text);

}  // namespace facepipe
