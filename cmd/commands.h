// commands.h — how cmd/ is organised: one file per subcommand, each adding
// itself to the CLI11 app and mapping its flags onto lib/ calls. No logic here.
//
// Exit codes (documented in README.md):
//   0 everything processed, 1 some inputs failed or bad data, 2 usage error,
//   missing or incompatible model.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

namespace facepipe::cmd {

enum ExitCode { kOk = 0, kPartial = 1, kUsage = 2 };

struct Globals {
    std::string models;  // --models / FACEPIPE_MODELS
    int exit_code = kOk;
};

void add_models(CLI::App& app, Globals& g);
void add_augment(CLI::App& app, Globals& g);
void add_encode(CLI::App& app, Globals& g);
void add_merge(CLI::App& app, Globals& g);
void add_train(CLI::App& app, Globals& g);
void add_predict(CLI::App& app, Globals& g);
void add_eval(CLI::App& app, Globals& g);
void add_live(CLI::App& app, Globals& g);
void add_enroll(CLI::App& app, Globals& g);
void add_manifest(CLI::App& app, Globals& g);

}  // namespace facepipe::cmd
