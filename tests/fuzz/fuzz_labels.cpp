// Fuzzes labels.bin against a fixed valid model.bin (load_model, lib/model_file.h).
// The model is fuzz_models.h's small_model(false), whose training id the seed
// corpus's labels.bin files carry. Input: byte 0 picks the mode:
//   0  the rest is the whole labels.bin file
//   1  the rest is the payload, wrapped in a valid container (version 1)
#include <cstdint>
#include <string>

#include "classifier.h"
#include "error.h"
#include "fuzz_models.h"
#include "fuzz_util.h"

using namespace facepipe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string model_path = [] {
        const std::string p = fuzz::work_dir() + "/model.bin";
        save_model(fuzz::small_model(false), p, fuzz::work_dir() + "/unused-labels.bin");
        return p;
    }();
    if (size < 1) return 0;
    std::string labels(fuzz::view(data + 1, size - 1));
    if (data[0] % 2 == 1) labels = fuzz::container_bytes("FPLABELS", 1, labels);
    try {
        const Classifier c = Classifier::load(model_path, fuzz::write_temp("labels.bin", labels));
        Descriptor q{};
        const Prediction p = c.predict(q);
        (void)p;
        if (c.gallery().names().size() != 3) __builtin_trap();  // the model has three labels
    } catch (const Error&) {
    }
    return 0;
}
