#include "tracker.h"

#include <dlib/image_transforms/fhog.h>  // correlation_tracker.h uses it without including it
#include <dlib/image_processing/correlation_tracker.h>
#include <dlib/opencv.h>

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <tuple>

#include "error.h"

namespace facepipe {

void validate(const TrackerOptions& o) {
    if (o.detect_every < 1) throw UsageError("--detect-every", "must be at least 1");
    if (o.describe_every < 1) throw UsageError("--describe-every", "must be at least 1");
    if (o.vote_window < 1) throw UsageError("--vote-window", "must be at least 1");
    if (!(o.match_iou > 0 && o.match_iou < 1)) throw UsageError("--match-iou", "must be between 0 and 1");
    if (o.max_missed < 1) throw UsageError("--max-missed", "must be at least 1");
    if (!(o.min_confidence >= 0)) throw UsageError("--min-confidence", "must be 0 or more");
    if (o.track_side < 64) throw UsageError("--track-side", "must be at least 64 pixels");
}

const char* to_string(TrackEvent::Kind k) {
    switch (k) {
        case TrackEvent::Kind::appeared: return "appeared";
        case TrackEvent::Kind::label_changed: return "label_changed";
        case TrackEvent::Kind::gone: return "gone";
    }
    return "?";
}

double iou(const Box& a, const Box& b) {
    if (a.area() <= 0 || b.area() <= 0) return 0;
    const int x0 = std::max(a.x, b.x), y0 = std::max(a.y, b.y);
    const int x1 = std::min(a.x + a.width, b.x + b.width), y1 = std::min(a.y + a.height, b.y + b.height);
    if (x1 <= x0 || y1 <= y0) return 0;
    const double inter = double(x1 - x0) * (y1 - y0);
    return inter / (double(a.area()) + double(b.area()) - inter);
}

struct FaceTracks::Track {
    TrackedFace face;
    dlib::correlation_tracker tracker;
    std::deque<Descriptor> recent;  // newest last
    std::int64_t described_at = -1;
    int missed = 0;                // detections in a row that did not find it
    bool lost = false;             // the tracker's confidence fell: trust only a detection now
    bool announced = false;        // its appeared event has been sent

