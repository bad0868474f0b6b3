// facepipe enroll — add a person or more photos of one, then retrain (lib/enroll.h).
#include <spdlog/spdlog.h>

#include <iostream>

#include "commands.h"
#include "enroll.h"
#include "options.h"

namespace facepipe::cmd {
namespace {

struct EnrollCommand {
    std::string name;
    std::vector<std::string> photos;
    EnrollOptions o;
    ExitCode run(const Globals& g);
};

ExitCode EnrollCommand::run(const Globals& g) {
    enroll_name(name);  // a name we refuse is a UsageError, before anything is looked at or touched
    std::vector<std::filesystem::path> paths(photos.begin(), photos.end());
    const EnrollReport r = enroll(name, paths, o, find_models(models_dir(g.models)));
    // The dataset scan's warnings (entries left out...) were logged once by encode; augment's scan repeats them.
    for (const auto& e : r.augment.errors) spdlog::warn("{}", e);
    for (const auto& w : r.train.warnings) spdlog::warn("{}", w);
    for (const auto& p : r.encode.problems) spdlog::debug("{}", p);  // other photos: encode reports them
    for (const auto& d : r.duplicates) spdlog::info("{}", d);
    for (const auto& f : r.refused) spdlog::error("{}", f);
    std::cout << format_enroll_report(r, o);
    return r.refused.empty() && r.encode.left_out == 0 ? kOk : kPartial;
}

}  // namespace

void add_enroll(CLI::App& app, Globals& g) {
    auto* c = app.add_subcommand(
        "enroll",
        "copy photos of a person into dataset/NAME/, then augment, encode and train (waits for the lock)\n"
        "  example: facepipe enroll \"Zoë Smith\" ~/photos/zoe1.jpg ~/photos/zoe2.jpg");
    auto cmd = std::make_shared<EnrollCommand>();
    EnrollOptions& o = cmd->o;
    c->add_option("NAME", cmd->name, "the person: the folder name and the label predict prints")->required();
    c->add_option("PHOTO", cmd->photos, "photos showing this person alone")->required();
    add_enrolment_flags(c, o);
    c->add_option("-j,--threads", o.threads, "encode worker threads (0 = all cores)")->capture_default_str();
    add_analyzer_flags(c, o.analyzer);
    run_on_callback(c, g, cmd);
}

}  // namespace facepipe::cmd
