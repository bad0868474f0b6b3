// Fuzzes model.bin, index section included (load_model, lib/model_file.h: the
// payload parser, Gallery::problem and GalleryIndex::from_layout), as
// `predict`, `serve` and `live` load it through Classifier::load. Input: byte 0
// picks the mode, the rest is split at "@@FUZZ@@" into model and labels:
//   0  both are whole files (container header checks)
//   1  byte 1 is model.bin's format version, then both payloads, each wrapped
//      in a valid container (labels version 1); without a second part the
//      labels are a valid payload whose training id will not match
// A model that loads is searched (the index graph walked) with one of its own
// rows and with a zero vector, saved and loaded again.
#include <cstdint>
#include <string>

#include "classifier.h"
#include "container.h"
#include "error.h"
#include "fuzz_util.h"
#include "model_file.h"

using namespace facepipe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const int mode = data[0] % 2;
    const auto parts = fuzz::split(fuzz::view(data + 1, size - 1), 2);
    std::string model(parts[0]), labels(parts.size() > 1 ? parts[1] : std::string_view());
    if (mode == 1) {
        if (parts.size() < 2) {
            PayloadWriter w;
            w.str(std::string(64, '0'));
            w.count(1);
            w.str("Ada");
            labels = w.bytes();
        }
        const std::uint32_t version = model.empty() ? 3 : std::uint8_t(model[0]) % 5;
        if (!model.empty()) model.erase(0, 1);
        model = fuzz::container_bytes(std::string_view("FPMODEL\0", 8), version, model);
        labels = fuzz::container_bytes("FPLABELS", 1, labels);
    }
    const std::string mp = fuzz::write_temp("model.bin", model), lp = fuzz::write_temp("labels.bin", labels);
    try {
        const Classifier c = Classifier::load(mp, lp);
        const auto& g = c.gallery();
        Descriptor q{};
        (void)c.predict(q);
        std::copy(g.descriptor(0), g.descriptor(0) + kDescriptorDim, q.begin());
        (void)c.predict(q);
        const TrainedModel m = load_model(mp, lp);
        save_model(m, fuzz::work_dir() + "/again.bin", fuzz::work_dir() + "/again-labels.bin");
        const TrainedModel again = load_model(fuzz::work_dir() + "/again.bin", fuzz::work_dir() + "/again-labels.bin");
        if (again.gallery.size() != m.gallery.size() || again.training_id != m.training_id) __builtin_trap();
    } catch (const Error&) {
    }
    return 0;
}
