#include "video.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include "error.h"

namespace fs = std::filesystem;

namespace facepipe {

SourceSpec SourceSpec::from_camera(int index) {
    SourceSpec s;
    s.kind = Kind::camera;
    s.camera = index;
    return s;
}

SourceSpec SourceSpec::from_video(const std::string& path_or_url) {
    SourceSpec s;
    s.location = path_or_url;
    const auto scheme_end = path_or_url.find("://");
    const bool url = scheme_end != std::string::npos && scheme_end > 0 &&
                     std::all_of(path_or_url.begin(), path_or_url.begin() + scheme_end,
                                 [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '+'; });
    if (url && path_or_url.compare(0, 7, "file://") == 0) {
        s.location = path_or_url.substr(7);
    } else if (url) {
        s.kind = Kind::stream;
    }
    return s;
}

std::string SourceSpec::describe() const {
    return kind == Kind::camera ? "camera " + std::to_string(camera) : location;
}

// ---------------------------------------------------------------------------

struct VideoSource::Impl {
    SourceSpec spec;
    CaptureOptions options;
    std::unique_ptr<media::VideoCapture> cap = media::new_video_capture();
    double fps = 0;
    cv::Size size;
    SteadyClock::time_point started;

    mutable std::mutex mu;
    std::condition_variable cv;
    std::deque<Frame> queue;  // live: at most one (the newest); every_frame: up to kQueue
    bool ended = false, stopping = false;
    std::string error;
    CaptureStats stats;
    std::thread thread;

    static constexpr std::size_t kQueue = 4;

    bool live() const { return !(options.every_frame && spec.kind == SourceSpec::Kind::file); }

    void open_once() {
        if (spec.kind == SourceSpec::Kind::camera) {
            cap->open(spec.camera);
            if (cap->isOpened() && options.width > 0) cap->set(cv::CAP_PROP_FRAME_WIDTH, options.width);
            if (cap->isOpened() && options.height > 0) cap->set(cv::CAP_PROP_FRAME_HEIGHT, options.height);
        } else {
            cap->open(spec.location, cv::CAP_FFMPEG);
        }
    }

    void open() {
        if (spec.kind == SourceSpec::Kind::file) {
            std::error_code ec;
            if (!fs::exists(spec.location, ec)) throw Error(spec.location, "no such file");
            if (fs::is_directory(spec.location, ec)) throw Error(spec.location, "is a folder, not a video");
        }
        if (spec.kind == SourceSpec::Kind::camera) {
            const std::string dev = "/dev/video" + std::to_string(spec.camera);
            struct stat st {};
            if (spec.camera < 0 || ::stat(dev.c_str(), &st) != 0)
                throw Error(spec.describe(), "no such camera device (" + dev + " does not exist)");
        }
        open_once();
        if (spec.kind == SourceSpec::Kind::stream && !cap->isOpened()) reopen("cannot open the stream", "retry");
        if (!cap->isOpened()) {
            if (spec.kind == SourceSpec::Kind::camera)
                throw Error(spec.describe(), "cannot be opened (busy, or not a capture device)");
            throw Error(spec.describe(), spec.kind == SourceSpec::Kind::stream
                                             ? "cannot open the stream (gave up after " +
                                                   std::to_string(options.retries) + " retries)"
                                             : "cannot be opened as a video (unsupported format or codec)");
        }
        fps = cap->get(cv::CAP_PROP_FPS);
        if (!(fps > 0 && fps < 1000)) fps = 0;
        const double w = cap->get(cv::CAP_PROP_FRAME_WIDTH), h = cap->get(cv::CAP_PROP_FRAME_HEIGHT);
        if (too_large(w, h)) {
            cap->release();
            throw LimitError(spec.describe(), "frames are " + size_over_limit(std::uint64_t(w), std::uint64_t(h),
                                                                              options.max_frame_pixels));
        }
        size = {static_cast<int>(w), static_cast<int>(h)};
    }

    bool too_large(double w, double h) const {
        return w > 0 && h > 0 && w * h > static_cast<double>(options.max_frame_pixels);
    }

    // Reopens with backoff (backoff_s, doubling up to 8 s), at most `retries`
    // times; a wait ends early on stop(). True once open.
    bool reopen(const char* why, const char* attempt_name) {
        double wait = options.backoff_s;
        for (int attempt = 1; attempt <= options.retries; ++attempt) {
            spdlog::warn("{}: {}; {} {} of {} in {:.1f} s", spec.describe(), why, attempt_name, attempt,
                         options.retries, wait);
            {
                std::unique_lock lock(mu);
                if (cv.wait_for(lock, std::chrono::duration<double>(wait), [&] { return stopping; })) return false;
            }
            wait = std::min(wait * 2, 8.0);
            cap->release();
            open_once();
            if (cap->isOpened()) return true;
        }
        return false;
    }

    // A broken stream: reopen it. False when it gave up (error() says so) or was stopped.
    bool reconnect() {
        const bool ok = reopen("the stream broke", "reconnect");
        std::lock_guard lock(mu);
        if (ok) ++stats.reconnects;
        else if (!stopping)
            error = "the stream broke and could not be reopened after " + std::to_string(options.retries) + " retries";
        return ok;
    }

