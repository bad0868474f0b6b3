// model_watch.h — hot reload of model.bin + labels.bin for long-running
// commands (live).
//
// `train` and the sync scripts replace the two files by renaming complete ones
// into place, model.bin first. The watcher polls both files' identity (inode,
// size, mtime); when they change and then hold still for one more poll (so
// both renames have happened), it loads the pair on its own thread, and only a
// pair that loads, belongs together and was made with the loaded face models
// replaces the current classifier. Anything else is refused with one warning
// per change, and the old classifier stays.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "classifier.h"

namespace facepipe {

class ModelWatcher {
public:
    // Loads the pair now: throws Error (Classifier::load's messages), or
    // ModelError when it was trained on descriptors of other face models than
    // expected_model_id. Then watches every `interval` (0 = never).
    ModelWatcher(std::string model_path, std::string labels_path, std::string expected_model_id,
                 std::chrono::milliseconds interval = std::chrono::milliseconds(250));
    ~ModelWatcher();
    ModelWatcher(const ModelWatcher&) = delete;
    ModelWatcher& operator=(const ModelWatcher&) = delete;

    // The classifier in use; never null. Cheap: call it once per frame.
    std::shared_ptr<const Classifier> current() const;
    // 0 for the model loaded at start, +1 for each switch to a new one.
    std::uint64_t generation() const { return generation_.load(); }
    const std::string& model_path() const { return model_path_; }
    // Replacements refused so far (corrupt, mismatched, other face models).
    std::uint64_t refused() const { return refused_.load(); }

    // Checks the files once, now (the background thread calls this).
    void poll();

private:
    struct Stamp {
        bool ok = false;
        std::uint64_t ino = 0, size = 0;
        std::int64_t mtime_ns = 0;
        bool operator==(const Stamp& o) const {
            return ok == o.ok && ino == o.ino && size == o.size && mtime_ns == o.mtime_ns;
        }
    };
    struct Stamps {
        Stamp model, labels;
        bool operator==(const Stamps& o) const { return model == o.model && labels == o.labels; }
        bool operator!=(const Stamps& o) const { return !(*this == o); }
    };
    Stamps stamp() const;
    void run(std::chrono::milliseconds interval);

    std::string model_path_, labels_path_, expected_model_id_;
    mutable std::mutex mu_;
    std::shared_ptr<const Classifier> current_;
    std::atomic<std::uint64_t> generation_{0}, refused_{0};
    Stamps loaded_, seen_;  // what the current classifier came from; what the last poll saw
    bool stopping_ = false;
    std::condition_variable cv_;
    std::thread thread_;
};

}  // namespace facepipe
