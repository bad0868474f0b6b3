#include "version.h"

#include <dlfcn.h>
#include <dlib/revision.h>

#include <opencv2/core/version.hpp>
#include <sstream>

#include "models.h"

namespace facepipe {

std::string facepipe_version() { return FACEPIPE_VERSION; }

BlasInfo blas_in_use() {
    BlasInfo info;
    void* sgemm = dlsym(RTLD_DEFAULT, "cblas_sgemm");
    Dl_info dl{};
    if (sgemm && dladdr(sgemm, &dl) && dl.dli_fname) {
        std::error_code ec;
        const auto real = std::filesystem::canonical(dl.dli_fname, ec);  // resolve update-alternatives links
        info.library = ec ? dl.dli_fname : real.string();
    }
    using config_fn = char* (*)();
    if (auto cfg = reinterpret_cast<config_fn>(dlsym(RTLD_DEFAULT, "openblas_get_config"))) {
        // Only trust it if it comes from the same library as cblas_sgemm.
        Dl_info cdl{};
        if (dladdr(reinterpret_cast<void*>(cfg), &cdl) && cdl.dli_fbase == dl.dli_fbase) {
            info.is_openblas = true;
            info.config = cfg();
        }
    }
    return info;
}

void set_blas_threads(int n) {
    using set_fn = void (*)(int);
    if (auto f = reinterpret_cast<set_fn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) f(n);
}

std::string version_report(const std::filesystem::path& dir) {
    std::ostringstream out;
    out << "facepipe " << facepipe_version() << "\n";
    out << "dlib " << DLIB_MAJOR_VERSION << "." << DLIB_MINOR_VERSION << "." << DLIB_PATCH_VERSION << "\n";
    out << "OpenCV " << CV_VERSION << "\n";
    const BlasInfo blas = blas_in_use();
    out << "BLAS " << (blas.is_openblas ? "OpenBLAS" : "NOT OpenBLAS (slow)") << ": "
        << (blas.library.empty() ? "no cblas_sgemm found" : blas.library);
    if (!blas.config.empty()) out << " [" << blas.config << "]";
    out << "\nmodels " << dir.string() << "\n";
    try {
        ModelFiles files = find_models(dir);
        recall_checksums(files);  // not 117 MB of hashing at every --version
        out << models_report(files);
        out << "  checksums as recorded beside the models, not recomputed: `facepipe models show` verifies them\n";
    } catch (const std::exception& e) {
        out << "  missing: " << e.what() << "\n";
    }
    return out.str();
}

std::string models_report(const ModelFiles& m) {
    auto sha = [](const std::string& s) { return s.empty() ? std::string("not recorded") : s; };
    std::ostringstream out;
    out << "  recognition " << m.recognition.string() << " sha256 " << sha(m.recognition_sha256) << "\n";
    out << "    origin: " << m.origin << "\n";
    out << "  landmarks   " << m.landmarks.string() << " sha256 " << sha(m.landmarks_sha256) << "\n";
    out << "  model id    "
        << (m.recognition_sha256.empty() || m.landmarks_sha256.empty() ? "unknown until both checksums are known"
                                                                        : m.model_id())
        << "\n";
    std::error_code ec;
    if (!std::filesystem::exists(m.ssd, ec)) {
        out << "  ssd         " << m.ssd.string() << " not found (`facepipe models import` makes it)\n";
    } else {
        out << "  ssd         " << m.ssd.string() << " sha256 " << sha(m.ssd_sha256) << "\n";
        if (!m.ssd_origin.empty()) out << "    origin: " << m.ssd_origin << "\n";
    }
    return out.str();
}

}  // namespace facepipe