    void run() {
        std::int64_t index = 0;
        for (;;) {
            Frame f;
            if (!cap->read(f.bgr) || f.bgr.empty()) {
                if (spec.kind != SourceSpec::Kind::file && !is_stopping() && reconnect()) continue;
                if (spec.kind == SourceSpec::Kind::camera && error.empty() && !is_stopping()) {
                    std::lock_guard lock(mu);
                    error = "the camera stopped delivering frames";
                }
                break;
            }
            if (too_large(f.bgr.cols, f.bgr.rows)) {  // a stream that grew after opening
                std::lock_guard lock(mu);
                error = "frames are " + size_over_limit(f.bgr.cols, f.bgr.rows, options.max_frame_pixels);
                break;
            }
            f.index = index++;
            f.time_s = spec.kind == SourceSpec::Kind::file && fps > 0
                           ? f.index / fps
                           : std::chrono::duration<double>(SteadyClock::now() - started).count();
            // A file played "live" is paced at its own rate, as a camera would deliver it.
            if (spec.kind == SourceSpec::Kind::file && live() && fps > 0) {
                const auto due = started + std::chrono::duration_cast<SteadyClock::duration>(
                                               std::chrono::duration<double>(f.time_s));
                std::unique_lock lock(mu);
                if (cv.wait_until(lock, due, [&] { return stopping; })) break;
            }
            if (f.bgr.type() != CV_8UC3) f.bgr.convertTo(f.bgr, CV_8UC3);  // rare: 16-bit sources
            f.captured = SteadyClock::now();
            if (!push(std::move(f))) break;
        }
        std::lock_guard lock(mu);
        ended = true;
        cv.notify_all();
    }

    bool is_stopping() {
        std::lock_guard lock(mu);
        return stopping;
    }

    // False when stopping.
    bool push(Frame&& f) {
        std::unique_lock lock(mu);
        ++stats.decoded;
        if (live()) {
            if (!queue.empty()) {
                ++stats.dropped;
                queue.clear();
            }
        } else {
            cv.wait(lock, [&] { return stopping || queue.size() < kQueue; });
        }
        if (stopping) return false;
        queue.push_back(std::move(f));
        cv.notify_all();
        return true;
    }
};

VideoSource::VideoSource(SourceSpec spec, CaptureOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->spec = std::move(spec);
    impl_->options = options;
    impl_->open();
    impl_->started = SteadyClock::now();
    impl_->thread = std::thread([this] { impl_->run(); });
}

VideoSource::~VideoSource() {
    stop();
    if (impl_->thread.joinable()) impl_->thread.join();
}

bool VideoSource::next(Frame& out, const std::atomic<bool>* interrupt) {
    std::unique_lock lock(impl_->mu);
    auto ready = [&] { return impl_->stopping || !impl_->queue.empty() || impl_->ended; };
    while (!impl_->cv.wait_for(lock, std::chrono::milliseconds(100), ready))
        if (interrupt && interrupt->load()) return false;
    if (impl_->stopping || impl_->queue.empty() || (interrupt && interrupt->load())) return false;
    out = std::move(impl_->queue.front());
    impl_->queue.pop_front();
    impl_->cv.notify_all();
    return true;
}

void VideoSource::stop() {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
    impl_->cv.notify_all();
}

const SourceSpec& VideoSource::spec() const { return impl_->spec; }
double VideoSource::fps() const { return impl_->fps; }
cv::Size VideoSource::size() const { return impl_->size; }

CaptureStats VideoSource::stats() const {
    std::lock_guard lock(impl_->mu);
    return impl_->stats;
}

std::string VideoSource::error() const {
    std::lock_guard lock(impl_->mu);
    return impl_->error;
}

// ---------------------------------------------------------------------------

VideoRecorder::VideoRecorder(std::string path, double fps) : path_(std::move(path)), fps_(fps > 0 ? fps : 25) {
    const fs::path p(path_);
    // Keep the extension last: VideoWriter picks the container from it.
    temp_ = (p.parent_path() / ("." + p.stem().string() + ".partial" + p.extension().string())).string();
}

VideoRecorder::~VideoRecorder() {
    if (writer_ && writer_->isOpened()) {
        writer_->release();
        std::error_code ec;
        fs::remove(temp_, ec);
    }
}

void VideoRecorder::write(const cv::Mat& bgr) {
    if (!writer_ || !writer_->isOpened()) {
        if (frames_ > 0) throw Error(path_, "the recording was already finished");
        if (!writer_) writer_ = media::new_video_writer();
        const bool avi = fs::path(path_).extension() == ".avi";
        const int fourcc = avi ? media::fourcc('M', 'J', 'P', 'G') : media::fourcc('m', 'p', '4', 'v');
        if (!writer_->open(temp_, cv::CAP_FFMPEG, fourcc, fps_, bgr.size(), true))
            throw Error(path_, "cannot be written as a video (check the folder and the extension)");
    }
    writer_->write(bgr);
    ++frames_;
}

void VideoRecorder::finish() {
    if (!writer_ || !writer_->isOpened()) return;
    writer_->release();
    std::error_code ec;
    fs::rename(temp_, path_, ec);
    if (ec) throw Error(path_, "cannot move the recording into place: " + ec.message());
}

}  // namespace facepipe
