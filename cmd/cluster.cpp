// facepipe cluster — the unknown faces grouped by person (lib/face_groups.h).
#include <filesystem>
#include <iostream>
#include <optional>

#include "classifier.h"
#include "commands.h"
#include "face_groups.h"

namespace facepipe::cmd {
namespace {

struct ClusterCommand {
    std::string dir;  // "" = unknown/ beside the model
    std::string model = "model.bin", labels = "labels.bin", format = "table", sheets;
    ClusterOptions o;
    ExitCode run(const Globals& g);
};

ExitCode ClusterCommand::run(const Globals&) {
    const std::filesystem::path store_dir = unknown_dir_or_default(dir, model);
    std::optional<Classifier> classifier;  // "maybe NAME" needs a model; without one nobody is enrolled
    if (std::filesystem::exists(model)) classifier = Classifier::load(model, labels);
    const auto store = open_collected_store(store_dir);
    const Grouping grouping = cluster_store(*store, o, classifier ? &*classifier : nullptr);
    if (!sheets.empty()) write_contact_sheets(grouping, store_dir, sheets);
    std::cout << (format == "json" ? format_groups_json(grouping, store_dir) : format_groups_table(grouping, store_dir));
    return kOk;
}

}  // namespace

void add_cluster(CLI::App& app, Globals& g) {
    auto* c = app.add_subcommand(
        "cluster",
        "group the unknown faces collected by --collect-unknown by person; ids stay stable between runs\n"
        "  example: facepipe cluster --sheets sheets/ && facepipe name 3 \"Zoë Smith\"");
    auto cmd = std::make_shared<ClusterCommand>();
    c->add_option("DIR", cmd->dir, "the unknown-faces folder (default: unknown/ beside the model)");
    c->add_option("-t,--threshold", cmd->o.threshold, "faces closer than this distance are linked (same person)")
        ->capture_default_str()->check(CLI::Range(0.05, 2.0));
    c->add_option("--min-size", cmd->o.min_size, "show only groups of at least this many faces")
        ->capture_default_str()->check(CLI::Range(1, 1000000));
    c->add_option("--maybe-margin", cmd->o.maybe_margin,
                  "show \"maybe NAME\" for a group within the model's threshold plus this of an enrolled person")
        ->capture_default_str()->check(CLI::Range(0.0, 1.0));
    c->add_option("--format", cmd->format, "table or json")->capture_default_str()->check(CLI::IsMember({"table", "json"}));
    c->add_option("--sheets", cmd->sheets, "write a contact sheet per group into this folder (group-<id>.jpg)");
    c->add_option("-m,--model", cmd->model, "model file from train (for \"maybe NAME\" and the default DIR)")
        ->capture_default_str()->envname("FACEPIPE_MODEL");
    c->add_option("-l,--labels", cmd->labels, "labels file from train")->capture_default_str()->envname("FACEPIPE_LABELS");
    run_on_callback(c, g, cmd);
}

}  // namespace facepipe::cmd
