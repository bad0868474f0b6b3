// version.h — what `facepipe --version` reports: our version, the libraries we
// run on, the BLAS that actually serves dlib's matrix products, and the models.
#pragma once
#include <filesystem>
#include <string>

namespace facepipe {

std::string facepipe_version();

// The shared library that provides cblas_sgemm in this process, plus OpenBLAS's
// own configuration string when that library is OpenBLAS.
struct BlasInfo {
    std::string library;  // e.g. /lib/x86_64-linux-gnu/libopenblas.so.0
    std::string config;   // e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64"
    bool is_openblas = false;
};
BlasInfo blas_in_use();

// Limits OpenBLAS's own threads (no-op on other BLAS). Encode parallelises over
// images, so nested BLAS threads only add contention.
void set_blas_threads(int n);

struct ModelFiles;

// The model files, their checksums and origin, and the model id; one per line;
// then the optional SSD face detector's file: its checksum, or "not found".
// A checksum left empty (models.h recall_checksums) shows as "not recorded".
std::string models_report(const ModelFiles& models);

// Multi-line report for --version: versions, BLAS, and the models found in
// models_dir (or why none were), with their checksums as recorded beside them
// (recall_checksums: no model file is read in full). Never throws.
std::string version_report(const std::filesystem::path& models_dir);

}  // namespace facepipe
