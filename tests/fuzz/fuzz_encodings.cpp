// Fuzzes encodings.bin (read_encodings) and its journal (EncodingsJournal::recover),
// the two ways `encode` and `train` read records (lib/encodings.h).
// Input: byte 0 picks the mode, the rest is the data:
//   0  the rest is the whole encodings.bin file (container header checks)
//   1  byte 1 is the format version, the rest the payload: wrapped in a valid
//      container, so the record parser runs on every input
//   2  the rest is the whole journal file
//   3  the rest is journal entries split at "@@FUZZ@@", each given a correct
//      length and checksum behind a valid journal header
// A file that reads must write back and read again to the same records.
#include <cstdint>
#include <string>

#include "encodings.h"
#include "error.h"
#include "fuzz_util.h"

using namespace facepipe;

namespace {

constexpr const char* kModelId = "fuzz-model";

void check_round_trip(const EncodingsFile& f) {
    const std::string again = fuzz::work_dir() + "/again.bin";
    write_encodings(again, f);
    const EncodingsFile g = read_encodings(again);
    if (g.model_id != f.model_id || g.records.size() != f.records.size()) __builtin_trap();
    for (std::size_t i = 0; i < f.records.size(); ++i)
        if (g.records[i].path != f.records[i].path || g.records[i].note != f.records[i].note ||
            g.records[i].descriptor != f.records[i].descriptor)
            __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const int mode = data[0] % 4;
    std::string_view rest = fuzz::view(data + 1, size - 1);
    try {
        if (mode == 0 || mode == 1) {
            std::string bytes(rest);
            if (mode == 1) {
                if (rest.empty()) return 0;
                bytes = fuzz::container_bytes(std::string_view(kEncodingsMagic, 8), std::uint8_t(rest[0]) % 4,
                                              rest.substr(1));
            }
            const EncodingsFile f = read_encodings(fuzz::write_temp("encodings.bin", bytes));
            check_round_trip(f);
        } else {
            std::string bytes(rest);
            if (mode == 3) {
                bytes = std::string("FPJOURNL") + fuzz::le(1, 4) + fuzz::le(std::string(kModelId).size(), 4) + kModelId;
                for (std::string_view entry : fuzz::split(rest, 64))
                    bytes += fuzz::le(entry.size(), 4) + sha256_raw(entry) + std::string(entry);
            }
            const auto records = EncodingsJournal::recover(fuzz::write_temp("encodings.bin.journal", bytes), kModelId);
            for (const auto& r : records)
                if (!validate_record(r).empty()) __builtin_trap();  // recover promises valid records
        }
    } catch (const Error&) {
        // a clear refusal: what a reader must do with a bad file
    }
    return 0;
}
