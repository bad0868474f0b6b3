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

}  // namespace

void add_manifest(CLI::App& app, Globals&) {
    auto* c = app.add_subcommand("manifest", "make or check the sync manifest of encodings, model and labels "
                                             "(used by scripts/sync.sh)");
    c->require_subcommand(1);
    static std::string make_out, check_in;
    static ArtifactPaths make_paths{"", "", ""}, check_paths{"", "", ""};

    auto* make = c->add_subcommand("make", "write a manifest: checksums, training id, people, encodings\n"
                                           "  example: facepipe manifest make staging/manifest.json");
    make->add_option("MANIFEST", make_out, "manifest file to write")->required();
    add_artifact_flags(make, make_paths);
    make->callback([] {
        const std::filesystem::path out(make_out);
        const SyncManifest m = make_manifest(resolve(out.parent_path(), make_paths));
        write_file_atomic(make_out, to_json(m), 0644);
        std::cout << "wrote " << make_out << ": training id " << m.training_id.substr(0, 12) << ", " << m.people
                  << " people, " << m.encodings << " encodings\n";
    });

    auto* check = c->add_subcommand("check", "verify files against a manifest (sizes, checksums, contents)\n"
                                             "  example: facepipe manifest check download/manifest.json");
    check->add_option("MANIFEST", check_in, "manifest file to check against")->required();
    add_artifact_flags(check, check_paths);
    check->callback([] {
        const std::filesystem::path in(check_in);
        const SyncManifest m = read_manifest(in);  // any Error here exits 1: bad data
        verify_manifest(m, resolve(in.parent_path(), check_paths));
        std::cout << "ok: training id " << m.training_id.substr(0, 12) << ", " << m.people << " people, "
                  << m.encodings << " encodings, made " << m.created << "\n";
    });
}

}  // namespace facepipe::cmd