    // Names the track from its recent descriptors (see tracker.h).
    void vote(const Descriptor& d, int window, float tolerance, const Classifier& classifier) {
        recent.push_back(d);
        while (static_cast<int>(recent.size()) > window) recent.pop_front();
        Descriptor mean{};
        for (const auto& r : recent)
            for (int i = 0; i < kDescriptorDim; ++i) mean[i] += r[i];
        for (auto& v : mean) v /= static_cast<float>(recent.size());
        const Prediction p = classifier.predict(mean, tolerance);
        face.label = p.name;
        face.distance = p.distance;
        face.known = p.label >= 0;
    }
};

FaceTracks::FaceTracks(TrackerOptions options) : options_(options) { validate(options_); }
FaceTracks::~FaceTracks() = default;

namespace {

dlib::drectangle to_drect(const Box& b, double s) {
    return dlib::drectangle(b.x * s, b.y * s, (b.x + b.width) * s - 1, (b.y + b.height) * s - 1);
}

Box to_box(const dlib::drectangle& r, double s) {
    return Box{static_cast<int>(std::lround(r.left() / s)), static_cast<int>(std::lround(r.top() / s)),
               static_cast<int>(std::lround(r.width() / s)), static_cast<int>(std::lround(r.height() / s))};
}

// Most of the face has left the frame.
bool outside(const Box& b, const cv::Size& frame) {
    const int cx = b.x + b.width / 2, cy = b.y + b.height / 2;
    return cx < 0 || cy < 0 || cx >= frame.width || cy >= frame.height;
}

}  // namespace

cv::Mat FaceTracks::tracking_gray(const cv::Mat& bgr) {
    cv::Mat gray;
    cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
    const int side = std::max(bgr.cols, bgr.rows);
    track_scale_ = side > options_.track_side ? double(options_.track_side) / side : 1.0;
    if (track_scale_ < 1) cv::resize(gray, gray, {}, track_scale_, track_scale_, cv::INTER_AREA);
    return gray;
}

void FaceTracks::track_all(const cv::Mat& gray) {
    const dlib::cv_image<unsigned char> img(gray);
    for (auto& t : tracks_) {
        if (t->lost) continue;
        const double psr = t->tracker.update(img);
        t->face.box = to_box(t->tracker.get_position(), track_scale_);
        if (psr < options_.min_confidence) {
            t->lost = true;
            ++counters_.lost;
            detect_next_ = true;
        }
    }
}

void FaceTracks::detect_and_match(const cv::Mat& bgr, const cv::Mat& gray, std::int64_t frame,
                                  FaceSensor& sensor, std::vector<TrackEvent>& events) {
    const auto dets = sensor.detect(bgr);
    ++counters_.detections;
    last_detection_ = frame;
    detect_next_ = false;

    // Greedy matching, best overlap first.
    std::vector<std::tuple<double, std::size_t, std::size_t>> pairs;
    for (std::size_t t = 0; t < tracks_.size(); ++t)
        for (std::size_t d = 0; d < dets.size(); ++d)
            if (const double o = iou(tracks_[t]->face.box, dets[d].box); o >= options_.match_iou)
                pairs.emplace_back(o, t, d);
    std::sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
    std::vector<bool> track_matched(tracks_.size()), det_matched(dets.size());
    const dlib::cv_image<unsigned char> img(gray);
    for (const auto& [o, t, d] : pairs) {
        if (track_matched[t] || det_matched[d]) continue;
        track_matched[t] = det_matched[d] = true;
        auto& tr = *tracks_[t];
        tr.face.box = dets[d].box;  // re-anchor the tracker on the detector's box
        tr.tracker.start_track(img, to_drect(tr.face.box, track_scale_));
        tr.missed = 0;
        tr.lost = false;
    }

    // Unmatched tracks: missed once more; gone when missed too often or lost.
    for (std::size_t t = tracks_.size(); t-- > 0;) {
        if (track_matched[t]) continue;
        auto& tr = *tracks_[t];
        if (++tr.missed >= options_.max_missed || tr.lost) {
            if (tr.announced) events.push_back({TrackEvent::Kind::gone, tr.face, {}});
            tracks_.erase(tracks_.begin() + static_cast<std::ptrdiff_t>(t));
        }
    }

    // Unmatched detections: new tracks, announced once described.
    for (std::size_t d = 0; d < dets.size(); ++d) {
        if (det_matched[d] || outside(dets[d].box, bgr.size())) continue;
        auto tr = std::make_unique<Track>();
        tr->face.id = next_id_++;
        tr->face.box = dets[d].box;
        tr->face.first_frame = frame;
        tr->tracker.start_track(img, to_drect(tr->face.box, track_scale_));
        tracks_.push_back(std::move(tr));
        ++counters_.tracks;
    }
}

void FaceTracks::describe_due(const cv::Mat& bgr, std::int64_t frame, FaceSensor& sensor,
                              const Classifier& classifier, std::vector<TrackEvent>& events) {
    std::vector<Track*> due;
    std::vector<Box> boxes;
    for (auto& t : tracks_) {
        if (t->lost) continue;
        if (t->described_at < 0 || frame - t->described_at >= options_.describe_every) {
            due.push_back(t.get());
            boxes.push_back(t->face.box);
        }
    }
    if (due.empty()) return;
    const auto descriptors = sensor.describe(bgr, boxes);
    counters_.descriptors += static_cast<std::int64_t>(descriptors.size());
    for (std::size_t i = 0; i < due.size() && i < descriptors.size(); ++i) {
        Track& t = *due[i];
        const std::string before = t.face.label;
        t.vote(descriptors[i], options_.vote_window, options_.tolerance, classifier);
        t.described_at = frame;
        if (!t.announced) {
            t.announced = true;
            events.push_back({TrackEvent::Kind::appeared, t.face, {}});
        } else if (t.face.label != before) {
            events.push_back({TrackEvent::Kind::label_changed, t.face, before});
        }
    }
}

std::vector<TrackEvent> FaceTracks::update(const cv::Mat& bgr, std::int64_t frame_index, FaceSensor& sensor,
                                           const Classifier& classifier) {
    std::vector<TrackEvent> events;
    ++counters_.frames;
    const cv::Mat gray = tracking_gray(bgr);
    track_all(gray);
    // Faces that walked out of the frame end now, not at the next detection.
    for (std::size_t t = tracks_.size(); t-- > 0;) {
        if (!outside(tracks_[t]->face.box, bgr.size())) continue;
        if (tracks_[t]->announced) events.push_back({TrackEvent::Kind::gone, tracks_[t]->face, {}});
        tracks_.erase(tracks_.begin() + static_cast<std::ptrdiff_t>(t));
    }
    if (detect_next_ || last_detection_ < 0 || frame_index - last_detection_ >= options_.detect_every)
        detect_and_match(bgr, gray, frame_index, sensor, events);
    describe_due(bgr, frame_index, sensor, classifier, events);
    refresh_faces();
    return events;
}

std::vector<TrackEvent> FaceTracks::finish() {
    std::vector<TrackEvent> events;
    for (const auto& t : tracks_)
        if (t->announced) events.push_back({TrackEvent::Kind::gone, t->face, {}});
    tracks_.clear();
    faces_.clear();
    return events;
}

void FaceTracks::relabel() {
    for (auto& t : tracks_) {
        t->recent.clear();
        t->described_at = -1;
    }
}

void FaceTracks::refresh_faces() {
    faces_.clear();
    for (const auto& t : tracks_)
        if (t->announced) faces_.push_back(t->face);
}

}  // namespace facepipe
