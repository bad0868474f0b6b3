// facepipe predict — name the faces in images (lib/predict.h).
#include <spdlog/spdlog.h>

#include <iostream>

#include "classifier.h"
#include "commands.h"
#include "options.h"
#include "predict.h"

namespace facepipe::cmd {
namespace {

struct PredictCommand {
    std::vector<std::string> inputs;
    std::string model = "model.bin", labels = "labels.bin", format = "table", annotate;
    PredictOptions o;
    CollectFlags collect;
    int threads = 0;
    ExitCode run(const Globals& g);
};

ExitCode PredictCommand::run(const Globals& g) {
    o.annotate_dir = annotate;
    // Nothing can be predicted without a (matching) model: both throw ModelError.
    auto classifier = std::make_shared<const Classifier>(Classifier::load(model, labels));
    const auto models = LoadedModels::load(find_models(models_dir(g.models)));
    const CollectOptions co = collect.resolve(model);
    if (co.enabled()) o.collect = std::make_shared<UnknownCollector>(co, models);
    BatchPredictor predictor(models, classifier, o, model, threads);
    std::vector<ImageLabels> missing;
    const auto files = expand_inputs(inputs, std::cin, &missing);
    ResultWriter out(std::cout, parse_output_format(format));
    int failed = 0;
    for (const auto& r : missing) {
        spdlog::error("{}: {}", r.input, r.error);
        out.write(r);
        ++failed;
    }
    predictor.run(files, [&](const ImageLabels& r) {
        if (!r.ok()) {
            spdlog::error("{}: {}", r.input, r.error);
            ++failed;
        }
        out.write(r);
    });
    if (files.empty() && missing.empty()) spdlog::warn("no images found in the inputs");
    if (o.collect) spdlog::info("{}", format_collect_summary(o.collect->counters(), co.dir));
    return failed > 0 ? kPartial : kOk;
}

}  // namespace

void add_predict(CLI::App& app, Globals& g) {
    auto* c = app.add_subcommand(
        "predict",
        "label every face in images, folders, or '-' (paths on stdin)\n"
        "  example: facepipe predict photos/ --format jsonl > faces.jsonl");
    auto cmd = std::make_shared<PredictCommand>();
    c->add_option("INPUT", cmd->inputs, "image files, folders (searched recursively) or '-'")->required();
    c->add_option("-m,--model", cmd->model, "model file from train")->capture_default_str()->envname("FACEPIPE_MODEL");
    c->add_option("-l,--labels", cmd->labels, "labels file from train")->capture_default_str()->envname("FACEPIPE_LABELS");
    c->add_option("-f,--format", cmd->format, "table (for people), csv or jsonl (stable fields, see README)")
        ->capture_default_str()->check(CLI::IsMember({"table", "csv", "jsonl"}));
    c->add_option("-t,--tolerance", cmd->o.tolerance,
                  "distance above which a face is unknown (default: the threshold chosen by train)")
        ->check(CLI::Range(0.05, 1.5));
    c->add_option("--annotate", cmd->annotate, "write copies with boxes and names into this folder");
    c->add_option("-j,--threads", cmd->threads, "images labelled at once (0 = all cores); results keep the input order")
        ->capture_default_str()->check(CLI::NonNegativeNumber);
    add_analyzer_flags(c, cmd->o.analyzer);
    add_collect_flags(c, cmd->collect, false);
    run_on_callback(c, g, cmd);
}

}  // namespace facepipe::cmd
