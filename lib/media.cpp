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
const Module& load_module() { return *facepipe_media_module(); }
#else
// <binary>/../<libdir>/facepipe/ when installed, else beside the binary (the build tree).
fs::path module_path() {
    const fs::path bin = running_binary_dir();
    std::error_code ec;
    const fs::path installed = bin.parent_path() / FACEPIPE_INSTALL_MODULE_SUBDIR / kModuleFile;
    if (!bin.empty() && fs::is_regular_file(installed, ec)) return installed;
    return bin / kModuleFile;
}

const Module& open_module() {
    const fs::path path = module_path();
    // RTLD_LAZY, as the libraries were bound when linked into the binary: RTLD_NOW
    // would bind every function of the ~240 libraries it pulls in, ~10 ms more.
    void* handle = ::dlopen(path.c_str(), RTLD_LAZY | RTLD_LOCAL);
    if (!handle) {
        const char* why = ::dlerror();
        throw ModelError(path.string(), std::string("cannot load facepipe's image and video module: ") +
                                            (why ? why : "unknown error") + " (reinstall facepipe)");
    }
    using Entry = const Module* (*)();
    const auto entry = reinterpret_cast<Entry>(::dlsym(handle, kModuleEntry));
    const Module* m = entry ? entry() : nullptr;
    if (!m || m->abi != kModuleAbi)
        throw ModelError(path.string(), "not this facepipe's image and video module (another build?); reinstall facepipe");
    return *m;  // never unloaded: its objects live as long as the process
}

// Loaded once; a failure is not remembered, so each caller gets the error.
const Module& load_module() {
    static std::atomic<const Module*> loaded{nullptr};
    if (const Module* m = loaded.load(std::memory_order_acquire)) return *m;
    static std::mutex mu;
    std::lock_guard lock(mu);
    if (!loaded.load(std::memory_order_relaxed)) loaded.store(&open_module(), std::memory_order_release);
    return *loaded.load(std::memory_order_relaxed);
}
#endif

}  // namespace

cv::Mat imdecode(const cv::Mat& buf, int flags) { return load_module().imdecode(buf, flags); }

bool imencode(const std::string& ext, const cv::Mat& img, std::vector<unsigned char>& buf,
              const std::vector<int>& params) {
    return load_module().imencode(ext, img, buf, params);
}

std::unique_ptr<VideoCapture> new_video_capture() {
    return std::unique_ptr<VideoCapture>(load_module().new_video_capture());
}

std::unique_ptr<VideoWriter> new_video_writer() {
    return std::unique_ptr<VideoWriter>(load_module().new_video_writer());
}

void namedWindow(const std::string& name, int flags) { load_module().namedWindow(name, flags); }
void imshow(const std::string& name, const cv::Mat& img) { load_module().imshow(name, img); }
int waitKey(int delay_ms) { return load_module().waitKey(delay_ms); }
double getWindowProperty(const std::string& name, int prop) { return load_module().getWindowProperty(name, prop); }
void destroyAllWindows() { load_module().destroyAllWindows(); }

}  // namespace facepipe::media
