// progress.h — a progress bar on stderr, shown only when stderr is a terminal,
// so cron logs and pipes never fill with carriage returns.
#pragma once
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

namespace facepipe {

// Called with (items done, items in all) as a batch advances.
using ProgressCallback = std::function<void(std::size_t done, std::size_t total)>;

class ProgressBar {
public:
    explicit ProgressBar(std::string label, bool force = false);  // force: draw even off a TTY (tests)
    ~ProgressBar();  // finishes the line

    void update(std::size_t done, std::size_t total);
    ProgressCallback callback() { return [this](std::size_t d, std::size_t t) { update(d, t); }; }
    bool enabled() const { return enabled_; }

private:
    std::string label_;
    bool enabled_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace facepipe
