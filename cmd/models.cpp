// facepipe models — provision and inspect the model files.
#include <chrono>
#include <iostream>

#include "commands.h"
#include "hash.h"
#include "landmark_cache.h"
#include "model_import.h"
#include "models.h"
#include "recognizer.h"
#include "version.h"

namespace facepipe::cmd {
namespace {

struct ModelsImportCommand {
    std::string source, output;
    bool allow_unknown = false;
    ExitCode run(const Globals& g) const;
};

ExitCode ModelsImportCommand::run(const Globals& g) const {
    const auto dir = output.empty() ? models_dir(g.models) : std::filesystem::path(output);
    const ImportResult r = import_face_api_model(source, dir, allow_unknown);
    std::cout << r.output.string() << "  sha256 " << r.output_sha256 << "\n";
    const ImportResult ssd = import_face_api_ssd_model(source, dir, allow_unknown);
    std::cout << ssd.output.string() << "  sha256 " << ssd.output_sha256 << "\n";
    const ModelFiles files = find_models(dir);
    const LandmarkCacheReport c = write_landmark_cache(files.landmarks, files.landmark_cache);
    std::cout << c.cache.string() << "  sha256 " << sha256_file(c.cache.string()) << "\n";
    return kOk;
}

struct ModelsCacheCommand {
    std::string output;
    ExitCode run(const Globals& g) const;
};

ExitCode ModelsCacheCommand::run(const Globals& g) const {
    const auto dir = models_dir(g.models);
    const ModelFiles files = find_models(dir);
    const auto cache = output.empty() ? files.landmark_cache : std::filesystem::path(output) / kLandmarkCacheFile;
    const LandmarkCacheReport c = write_landmark_cache(files.landmarks, cache);
    std::cout << c.cache.string() << "  sha256 " << sha256_file(c.cache.string()) << "\n";
    return kOk;
}

struct ModelsShowCommand {
    bool load = false;
    ExitCode run(const Globals& g) const;
};

ExitCode ModelsShowCommand::run(const Globals& g) const {
    const auto t0 = std::chrono::steady_clock::now();
    ModelFiles files = locate_models(models_dir(g.models));  // a missing model is a ModelError: exit 2
    // The SSD face detector is optional: absent, it is named; present, it is
    // verified like the others (a checksum that differs is a ModelError: exit 2).
    if (std::filesystem::exists(files.ssd)) verify_ssd_model(files);
    std::cout << models_report(files);
    if (!load) return kOk;
    LoadedModels::load(files)->wait();
    std::cout << "loaded in " << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
              << " s\n";
    return kOk;
}

}  // namespace

void add_models(CLI::App& app, Globals& g) {
    auto* models = app.add_subcommand("models", "provision and inspect model files");
    models->require_subcommand(1);

    auto* import = models->add_subcommand(
        "import",
        "convert face-api's TF.js face ResNet into dlib's format, and its SSD MobileNet v1 face detector\n"
        "  example: facepipe models import .cache/npm/face-api/package/model");
    auto imp = std::make_shared<ModelsImportCommand>();
    import->add_option("SOURCE", imp->source, "folder with face_recognition_model.bin, ssd_mobilenetv1_model.bin and their weights manifests")
        ->required()->check(CLI::ExistingDirectory);
    import->add_option("-o,--output", imp->output, "where to write the model (default: the models folder, see --models)");
    import->add_flag("--allow-unknown", imp->allow_unknown,
                     "convert input files whose checksums are not the tested face-api 1.7.15 ones");
    run_on_callback(import, g, imp);

    auto* cache = models->add_subcommand(
        "cache",
        "write the landmark cache (fast start) for the landmark model found, checked against it\n"
        "  example: facepipe models cache");
    auto ca = std::make_shared<ModelsCacheCommand>();
    cache->add_option("-o,--output", ca->output, "folder to write it to (default: the models folder, see --models)");
    run_on_callback(cache, g, ca);

    auto* show = models->add_subcommand("show", "list the model files found and verify their checksums");
    auto sh = std::make_shared<ModelsShowCommand>();
    show->add_flag("--load", sh->load, "also load both models and say how long it took");
    run_on_callback(show, g, sh);
}

}  // namespace facepipe::cmd
