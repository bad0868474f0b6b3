// commands.h — how cmd/ is organised: one file per subcommand, each adding
// itself to the CLI11 app and mapping its flags onto lib/ calls. No logic here.
//
// The pattern every subcommand follows (no static variables anywhere in cmd/):
//
//   namespace {
//   struct PredictCommand {                  // owns every option of `predict`
//       std::vector<std::string> inputs;
//       std::string model = "model.bin";     // defaults live in the member initialisers
//       PredictOptions o;                    // lib options are bound field by field
//       ExitCode run(const Globals& g);      // kOk, or kPartial when some inputs failed
//   };
//   ExitCode PredictCommand::run(const Globals& g) { ... lib calls ... }
//   }  // namespace
//
//   void add_predict(CLI::App& app, Globals& g) {
//       auto* c = app.add_subcommand("predict", "...");
//       auto cmd = std::make_shared<PredictCommand>();
//       c->add_option("INPUT", cmd->inputs, "...");     // flags bind to the struct's fields
//       run_on_callback(c, g, cmd);                     // the callback owns cmd
//   }
//
// A command with subcommands (models, manifest) has one struct per leaf.
//
// Errors are thrown, never caught or mapped in a command: run() returns an
// ExitCode only for results (kPartial: some inputs failed, reported already).
// main.cpp alone turns an exception into an exit code, by its type (error.h):
//   CLI::ParseError (flags), UsageError, ModelError  -> 2 (kUsage)
//   any other Error, any other std::exception        -> 1 (kPartial)
// So a failure that must exit 2 is thrown as UsageError or ModelError where the
// decision is made (in lib/ when the library knows why, e.g. enroll_name).
//
// Exit codes (documented in README.md):
//   0 everything processed, 1 some inputs failed or bad data, 2 usage error,
//   missing or incompatible model.
#pragma once
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

namespace facepipe::cmd {

enum ExitCode { kOk = 0, kPartial = 1, kUsage = 2 };

struct Globals {
    std::string models;  // --models / FACEPIPE_MODELS
    int exit_code = kOk;  // set once, from the chosen subcommand's run()
};

// Runs command->run(g) when subcommand `c` is chosen and makes its result the
// exit code. The callback holds `command`, and with it the options CLI11 fills
// in, for as long as the app lives.
template <class Command>
void run_on_callback(CLI::App* c, Globals& g, std::shared_ptr<Command> command) {
    c->callback([&g, command] { g.exit_code = command->run(g); });
}

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
void add_serve(CLI::App& app, Globals& g);
void add_cluster(CLI::App& app, Globals& g);
void add_name(CLI::App& app, Globals& g);
void add_forget(CLI::App& app, Globals& g);
void add_merge_groups(CLI::App& app, Globals& g);

}  // namespace facepipe::cmd
