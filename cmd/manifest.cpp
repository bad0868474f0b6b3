// facepipe manifest — make and check the manifest that travels with the
// artifacts through a bucket (lib/sync_manifest.h); scripts/sync.sh calls it.
#include <spdlog/spdlog.h>

#include <iostream>

#include "commands.h"
#include "fsutil.h"
#include "sync_manifest.h"

namespace facepipe::cmd {
namespace {

// --encodings/--model/--labels, defaulting to the bucket names in `dir`.
ArtifactPaths resolve(const std::filesystem::path& dir, const ArtifactPaths& flags) {
    const ArtifactPaths in_dir = artifacts_in(dir);
    return {flags.encodings.empty() ? in_dir.encodings : flags.encodings,
            flags.model.empty() ? in_dir.model : flags.model, flags.labels.empty() ? in_dir.labels : flags.labels};
}

void add_artifact_flags(CLI::App* c, ArtifactPaths& p) {
    c->add_option("-e,--encodings", p.encodings, "encodings file (default: encodings.bin beside the manifest)");
    c->add_option("-m,--model", p.model, "model file (default: model.bin beside the manifest)");
    c->add_option("-l,--labels", p.labels, "labels file (default: labels.bin beside the manifest)");
}

struct ManifestMakeCommand {
    std::string out;
    ArtifactPaths paths{"", "", ""};
    ExitCode run(const Globals& g) const;
};

ExitCode ManifestMakeCommand::run(const Globals&) const {
    const SyncManifest m = make_manifest(resolve(std::filesystem::path(out).parent_path(), paths));
    write_file_atomic(out, to_json(m), 0644);
    std::cout << "wrote " << out << ": training id " << m.training_id.substr(0, 12) << ", " << m.people
              << " people, " << m.encodings << " encodings\n";
    return kOk;
}

struct ManifestCheckCommand {
    std::string in;
    ArtifactPaths paths{"", "", ""};
    ExitCode run(const Globals& g) const;
};

ExitCode ManifestCheckCommand::run(const Globals&) const {
    const std::filesystem::path manifest(in);
    const SyncManifest m = read_manifest(manifest);  // any Error here exits 1: bad data
    verify_manifest(m, resolve(manifest.parent_path(), paths));
    std::cout << "ok: training id " << m.training_id.substr(0, 12) << ", " << m.people << " people, "
              << m.encodings << " encodings, made " << m.created << "\n";
    return kOk;
}

}  // namespace

void add_manifest(CLI::App& app, Globals& g) {
    auto* c = app.add_subcommand("manifest", "make or check the sync manifest of encodings, model and labels "
                                             "(used by scripts/sync.sh)");
    c->require_subcommand(1);

    auto* make = c->add_subcommand("make", "write a manifest: checksums, training id, people, encodings\n"
                                           "  example: facepipe manifest make staging/manifest.json");
    auto mk = std::make_shared<ManifestMakeCommand>();
    make->add_option("MANIFEST", mk->out, "manifest file to write")->required();
    add_artifact_flags(make, mk->paths);
    run_on_callback(make, g, mk);

    auto* check = c->add_subcommand("check", "verify files against a manifest (sizes, checksums, contents)\n"
                                             "  example: facepipe manifest check download/manifest.json");
    auto ck = std::make_shared<ManifestCheckCommand>();
    check->add_option("MANIFEST", ck->in, "manifest file to check against")->required();
    add_artifact_flags(check, ck->paths);
    run_on_callback(check, g, ck);
}

}  // namespace facepipe::cmd
