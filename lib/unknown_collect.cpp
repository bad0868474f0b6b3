#include "unknown_collect.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <opencv2/imgproc.hpp>

#include "error.h"
#include "text.h"

namespace facepipe {
namespace {

// The chip size the sharpness is measured at (that of align.h's chips), so that
// it does not depend on how large the face is in the picture.
constexpr int kSharpnessSide = 150;

Box scaled(const Box& b, double inv) {
    return {static_cast<int>(std::lround(b.x * inv)), static_cast<int>(std::lround(b.y * inv)),
            std::max(1, static_cast<int>(std::lround(b.width * inv))),
            std::max(1, static_cast<int>(std::lround(b.height * inv)))};
}

Box clip(const Box& b, int width, int height) {
    const int x0 = std::clamp(b.x, 0, width), y0 = std::clamp(b.y, 0, height);
    const int x1 = std::clamp(b.x + b.width, 0, width), y1 = std::clamp(b.y + b.height, 0, height);
    return {x0, y0, x1 - x0, y1 - y0};
}

cv::Rect rect(const Box& b) { return {b.x, b.y, b.width, b.height}; }

// What makes two faces the same face for the duplicate check.
std::string key_of(const UnknownFace& f) {
    std::string k = f.content_hash.empty() ? f.source + '\n' + format_number("%.6f", f.time_s) : f.content_hash;
    for (int v : {f.box.x, f.box.y, f.box.width, f.box.height}) k += ' ' + std::to_string(v);
    return k;
}

}  // namespace

void validate(const CollectOptions& o) {
    if (o.max_faces < 1) throw UsageError("--collect-max", "must be at least 1");
    if (o.min_face_px < 1) throw UsageError("--collect-min-size", "must be at least 1");
    if (!std::isfinite(o.min_score)) throw UsageError("--collect-min-score", "must be a number");
    if (!(o.min_sharpness >= 0)) throw UsageError("--collect-min-sharpness", "must be at least 0");
    if (!(o.margin >= 0 && o.margin <= 2)) throw UsageError("collect margin", "must be within 0..2");
    if (o.per_track < 1) throw UsageError("--collect-per-track", "must be at least 1");
    if (!(o.track_spacing_s >= 0)) throw UsageError("collect track spacing", "must be at least 0");
}

CollectCounters& CollectCounters::operator+=(const CollectCounters& o) {
    kept += o.kept;
    known += o.known;
    small += o.small;
    low_score += o.low_score;
    blurred += o.blurred;
    not_refound += o.not_refound;
    duplicates += o.duplicates;
    failed += o.failed;
    return *this;
}

std::string format_collect_summary(const CollectCounters& c, const std::filesystem::path& dir) {
    std::string s = "kept " + std::to_string(c.kept) + " unknown face" + (c.kept == 1 ? "" : "s") + " in " +
                    dir.string();
    std::string out;
    const auto part = [&](std::int64_t n, const char* what) {
        if (n > 0) out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + what;
    };
    part(c.small, "small");
    part(c.low_score, "low score");
    part(c.blurred, "blurred");
    part(c.not_refound, "no face in the crop");
    part(c.duplicates, "already kept");
    part(c.failed, "not written");
    return out.empty() ? s : s + " (left out: " + out + ")";
}

double face_sharpness(const cv::Mat& bgr, const Box& box) {
    cv::Mat grey, chip, lap;
    cv::cvtColor(bgr(rect(box)), grey, cv::COLOR_BGR2GRAY);
    cv::resize(grey, chip, {kSharpnessSide, kSharpnessSide}, 0, 0, cv::INTER_AREA);
    cv::Laplacian(chip, lap, CV_64F);
    cv::Scalar mean, dev;
    cv::meanStdDev(lap, mean, dev);
    return dev[0] * dev[0];
}

Box crop_box(const Box& box, double margin, int width, int height) {
    const int mx = static_cast<int>(std::lround(box.width * margin));
    const int my = static_cast<int>(std::lround(box.height * margin));
    return clip({box.x - mx, box.y - my, box.width + 2 * mx, box.height + 2 * my}, width, height);
}

UnknownCollector::UnknownCollector(CollectOptions options, std::shared_ptr<const LoadedModels> models)
    : o_(std::move(options)), analyzer_(std::move(models), AnalyzerOptions{}) {
    validate(o_);
    store_ = std::make_unique<UnknownStore>(o_.dir, o_.max_faces);
    for (const auto& f : store_->faces()) keys_.insert(key_of(f));
}

UnknownCollector::~UnknownCollector() = default;

CollectCounters UnknownCollector::counters() const {
    std::lock_guard<std::mutex> g(mu_);
    return counters_;
}

void UnknownCollector::count(const CollectCounters& c) {
    std::lock_guard<std::mutex> g(mu_);
    counters_ += c;
}

bool UnknownCollector::keep(UnknownFace face, const cv::Mat& crop, const Box& crop_at, double scale,
                            bool describe_crop, const Classifier& classifier) {
    std::lock_guard<std::mutex> g(mu_);
    const std::string key = key_of(face);
    if (std::min(face.box.width, face.box.height) < o_.min_face_px) return ++counters_.small, false;
    if (!describe_crop && face.score < o_.min_score) return ++counters_.low_score, false;
    if (keys_.count(key)) return ++counters_.duplicates, false;
    // The face within the crop, in the crop's pixels.
    const double inv = 1.0 / scale;
    const Box in_crop = clip(scaled({face.box.x - crop_at.x, face.box.y - crop_at.y, face.box.width, face.box.height}, inv),
                             crop.cols, crop.rows);
    if (in_crop.width < 2 || in_crop.height < 2) return ++counters_.small, false;
    const double sharpness = face_sharpness(crop, in_crop);
    int found = 0;
    const std::vector<Face> again = analyzer_.analyze(crop, 1, &found);
    // The measures the gates' defaults were chosen from (docs/unknown.md).
    spdlog::debug("unknown face {} box {},{},{},{}: size {} score {:.3f} sharpness {:.1f} refound {}", printable(face.source),
                  face.box.x, face.box.y, face.box.width, face.box.height, std::min(face.box.width, face.box.height),
                  describe_crop ? (again.empty() ? -99.0 : again.front().score) : face.score, sharpness, found);
    if (sharpness < o_.min_sharpness) return ++counters_.blurred, false;
    if (found == 0 || again.empty()) return ++counters_.not_refound, false;
    if (describe_crop) {
        face.score = static_cast<float>(again.front().score);
        face.descriptor = again.front().descriptor;
        if (face.score < o_.min_score) return ++counters_.low_score, false;
    }
    if (classifier.size() == 0) {
        face.distance = std::numeric_limits<float>::infinity();
        face.nearest.clear();
    } else {
        const Prediction nearest = classifier.predict(face.descriptor, std::numeric_limits<float>::max());
        face.distance = nearest.distance;
        face.nearest = nearest.label >= 0 ? nearest.name : "";
    }
    try {
        store_->append(face, crop);
    } catch (const Error& e) {
        spdlog::error("{}", e.what());
        ++counters_.failed;
        return false;
    }
    keys_.insert(key);
    ++counters_.kept;
    return true;
}

int UnknownCollector::collect_photo(const ImageLabels& r, const cv::Mat& bgr, double scale, const std::string& sha256,
                                    const Classifier& classifier) {
    if (!r.ok() || bgr.empty()) return 0;
    int kept = 0;
    CollectCounters known;
    for (const FaceLabel& f : r.faces) {
        if (f.prediction.label >= 0) {
            ++known.known;
            continue;
        }
        UnknownFace u;
        u.source = r.input;
        u.box = clip(f.box, r.width, r.height);
        if (u.box.width <= 0 || u.box.height <= 0) continue;
        u.score = static_cast<float>(f.score);
        u.descriptor = f.descriptor;
        u.content_hash = sha256;
        const Box at = crop_box(u.box, o_.margin, r.width, r.height);
        const Box in_bgr = clip(scaled(at, 1.0 / scale), bgr.cols, bgr.rows);
        if (in_bgr.width <= 0 || in_bgr.height <= 0) continue;
        if (keep(u, bgr(rect(in_bgr)), at, scale, false, classifier)) ++kept;
    }
    count(known);
    return kept;
}

StreamCollector::StreamCollector(UnknownCollector& collector, std::string source)
    : c_(collector), source_(std::move(source)) {}

StreamCollector::~StreamCollector() = default;

void StreamCollector::frame(const cv::Mat& bgr, double time_s, const std::vector<TrackedFace>& faces,
                            const std::vector<TrackEvent>& events, const Classifier& classifier) {
    const CollectOptions& o = c_.options();
    for (const TrackedFace& f : faces) {
        Pending& p = tracks_[f.id];
        if (f.known) {
            p.unknown = false;
            continue;
        }
        p.unknown = true;
        if (time_s - p.last_sample_s < o.track_spacing_s) continue;
        const Box box = clip(f.box, bgr.cols, bgr.rows);
        if (std::min(box.width, box.height) < o.min_face_px) continue;  // too small now: maybe later
        p.last_sample_s = time_s;
        Sample s;
        s.sharpness = face_sharpness(bgr, box);
        s.time_s = time_s;
        s.box = box;
        s.distance = f.distance;
        if (p.best.size() == static_cast<std::size_t>(o.per_track) && s.sharpness <= p.best.back().sharpness) continue;
        s.crop_at = crop_box(box, o.margin, bgr.cols, bgr.rows);
        s.crop = bgr(rect(s.crop_at)).clone();
        p.best.push_back(std::move(s));
        std::stable_sort(p.best.begin(), p.best.end(),
                         [](const Sample& a, const Sample& b) { return a.sharpness > b.sharpness; });
        if (p.best.size() > static_cast<std::size_t>(o.per_track)) p.best.pop_back();
    }
    for (const TrackEvent& e : events)
        if (e.kind == TrackEvent::Kind::gone) flush(e.face.id, classifier);
}

void StreamCollector::finish(const Classifier& classifier) {
    while (!tracks_.empty()) flush(tracks_.begin()->first, classifier);
}

void StreamCollector::flush(int track, const Classifier& classifier) {
    const auto it = tracks_.find(track);
    if (it == tracks_.end()) return;
    Pending p = std::move(it->second);
    tracks_.erase(it);
    if (!p.unknown) {
        c_.count(CollectCounters{0, 1});
        return;
    }
    for (const Sample& s : p.best) {
        UnknownFace u;
        u.source = source_;
        u.time_s = std::max(0.0, s.time_s);
        u.box = s.box;
        c_.keep(u, s.crop, s.crop_at, 1.0, true, classifier);
    }
}

}  // namespace facepipe
