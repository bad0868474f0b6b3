// facepipe forget — drop a group of unknown faces (lib/face_groups.h).
#include <iostream>

#include "commands.h"
#include "face_groups.h"

namespace facepipe::cmd {
namespace {

struct ForgetCommand {
    std::uint64_t group = 0;
    std::string dir, model = "model.bin";
    ExitCode run(const Globals& g);
};

ExitCode ForgetCommand::run(const Globals&) {
    const auto store = open_collected_store(unknown_dir_or_default(dir, model));
    const std::size_t n = forget_group(*store, group);
    std::cout << n << " faces of group " << group << " removed from the unknown faces\n";
    return kOk;
}

}  // namespace

void add_forget(CLI::App& app, Globals& g) {
    auto* c = app.add_subcommand("forget",
                                 "remove a group of unknown faces (records and crops) from the store\n"
                                 "  example: facepipe forget 3");
    auto cmd = std::make_shared<ForgetCommand>();
    c->add_option("GROUP", cmd->group, "the group id `facepipe cluster` printed")->required();
    c->add_option("--unknown", cmd->dir, "the unknown-faces folder (default: unknown/ beside the model)");
    c->add_option("-m,--model", cmd->model, "model file (its folder holds the default unknown/)")
        ->capture_default_str()->envname("FACEPIPE_MODEL");
    run_on_callback(c, g, cmd);
}

}  // namespace facepipe::cmd
