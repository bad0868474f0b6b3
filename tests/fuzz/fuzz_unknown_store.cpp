// Fuzzes unknown/faces.bin (lib/unknown_store.h), the file `cluster`, `name`,
// `forget` and the collectors read and append to.
// Input: byte 0 picks the mode, the rest is the data:
//   0  the rest is the whole faces.bin
//   1  the rest is record payloads split at "@@FUZZ@@", each given a correct
//      length and checksum behind a valid header, so the record parser runs on
//      every input
// A file that reads is then opened as a store and one face appended: the store
// must then hold the faces it read (a torn tail dropped) plus that one, in order.
#include <cstdint>
#include <filesystem>
#include <opencv2/core.hpp>
#include <string>

#include "error.h"
#include "fuzz_util.h"
#include "unknown_store.h"

using namespace facepipe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const int mode = data[0] % 2;
    std::string_view rest = fuzz::view(data + 1, size - 1);
    std::string bytes(rest);
    if (mode == 1) {
        std::string h = std::string(kUnknownMagic, 8) + fuzz::le(kUnknownVersion, 4) + fuzz::le(1, 8);
        bytes = h + sha256_raw(h);
        for (std::string_view entry : fuzz::split(rest, 64))
            bytes += fuzz::le(entry.size(), 4) + sha256_raw(entry) + std::string(entry);
    }
    const std::filesystem::path dir = fuzz::work_dir() + "/unknown";
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    std::filesystem::create_directories(dir);
    const std::string path = fuzz::write_temp("unknown/faces.bin", bytes);
    std::vector<UnknownFace> read;
    try {
        read = parse_unknown_faces(bytes, path);
    } catch (const Error&) {
        return 0;  // a clear refusal: what a reader must do with a bad file
    }
    for (const auto& f : read)
        if (!validate_unknown_face(f).empty()) __builtin_trap();  // the reader promises valid faces
    try {
        UnknownStore store(dir, read.size() + 1);
        UnknownFace f;
        f.source = "fuzz.jpg";
        f.box = {1, 1, 8, 8};
        const std::uint64_t id = store.append(f, cv::Mat(8, 8, CV_8UC3, cv::Scalar(1, 2, 3)));
        const auto now = store.faces();
        if (now.size() != read.size() + 1 || now.back().id != id) __builtin_trap();
        for (std::size_t i = 0; i < read.size(); ++i)
            if (now[i].id != read[i].id || now[i].source != read[i].source) __builtin_trap();
    } catch (const Error&) {
        // e.g. next_id at the end of the id space: refused, not wrapped
    }
    return 0;
}
