// facepipe merge — partial encodings files of `encode --shard` into one (lib/shard.h).
#include <spdlog/spdlog.h>

#include <iostream>

#include "commands.h"
#include "shard.h"

namespace facepipe::cmd {

void add_merge(CLI::App& app, Globals& g) {
    auto* c = app.add_subcommand(
        "merge",
        "combine the partial encodings files of `encode --shard I/N` into the file a single encode would write\n"
        "  example: facepipe merge parts/encodings.*.bin --output encodings.bin");
    static std::vector<std::string> parts;
    static std::string output = "encodings.bin";
    c->add_option("parts", parts, "partial encodings files, in any order")->required()->check(CLI::ExistingFile);
    c->add_option("-o,--output", output, "merged encodings file (replaced atomically)")
        ->capture_default_str()->envname("FACEPIPE_ENCODINGS");
    c->callback([] {
        MergeSummary s;
        const EncodingsFile merged = merge_encodings(parts, &s);
        write_encodings(output, merged);
        std::cout << "merged " << s.parts << " parts: " << s.records << " records";
        if (s.duplicates > 0) std::cout << " (" << s.duplicates << " duplicates dropped)";
        std::cout << " -> " << output << "\n";
    });
    (void)g;
}

}  // namespace facepipe::cmd
