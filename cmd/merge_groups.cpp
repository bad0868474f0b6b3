// facepipe merge-groups — join two groups of unknown faces (lib/face_groups.h).
#include <iostream>

#include "commands.h"
#include "face_groups.h"

namespace facepipe::cmd {
namespace {

struct MergeGroupsCommand {
    std::uint64_t into = 0, from = 0;
    std::string dir, model = "model.bin";
    ExitCode run(const Globals& g);
};

ExitCode MergeGroupsCommand::run(const Globals&) {
    const auto store = open_collected_store(unknown_dir_or_default(dir, model));
    merge_groups(*store, into, from);
    std::cout << "group " << from << " merged into group " << into << "\n";
    return kOk;
}

}  // namespace

void add_merge_groups(CLI::App& app, Globals& g) {
    auto* c = app.add_subcommand("merge-groups",
                                 "join group B into group A: the same person; later clusterings keep them together\n"
                                 "  example: facepipe merge-groups 3 7");
    auto cmd = std::make_shared<MergeGroupsCommand>();
    c->add_option("A", cmd->into, "the group that stays")->required();
    c->add_option("B", cmd->from, "the group that joins it")->required();
    c->add_option("--unknown", cmd->dir, "the unknown-faces folder (default: unknown/ beside the model)");
    c->add_option("-m,--model", cmd->model, "model file (its folder holds the default unknown/)")
        ->capture_default_str()->envname("FACEPIPE_MODEL");
    run_on_callback(c, g, cmd);
}

}  // namespace facepipe::cmd
