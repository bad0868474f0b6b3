// facepipe — the binary. Parses flags and dispatches to a subcommand; see commands.h.
#include <spdlog/spdlog.h>

#include <iostream>

#include "commands.h"
#include "docgen.h"
#include "error.h"
#include "logging.h"
#include "models.h"
#include "version.h"

using namespace facepipe;

int main(int argc, char** argv) {
    CLI::App app{"facepipe: a face-recognition pipeline.\n"
                 "  augment -> encode -> train -> predict; see README.md or `facepipe SUBCOMMAND --help`."};
    app.require_subcommand(0, 1);
    app.fallthrough();  // global flags (--models, -q, -v) may follow the subcommand too
    cmd::Globals g;
    int verbose = 0;
    bool quiet = false, version = false;
    app.add_option("--models", g.models,
                   "folder holding the model files (default: $FACEPIPE_MODELS, the installed or build-tree models)")
        ->envname("FACEPIPE_MODELS");
    app.add_flag("-v,--verbose", verbose, "more log detail (debug)");
    app.add_flag("-q,--quiet", quiet, "only warnings and errors on stderr");
    app.add_flag("-V,--version", version, "print versions, the BLAS in use and the model files found");
    // Hidden (no group): the build step that writes the man pages and completion (docgen.h).
    std::vector<std::string> generate_docs;
    app.add_option("--generate-docs", generate_docs, "SOURCE_DIR OUTPUT_DIR")->expected(2)->group("");

    cmd::add_models(app, g);
    cmd::add_augment(app, g);
    cmd::add_encode(app, g);
    cmd::add_merge(app, g);
    cmd::add_train(app, g);
    cmd::add_predict(app, g);
    cmd::add_eval(app, g);
    cmd::add_live(app, g);
    cmd::add_enroll(app, g);
    cmd::add_manifest(app, g);
    cmd::add_serve(app, g);
    cmd::add_cluster(app, g);
    cmd::add_name(app, g);
    cmd::add_forget(app, g);
    cmd::add_merge_groups(app, g);

    app.parse_complete_callback([&] { setup_logging(verbose, quiet); });
    try {
        app.parse(argc, argv);
        if (!generate_docs.empty()) return cmd::generate_docs(app, generate_docs[0], generate_docs[1]);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {  // the one place an error becomes an exit code (commands.h)
        app.exit(e);
        return cmd::kUsage;
    } catch (const UsageError& e) {
        spdlog::error("{}", e.what());
        return cmd::kUsage;
    } catch (const ModelError& e) {
        spdlog::error("{}", e.what());
        return cmd::kUsage;
    } catch (const std::exception& e) {  // Error (bad input data) and anything unforeseen
        spdlog::error("{}", e.what());
        return cmd::kPartial;
    }
    if (version) {
        std::cout << version_report(models_dir(g.models));
        return cmd::kOk;
    }
    if (app.get_subcommands().empty()) {
        std::cout << app.help();
        return cmd::kUsage;
    }
    return g.exit_code;
}
