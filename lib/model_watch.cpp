#include "model_watch.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "error.h"

namespace facepipe {

namespace {

std::shared_ptr<const Classifier> load_checked(const std::string& model, const std::string& labels,
                                               const std::string& expected_model_id) {
    auto c = std::make_shared<const Classifier>(Classifier::load(model, labels));
    if (c->model_id() != expected_model_id)
        throw ModelError(model, "was trained on descriptors of other face models (" + c->model_id() +
                                    ", loaded: " + expected_model_id + "); re-run encode and train");
    return c;
}

}  // namespace

ModelWatcher::ModelWatcher(std::string model_path, std::string labels_path, std::string expected_model_id,
                           std::chrono::milliseconds interval)
    : model_path_(std::move(model_path)), labels_path_(std::move(labels_path)),
      expected_model_id_(std::move(expected_model_id)) {
    loaded_ = seen_ = stamp();  // before loading: a replacement during the load is seen next poll
    current_ = load_checked(model_path_, labels_path_, expected_model_id_);
    if (interval.count() > 0) thread_ = std::thread([this, interval] { run(interval); });
}

ModelWatcher::~ModelWatcher() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const Classifier> ModelWatcher::current() const {
    std::lock_guard lock(mu_);
    return current_;
}

ModelWatcher::Stamps ModelWatcher::stamp() const {
    auto one = [](const std::string& path) {
        Stamp s;
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) return s;
        s.ok = true;
        s.ino = st.st_ino;
        s.size = static_cast<std::uint64_t>(st.st_size);
        s.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
        return s;
    };
    return {one(model_path_), one(labels_path_)};
}

void ModelWatcher::poll() {
    const Stamps now = stamp();
    const bool settled = now == seen_;  // unchanged since the previous poll
    seen_ = now;
    if (now == loaded_ || !settled) return;
    loaded_ = now;  // whatever the outcome, this version is dealt with: warn once, not every poll
    try {
        auto next = load_checked(model_path_, labels_path_, expected_model_id_);
        const auto old = current();
        if (next->training_id() == old->training_id()) return;  // rewritten with the same contents
        {
            std::lock_guard lock(mu_);
            current_ = next;
        }
        ++generation_;
        spdlog::info("{}: switched to the new model ({} people, {} gallery rows, threshold {:.3f})", model_path_,
                     next->names().size(), next->size(), next->threshold());
    } catch (const std::exception& e) {
        ++refused_;
        spdlog::warn("{}; keeping the model in use", e.what());
    }
}

void ModelWatcher::run(std::chrono::milliseconds interval) {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, interval, [&] { return stopping_; })) {
        lock.unlock();
        poll();
        lock.lock();
    }
}

}  // namespace facepipe
