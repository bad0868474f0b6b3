// facepipe name — enrol a group of unknown faces as a person (lib/face_groups.h, lib/enroll.h).
#include <spdlog/spdlog.h>

#include <iostream>

#include "commands.h"
#include "face_groups.h"
#include "options.h"

namespace facepipe::cmd {
namespace {

struct NameCommand {
    std::uint64_t group = 0;
    std::string name, dir;  // dir "" = unknown/ beside the model
    EnrollOptions o;
    ExitCode run(const Globals& g);
};

ExitCode NameCommand::run(const Globals& g) {
    enroll_name(name);  // a name we refuse is a UsageError, before anything is looked at or touched
    const auto store = open_collected_store(unknown_dir_or_default(dir, o.model));
    const NameReport r = name_group(*store, group, name, o, find_models(models_dir(g.models)));
    for (const auto& e : r.enroll.augment.errors) spdlog::warn("{}", e);
    for (const auto& w : r.enroll.train.warnings) spdlog::warn("{}", w);
    for (const auto& d : r.enroll.duplicates) spdlog::info("{}", d);
    for (const auto& f : r.enroll.refused) spdlog::error("{} (the face stays in group {})", f, group);
    std::cout << format_enroll_report(r.enroll, o);
    std::cout << r.removed.size() << " faces of group " << group << " enrolled and removed from the unknown faces\n";
    return r.kept.empty() ? kOk : kPartial;
}

}  // namespace

void add_name(CLI::App& app, Globals& g) {
    auto* c = app.add_subcommand(
        "name",
        "enrol a group of unknown faces (from `facepipe cluster`) as a person, as enroll does, then drop it from the store\n"
        "  example: facepipe name 3 \"Zoë Smith\"");
    auto cmd = std::make_shared<NameCommand>();
    c->add_option("GROUP", cmd->group, "the group id `facepipe cluster` printed")->required();
    c->add_option("NAME", cmd->name, "the person: a new one, or one already enrolled to add these faces to")->required();
    c->add_option("--unknown", cmd->dir, "the unknown-faces folder (default: unknown/ beside the model)");
    add_enrolment_flags(c, cmd->o);
    c->add_option("-j,--threads", cmd->o.threads, "encode worker threads (0 = all cores)")->capture_default_str();
    add_analyzer_flags(c, cmd->o.analyzer);
    run_on_callback(c, g, cmd);
}

}  // namespace facepipe::cmd
