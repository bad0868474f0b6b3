// facepipe predict — name the faces in images (lib/predict.h).
#include <spdlog/spdlog.h>

#include <iostream>
#include <optional>

#include "classifier.h"
#include "commands.h"
#include "options.h"
#include "predict.h"

namespace facepipe::cmd {

void add_predict(CLI::App& app, Globals& g) {
    auto* c = app.add_subcommand(
        "predict",
        "label every face in images, folders, or '-' (paths on stdin)\n"
        "  example: facepipe predict photos/ --format jsonl > faces.jsonl");
    static std::vector<std::string> inputs;
    static std::string model = "model.bin", labels = "labels.bin", format = "table", annotate;
    static PredictOptions o;
    c->add_option("INPUT", inputs, "image files, folders (searched recursively) or '-'")->required();
    c->add_option("-m,--model", model, "model file from train")->capture_default_str()->envname("FACEPIPE_MODEL");
    c->add_option("-l,--labels", labels, "labels file from train")->capture_default_str()->envname("FACEPIPE_LABELS");
    c->add_option("-f,--format", format, "table (for people), csv or jsonl (stable fields, see README)")
        ->capture_default_str()->check(CLI::IsMember({"table", "csv", "jsonl"}));
    c->add_option("-t,--tolerance", o.tolerance,
                  "distance above which a face is unknown (default: the threshold chosen by train)")
        ->check(CLI::Range(0.05, 1.5));
    c->add_option("--annotate", annotate, "write copies with boxes and names into this folder");
    add_analyzer_flags(c, o.analyzer);
    c->callback([&g] {
        o.annotate_dir = annotate;
        std::optional<Predictor> predictor;
        try {
            auto classifier = std::make_shared<const Classifier>(Classifier::load(model, labels));
            predictor.emplace(LoadedModels::load(find_models(models_dir(g.models))), classifier, o, model);
        } catch (...) {
            g.exit_code = kUsage;  // nothing can be predicted without a (matching) model
            throw;
        }
        std::vector<ImageLabels> missing;
        const auto files = expand_inputs(inputs, std::cin, &missing);
        ResultWriter out(std::cout, parse_output_format(format));
        int failed = 0;
        for (const auto& r : missing) {
            spdlog::error("{}: {}", r.input, r.error);
            out.write(r);
            ++failed;
        }
        for (const auto& f : files) {
            const ImageLabels r = predictor->label_image(f);
            if (!r.ok()) {
                spdlog::error("{}: {}", r.input, r.error);
                ++failed;
            }
            out.write(r);
        }
        if (failed) g.exit_code = kPartial;
        if (files.empty() && missing.empty()) spdlog::warn("no images found in the inputs");
    });
}

}  // namespace facepipe::cmd
