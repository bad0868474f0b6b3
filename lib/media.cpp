#include "media.h"

#include <dlfcn.h>

#include <atomic>
#include <filesystem>
#include <mutex>

#include "error.h"
#include "fsutil.h"
#include "media/module.h"

namespace facepipe::media {
namespace fs = std::filesystem;
namespace {

#ifdef FACEPIPE_MEDIA_LINKED
const ImageModule& image_module() { return *facepipe_media_image(); }
const VideoModule& video_module() { return *facepipe_media_video(); }
const WindowModule& window_module() { return *facepipe_media_window(); }
#else
// <binary>/../<libdir>/facepipe/ when installed, else beside the binary (the build tree).
fs::path module_path(const std::string& file) {
    const fs::path bin = running_binary_dir();
    std::error_code ec;
    const fs::path installed = bin.parent_path() / FACEPIPE_INSTALL_MODULE_SUBDIR / file;
    if (!bin.empty() && fs::is_regular_file(installed, ec)) return installed;
    return bin / file;
}

// The table of module facepipe_media_<name>.so, loaded on the first call (a
// failure is not remembered: each caller gets the error) and never unloaded.
template <class Table>
const Table& load_module(const std::string& name, std::atomic<const Table*>& loaded) {
    if (const Table* t = loaded.load(std::memory_order_acquire)) return *t;
    static std::mutex mu;
    std::lock_guard lock(mu);
    if (const Table* t = loaded.load(std::memory_order_relaxed)) return *t;
    const fs::path path = module_path("facepipe_media_" + name + ".so");
    // RTLD_LAZY, as the libraries were bound when linked into the binary: RTLD_NOW
    // would bind every function of the libraries it pulls in, ~10 ms more.
    void* handle = ::dlopen(path.c_str(), RTLD_LAZY | RTLD_LOCAL);
    if (!handle) {
        const char* why = ::dlerror();
        throw ModelError(path.string(), "cannot load facepipe's " + name + " module: " +
                                            (why ? why : "unknown error") + " (reinstall facepipe)");
    }
    using Entry = const Table* (*)();
    const auto entry = reinterpret_cast<Entry>(::dlsym(handle, ("facepipe_media_" + name).c_str()));
    const Table* t = entry ? entry() : nullptr;
    if (!t || t->abi != kModuleAbi)
        throw ModelError(path.string(), "not this facepipe's " + name + " module (another build?); reinstall facepipe");
    loaded.store(t, std::memory_order_release);
    return *t;
}

std::atomic<const ImageModule*> g_image{nullptr};
std::atomic<const VideoModule*> g_video{nullptr};
std::atomic<const WindowModule*> g_window{nullptr};
const ImageModule& image_module() { return load_module("image", g_image); }
const VideoModule& video_module() { return load_module("video", g_video); }
const WindowModule& window_module() { return load_module("window", g_window); }
#endif

}  // namespace

cv::Mat imdecode(const cv::Mat& buf, int flags) { return image_module().imdecode(buf, flags); }

bool imencode(const std::string& ext, const cv::Mat& img, std::vector<unsigned char>& buf,
              const std::vector<int>& params) {
    return image_module().imencode(ext, img, buf, params);
}

std::unique_ptr<VideoCapture> new_video_capture() {
    return std::unique_ptr<VideoCapture>(video_module().new_video_capture());
}

std::unique_ptr<VideoWriter> new_video_writer() {
    return std::unique_ptr<VideoWriter>(video_module().new_video_writer());
}

void namedWindow(const std::string& name, int flags) { window_module().namedWindow(name, flags); }
void imshow(const std::string& name, const cv::Mat& img) { window_module().imshow(name, img); }
int waitKey(int delay_ms) { return window_module().waitKey(delay_ms); }
double getWindowProperty(const std::string& name, int prop) { return window_module().getWindowProperty(name, prop); }
void destroyAllWindows() { window_module().destroyAllWindows(); }

}  // namespace facepipe::media
