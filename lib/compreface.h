// compreface.h — the CompreFace-compatible part of `facepipe serve`'s API:
// CompreFace's request parameters and answer shapes over facepipe's own
// answers, so that CompreFace clients (its SDKs, Double Take) work unchanged.
//
// The two numbers CompreFace gives that facepipe has no direct twin of:
//   similarity (0..1, higher = more alike) from facepipe's distance d and the
//     model's unknown-threshold t:   similarity = 1 / (1 + (d / t)^4)
//     It is 1 at d = 0, exactly 0.5 at d = t, and falls towards 0 beyond, so
//     similarity >= 0.5 exactly when facepipe names the face (d <= t), and a
//     client's usual "similarity > 0.5" test agrees with facepipe's decision.
//   probability (0..1) that a box is a face, from the HOG detector's score s:
//     probability = 1 / (1 + exp(-(2 s + ln 4)))
//     A face at the detector's own threshold (s = 0) gets 0.8, CompreFace's
//     usual det_prob_threshold; surer detections approach 1.
// An image id is a UUID-shaped hash of "<person>/<photo file>", stable across
// restarts, so a client can keep it.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "classifier.h"
#include "predict.h"

namespace facepipe {

double compreface_similarity(double distance, double threshold);
double compreface_probability(double detector_score);
std::string compreface_image_id(std::string_view person, std::string_view photo_id);

struct CompreFaceQuery {
    int limit = 0;                    // faces to answer for, largest first; 0 = all
    double det_prob_threshold = 0;    // faces with a lower probability are left out
    int prediction_count = 1;         // subjects per face, best first (>= 1)
};

// Reads limit, det_prob_threshold and prediction_count through param(name)
// ("" when absent). Throws UsageError(name, why) for a value that is not a
// number in range (limit >= 0, 0 <= det_prob_threshold <= 1, prediction_count >= 1).
CompreFaceQuery parse_compreface_query(const std::function<std::string(const char*)>& param);

// {"result":[{"box":{"probability","x_min","y_min","x_max","y_max"},
//             "subjects":[{"subject","similarity"}...]}...]}
// requires: r.ok(); c is the classifier r's faces were labelled with.
// Per face, the first subject is facepipe's answer (the model's vote, before
// its threshold: the similarity says whether it passed); the others follow by
// their nearest photo's distance. An empty gallery gives no subjects.
nlohmann::json compreface_recognize(const ImageLabels& r, const Classifier& c, const CompreFaceQuery& q);

}  // namespace facepipe
