// Fuzzes manifest.json, which `scripts/sync.sh pull` has facepipe check before
// any pulled artifact replaces a local one (parse_manifest, lib/sync_manifest.h;
// read_manifest is read_file + parse_manifest). A manifest that parses must
// survive to_json and parse again to the same fields.
#include <cstdint>
#include <string>

#include "error.h"
#include "fuzz_util.h"
#include "sync_manifest.h"

using namespace facepipe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const SyncManifest m = parse_manifest(std::string(fuzz::view(data, size)), "manifest.json");
        const SyncManifest again = parse_manifest(to_json(m), "manifest.json (re-read)");
        if (again.training_id != m.training_id || again.model_id != m.model_id || again.people != m.people ||
            again.encodings != m.encodings || again.files.size() != m.files.size())
            __builtin_trap();
    } catch (const Error&) {
    }
    return 0;
}
