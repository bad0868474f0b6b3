#include "progress.h"

#include <unistd.h>

#include <cstdio>

namespace facepipe {

ProgressBar::ProgressBar(std::string label, bool force)
    : label_(std::move(label)), enabled_(force || isatty(STDERR_FILENO)), start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() {
    if (drawn_) std::fputc('\n', stderr);
}

void ProgressBar::update(std::size_t done, std::size_t total) {
    if (!enabled_ || total == 0) return;
    const auto now = std::chrono::steady_clock::now();
    // Redraw at most ~10 times a second, and always on the last item.
    if (drawn_ && done < total && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    drawn_ = true;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const int width = 30, filled = static_cast<int>(width * done / total);
    std::fprintf(stderr, "\r%s [%.*s%*s] %zu/%zu %5.1f/s", label_.c_str(), filled,
                 "##############################", width - filled, "", done, total,
                 secs > 0 ? done / secs : 0.0);
    std::fflush(stderr);
}

}  // namespace facepipe
