// annotate.h — drawing labelled faces onto an image (predict --annotate, live).
#pragma once
#include <opencv2/core.hpp>
#include <string>

#include "types.h"

namespace facepipe {

// Draws the box and "name 0.42" above it: green for a known person, red for
// unknown. Requires bgr CV_8UC3; boxes may extend past the image.
void draw_face(cv::Mat& bgr, const Box& box, const std::string& name, float distance, bool known);

}  // namespace facepipe
