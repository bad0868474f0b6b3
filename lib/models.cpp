#include "models.h"

#include <unistd.h>
#include <cstdlib>
#include <optional>
#include <nlohmann/json.hpp>

#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "landmark_cache.h"
#include "ssd_model.h"

namespace facepipe {
namespace fs = std::filesystem;
namespace {

// What the importer recorded beside the recognition model: its checksum and origin.
struct Provenance {
    std::string sha256, origin;
};

// The provenance file beside `model`; nullopt when there is none. Throws
// ModelError when it cannot be parsed, Error when it cannot be read.
std::optional<Provenance> read_provenance(const fs::path& model) {
    const fs::path prov_path = model.string() + kProvenanceSuffix;
    std::error_code ec;
    if (!fs::exists(prov_path, ec)) return std::nullopt;
    try {
        const auto prov = nlohmann::json::parse(read_file(prov_path.string(), 1 << 20));
        return Provenance{prov.at("sha256").get<std::string>(), prov.at("origin").get<std::string>()};
    } catch (const nlohmann::json::exception& e) {
        throw ModelError(prov_path.string(), std::string("unreadable provenance file: ") + e.what());
    }
}

std::string unrecorded_origin(const fs::path& model) {
    return "unrecorded (no " + model.filename().string() + kProvenanceSuffix + "; e.g. the official dlib file)";
}

// Checks the recognition model against the provenance file the importer wrote, if any.
std::string verify_provenance(const fs::path& model, const std::string& sha) {
    const auto prov = read_provenance(model);
    if (!prov) return unrecorded_origin(model);
    if (prov->sha256 != sha)
        throw ModelError(model.string(), "checksum " + sha + " differs from the one recorded in " +
                                            model.filename().string() + kProvenanceSuffix +
                                            "; re-run `facepipe models import`");
    return prov->origin;
}

}  // namespace

fs::path models_dir(const std::string& flag_value) {
    if (!flag_value.empty()) return fs::absolute(flag_value);
    if (const char* env = std::getenv("FACEPIPE_MODELS"); env && *env) return fs::absolute(env);
    std::error_code ec;
    const fs::path bin = running_binary_dir();
    if (!bin.empty()) {
        const fs::path installed = bin.parent_path() / FACEPIPE_INSTALL_MODEL_SUBDIR;
        if (fs::is_directory(installed, ec)) return installed;
    }
    return FACEPIPE_BUILD_MODEL_DIR;
}

std::string ModelFiles::model_id() const {
    return "resnet:" + recognition_sha256.substr(0, 12) + "/landmarks:" + landmarks_sha256.substr(0, 12);
}

ModelFiles find_models(const fs::path& dir) {
    std::error_code ec;
    ModelFiles m;
    m.recognition = dir / kRecognitionModelFile;
    if (!fs::is_regular_file(m.recognition, ec))
        throw ModelError(m.recognition.string(),
                    "face recognition model not found; run scripts/setup.sh or `facepipe models import`, "
                    "or set --models / FACEPIPE_MODELS");
    m.landmarks = dir / kLandmarkModelFile;
    if (!fs::is_regular_file(m.landmarks, ec)) m.landmarks = kSystemLandmarkPath;
    if (!fs::is_regular_file(m.landmarks, ec))
        throw ModelError(m.landmarks.string(), "landmark model not found; install Debian's libdlib-data");
    m.landmark_cache = dir / kLandmarkCacheFile;
    m.ssd = dir / kSsdModelFile;
    return m;
}

void verify_models(ModelFiles& m) {
    try {
        m.recognition_sha256 = sha256_file(m.recognition.string());
        if (m.landmarks_sha256.empty()) m.landmarks_sha256 = sha256_file(m.landmarks.string());
    } catch (const Error& e) {
        throw ModelError(e.subject(), e.cause());  // a model that cannot be read: nothing can be computed
    }
    m.origin = verify_provenance(m.recognition, m.recognition_sha256);
}

void recall_checksums(ModelFiles& m) {
    const auto prov = read_provenance(m.recognition);
    m.recognition_sha256 = prov ? prov->sha256 : "";
    m.origin = prov ? prov->origin : unrecorded_origin(m.recognition);
    m.landmarks_sha256 = recorded_landmark_sha256(m.landmark_cache, m.landmarks);
    const auto ssd = read_provenance(m.ssd);
    m.ssd_sha256 = ssd ? ssd->sha256 : "";
    m.ssd_origin = ssd ? ssd->origin : "";
}

std::string ModelFiles::ssd_id() const { return "ssd:" + ssd_sha256.substr(0, 12); }

void verify_ssd_model(ModelFiles& m) {
    std::error_code ec;
    if (!fs::is_regular_file(m.ssd, ec))
        throw ModelError(m.ssd.string(), "SSD face detector model not found; run `facepipe models import` "
                                         "(or scripts/setup.sh), or set --models / FACEPIPE_MODELS");
    try {
        m.ssd_sha256 = sha256_file(m.ssd.string());
    } catch (const Error& e) {
        throw ModelError(e.subject(), e.cause());
    }
    m.ssd_origin = verify_provenance(m.ssd, m.ssd_sha256);
}

ModelFiles locate_models(const fs::path& dir) {
    ModelFiles m = find_models(dir);
    verify_models(m);
    return m;
}

}  // namespace facepipe
