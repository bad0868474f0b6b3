// facepipe train — encodings.bin to model.bin + labels.bin (lib/train.h).
#include <spdlog/spdlog.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "encodings.h"
#include "train.h"

namespace facepipe::cmd {
namespace {

struct TrainCommand {
    std::string encodings = "encodings.bin", model = "model.bin", labels = "labels.bin", vote = "per-person",
                index = "auto", format = "table";
    TrainOptions o;
    ExitCode run(const Globals& g);
};

ExitCode TrainCommand::run(const Globals&) {
    o.vote = parse_vote_mode(vote);
    o.index = parse_index_choice(index);
    const EncodingsFile enc = read_encodings(encodings);
    TrainReport report;
    const TrainedModel m = train(enc, o, &report);
    for (const auto& w : report.warnings) spdlog::warn("{}", w);
    save_model(m, model, labels);
    if (format == "json") {
        nlohmann::json j = train_report_json(report);
        j["model"] = model;
        j["labels"] = labels;
        j["training_id"] = m.training_id;
        std::cout << j.dump() << "\n";
    } else {
        std::cout << format_train_report(report);
        std::cout << "wrote " << model << " and " << labels << "\n";
    }
    return kOk;
}

}  // namespace

void add_train(CLI::App& app, Globals& g) {
    auto* c = app.add_subcommand(
        "train",
        "build the KNN classifier and its unknown-threshold; report leave-one-out accuracy\n"
        "  example: facepipe train --encodings encodings.bin --model model.bin --labels labels.bin");
    auto cmd = std::make_shared<TrainCommand>();
    TrainOptions& o = cmd->o;
    c->add_option("-e,--encodings", cmd->encodings, "input encodings file")->capture_default_str()->envname("FACEPIPE_ENCODINGS");
    c->add_option("-m,--model", cmd->model, "output model file")->capture_default_str()->envname("FACEPIPE_MODEL");
    c->add_option("-l,--labels", cmd->labels, "output labels file")->capture_default_str()->envname("FACEPIPE_LABELS");
    c->add_option("-k", o.k, "neighbours for the knn vote (0 = round(sqrt(N)))")->capture_default_str()->check(CLI::NonNegativeNumber);
    c->add_option("--vote", cmd->vote,
                  "per-person: lowest mean distance over each person's nearest M photos (robust to people with few "
                  "photos); knn: distance-weighted vote of the k nearest")
        ->capture_default_str()->check(CLI::IsMember({"per-person", "knn"}));
    c->add_option("--per-person-m", o.per_person_m, "M for --vote per-person")->capture_default_str()->check(CLI::Range(1, 100));
    c->add_option("--threshold", o.threshold,
                  "distance above which a face is unknown (default: calibrated from the training data)")
        ->check(CLI::Range(0.05, 1.5));
    c->add_option("--target-far", o.target_far, "false-accept rate the calibrated threshold aims for")
        ->capture_default_str()->check(CLI::Range(0.0001, 0.5));
    c->add_option("--index", cmd->index,
                  "gallery search: exact scans every row; hnsw builds a FAISS HNSW graph (much faster queries "
                  "on large galleries, almost always the same answer); auto = hnsw from " +
                      std::to_string(kAutoIndexRows) + " rows")
        ->capture_default_str()->check(CLI::IsMember({"auto", "exact", "hnsw"}));
    c->add_option("--ef-search", o.ef_search,
                  "hnsw search beam: higher finds the exact nearest row more often, slower (default " +
                      std::to_string(GalleryIndex::kDefaultEfSearch) + ")")
        ->check(CLI::Range(1, 65536));
    c->add_option("-f,--format", cmd->format, "table (for people) or json (one object: docs/train.md)")
        ->capture_default_str()->check(CLI::IsMember({"table", "json"}));
    run_on_callback(c, g, cmd);
}

}  // namespace facepipe::cmd
