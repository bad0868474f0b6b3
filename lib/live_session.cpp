#include "live_session.h"

#include <chrono>

#include "error.h"

namespace facepipe {
namespace {

class AnalyzerSensor : public FaceSensor {
public:
    explicit AnalyzerSensor(FaceAnalyzer& a) : a_(a) {}
    std::vector<Detection> detect(const cv::Mat& bgr) override { return a_.detect(bgr); }
    std::vector<Descriptor> describe(const cv::Mat& bgr, const std::vector<Box>& boxes) override {
        return a_.describe(bgr, boxes);
    }

private:
    FaceAnalyzer& a_;
};

TrackerCounters& operator+=(TrackerCounters& a, const TrackerCounters& b) {
    a.frames += b.frames;
    a.detections += b.detections;
    a.descriptors += b.descriptors;
    a.tracks += b.tracks;
    a.lost += b.lost;
    return a;
}

}  // namespace

LiveSession::LiveSession(std::shared_ptr<const LoadedModels> models, TrackerOptions tracker, AnalyzerOptions analyzer)
    : tracker_options_(tracker),
      analyzer_(std::move(models), analyzer),
      tracks_(std::make_unique<FaceTracks>(tracker_options_)) {}

LiveSession::~LiveSession() = default;

LiveSession::Result LiveSession::process(const cv::Mat& bgr, const ModelWatcher& model, std::int64_t frame_index) {
    return process(bgr, model, analyzer_, frame_index);
}

LiveSession::Result LiveSession::process(const cv::Mat& bgr, const ModelWatcher& model, FaceAnalyzer& analyzer,
                                         std::int64_t frame_index) {
    const auto start = std::chrono::steady_clock::now();
    if (bgr.empty() || bgr.type() != CV_8UC3) throw Error("frame", "not an 8-bit colour (BGR) image");
    Result r;
    r.frame = frame_index >= 0 ? frame_index : last_frame_ + 1;
    if (!classifier_) {
        classifier_ = model.current();
        generation_ = model.generation();
    } else if (model.generation() != generation_) {
        generation_ = model.generation();
        classifier_ = model.current();
        tracks_->relabel();
        r.model_changed = true;
    }
    if (!size_.empty() && bgr.size() != size_) {  // a new tracker for frames of the new size
        r.events = tracks_->finish();
        ended_ += tracks_->counters();
        tracks_ = std::make_unique<FaceTracks>(tracker_options_);
    }
    size_ = bgr.size();
    AnalyzerSensor sensor(analyzer);
    auto events = tracks_->update(bgr, r.frame, sensor, *classifier_);
    r.events.insert(r.events.end(), std::make_move_iterator(events.begin()), std::make_move_iterator(events.end()));
    r.faces = tracks_->faces();
    last_frame_ = r.frame;
    ++frames_;
    r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return r;
}

std::vector<TrackEvent> LiveSession::finish() { return tracks_->finish(); }

TrackerCounters LiveSession::counters() const {
    TrackerCounters c = ended_;
    return c += tracks_->counters();
}

}  // namespace facepipe
