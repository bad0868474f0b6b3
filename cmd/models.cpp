// facepipe models — provision and inspect the model files.
#include <chrono>
#include <iostream>

#include "commands.h"
#include "model_import.h"
#include "models.h"
#include "recognizer.h"
#include "version.h"

namespace facepipe::cmd {

void add_models(CLI::App& app, Globals& g) {
    auto* models = app.add_subcommand("models", "provision and inspect model files");
    models->require_subcommand(1);

    auto* import = models->add_subcommand(
        "import",
        "convert face-api's TF.js face ResNet into dlib's format\n"
        "  example: facepipe models import .cache/npm/face-api/package/model");
    static std::string source, output;
    static bool allow_unknown = false;
    import->add_option("SOURCE", source, "folder with face_recognition_model.bin and its weights manifest")
        ->required()->check(CLI::ExistingDirectory);
    import->add_option("-o,--output", output, "where to write the model (default: the models folder, see --models)");
    import->add_flag("--allow-unknown", allow_unknown,
                     "convert input files whose checksums are not the tested face-api 1.7.15 ones");
    import->callback([&g] {
        const auto dir = output.empty() ? models_dir(g.models) : std::filesystem::path(output);
        const ImportResult r = import_face_api_model(source, dir, allow_unknown);
        std::cout << r.output.string() << "  sha256 " << r.output_sha256 << "\n";
    });

    auto* show = models->add_subcommand("show", "list the model files found and verify their checksums");
    static bool load = false;
    show->add_flag("--load", load, "also load both models and say how long it took");
    show->callback([&g] {
        const auto t0 = std::chrono::steady_clock::now();
        const ModelFiles files = locate_models(models_dir(g.models));  // a missing model exits 2
        std::cout << models_report(files);
        if (!load) return;
        LoadedModels::load(files)->wait();
        std::cout << "loaded in " << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
                  << " s\n";
    });
}

}  // namespace facepipe::cmd
