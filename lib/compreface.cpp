#include "compreface.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "error.h"
#include "hash.h"

namespace facepipe {
namespace {

double round5(double v) { return std::round(v * 1e5) / 1e5; }

// A query parameter: `fallback` when absent, else a number in [lo, hi]
// (a whole one when `whole`); UsageError(name, ...) otherwise.
double number_param(const std::function<std::string(const char*)>& param, const char* name, double fallback,
                    double lo, double hi, bool whole, const char* expected) {
    const std::string v = param(name);
    if (v.empty()) return fallback;
    char* end = nullptr;
    const double x = std::strtod(v.c_str(), &end);
    if (*end || !std::isfinite(x) || x < lo || x > hi || (whole && x != std::floor(x)))
        throw UsageError(name, "'" + v + "' is not " + expected);
    return x;
}

}  // namespace

double compreface_similarity(double distance, double threshold) {
    if (!(threshold > 0)) return distance <= 0 ? 1.0 : 0.0;
    if (!(distance > 0)) return 1.0;
    const double r = distance / threshold;
    return 1.0 / (1.0 + r * r * r * r);
}

double compreface_probability(double detector_score) {
    return 1.0 / (1.0 + std::exp(-(2.0 * detector_score + std::log(4.0))));
}

std::string compreface_image_id(std::string_view person, std::string_view photo_id) {
    const std::string h = sha256_hex(std::string(person) + "/" + std::string(photo_id));
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20, 12);
}

CompreFaceQuery parse_compreface_query(const std::function<std::string(const char*)>& param) {
    CompreFaceQuery q;
    q.limit = static_cast<int>(number_param(param, "limit", 0, 0, 1e6, true, "a whole number >= 0"));
    q.det_prob_threshold = number_param(param, "det_prob_threshold", 0, 0, 1, false, "a number from 0 to 1");
    q.prediction_count =
        static_cast<int>(number_param(param, "prediction_count", 1, 1, 1e6, true, "a whole number >= 1"));
    return q;
}

nlohmann::json compreface_recognize(const ImageLabels& r, const Classifier& c, const CompreFaceQuery& q) {
    using Json = nlohmann::json;
    Json result = Json::array();
    const Gallery& g = c.gallery();
    for (const FaceLabel& f : r.faces) {  // largest first
        if (q.limit > 0 && static_cast<int>(result.size()) >= q.limit) break;
        const double probability = compreface_probability(f.score);
        if (probability < q.det_prob_threshold) continue;
        Json subjects = Json::array();
        if (g.size() > 0) {
            const Match m = g.match(f.descriptor.data(), c.vote());
            if (m.label >= 0)
                subjects.push_back({{"subject", g.names()[m.label]},
                                    {"similarity", round5(compreface_similarity(m.distance, c.threshold()))}});
            if (q.prediction_count > 1) {
                std::vector<std::pair<float, int>> others;
                for (int p = 0; p < static_cast<int>(g.names().size()); ++p)
                    if (p != m.label) others.push_back({g.nearest_of_person(f.descriptor.data(), p), p});
                std::sort(others.begin(), others.end());
                for (const auto& [d, p] : others) {
                    if (static_cast<int>(subjects.size()) >= q.prediction_count || !std::isfinite(d)) break;
                    subjects.push_back(
                        {{"subject", g.names()[p]}, {"similarity", round5(compreface_similarity(d, c.threshold()))}});
                }
            }
        }
        const Box& b = f.box;
        result.push_back({{"box",
                           {{"probability", round5(probability)},
                            {"x_min", b.x},
                            {"y_min", b.y},
                            {"x_max", b.x + b.width},
                            {"y_max", b.y + b.height}}},
                          {"subjects", subjects}});
    }
    return Json{{"result", result}};
}

}  // namespace facepipe
