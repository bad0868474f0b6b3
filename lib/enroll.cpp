#include "enroll.h"

#include <spdlog/spdlog.h>

#include <map>
#include <sstream>

#include "dataset.h"
#include "encodings.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "lock.h"

namespace facepipe {
namespace fs = std::filesystem;
namespace {

// A photo that decoded, waiting for the face check.
struct Candidate {
    std::string input;
    std::string bytes;
    std::string sha256;
    LoadedImage image;
};

// The existing folder that is the same name in another Unicode form (a dataset
// copied from macOS), else `name` itself: one person never gets two folders.
std::string person_folder(const fs::path& dataset, const std::string& name) {
    std::error_code ec;
    if (fs::is_directory(dataset / name, ec)) return name;
    for (const auto& e : fs::directory_iterator(dataset, ec)) {
        const std::string folder = e.path().filename().string();
        if (e.is_directory(ec) && normalise_person_name(folder).value_or("") == name) {
            spdlog::info("{}: using the existing folder '{}', the same name in another Unicode form", name,
                         printable(folder));
            return folder;
        }
    }
    return name;
}

// SHA-256 -> dataset-relative path of the originals already in `dir`.
std::map<std::string, std::string> existing_originals(const fs::path& dir, const std::string& folder) {
    std::map<std::string, std::string> by_hash;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        const std::string file = e.path().filename().string();
        if (file.empty() || file[0] == '.' || !e.is_regular_file(ec) || !looks_like_image_path(e.path())) continue;
        by_hash.emplace(sha256_file(e.path().string()), folder + "/" + file);
    }
    return by_hash;
}

// The file name a photo is stored under (see enroll's contract).
std::string stored_name(const fs::path& input, const std::string& sha256, const fs::path& dir) {
    std::string base = input.filename().string();
    const bool plain = !base.empty() && base[0] != '.' && looks_like_image_path(base) && printable(base) == base;
    if (!plain) base = "photo-" + sha256.substr(0, 12) + (looks_like_image_path(input) ? input.extension().string() : ".jpg");
    std::error_code ec;
    if (fs::exists(dir / base, ec)) {
        const fs::path p(base);
        base = p.stem().string() + "-" + sha256.substr(0, 8) + p.extension().string();
    }
    return base;
}

// Reads and decodes each photo; refused ones are reported, duplicates noted.
std::vector<Candidate> decodable_photos(const std::vector<fs::path>& photos, const EnrollOptions& o,
                                        std::map<std::string, std::string> known, EnrollReport& r) {
    std::vector<Candidate> out;
    for (const auto& p : photos) {
        Candidate c{p.string(), "", "", {}};
        try {
            c.bytes = read_file(c.input, o.limits.max_file_bytes);
            c.image = decode_image(c.bytes, c.input, o.limits);
        } catch (const Error& e) {
            r.refused.push_back(c.input + ": not a usable image: " + e.cause());
            continue;
        }
        c.sha256 = c.image.sha256;  // decode_image hashed the bytes already
        const auto [it, fresh] = known.emplace(c.sha256, c.input);  // a repeat within this batch, too
        if (!fresh) {
            r.duplicates.push_back(c.input + ": same photo as " + it->second + ", skipped");
            continue;
        }
        out.push_back(std::move(c));
    }
    return out;
}

// Keeps the photos that show exactly one face: with several, which one is the
// person is a guess, and a wrong guess teaches the model someone else's face.
std::vector<Candidate> with_one_face(std::vector<Candidate> candidates, std::shared_ptr<const LoadedModels> models,
                                     const EnrollOptions& o, EnrollReport& r) {
    FaceAnalyzer analyzer(std::move(models), o.analyzer);
    std::vector<Candidate> out;
    for (auto& c : candidates) {
        int found = 0;
        analyzer.analyze(c.image, 1, &found);
        if (found == 0)
            r.refused.push_back(c.input + ": no face found");
        else if (found > 1)
            r.refused.push_back(c.input + ": shows " + std::to_string(found) + " faces; enrol photos of " +
                                r.person + " alone (or cropped to their face)");
        else
            out.push_back(std::move(c));
    }
    return out;
}

int ok_encodings(const fs::path& path) {
    try {
        int n = 0;
        for (const auto& rec : read_encodings(path.string()).records) n += rec.status == EncodeStatus::ok;
        return n;
    } catch (const Error&) {
        return 0;  // none yet (or unreadable: encode says so below)
    }
}

int model_people(const EnrollOptions& o) {
    try {
        return static_cast<int>(Classifier::load(o.model.string(), o.labels.string()).names().size());
    } catch (const Error&) {
        return 0;
    }
}

// augment -> encode -> train -> save, on the whole dataset.
void retrain(const EnrollOptions& o, std::shared_ptr<const LoadedModels> models, EnrollReport& r) {
    r.encodings_before = ok_encodings(o.encodings);
    r.people_before = model_people(o);
    r.augment = augment_dataset(o.dataset, o.augment);
    EncodeOptions eo;
    eo.dataset = o.dataset;
    eo.output = o.encodings;
    eo.threads = o.threads;
    eo.analyzer = o.analyzer;
    eo.limits = o.limits;
    r.encode = encode_dataset(eo, std::move(models));
    const TrainedModel m = train(read_encodings(o.encodings.string()), o.train, &r.train);
    save_model(m, o.model.string(), o.labels.string());
    r.retrained = true;
    r.encodings_after = r.encode.ok;
    r.people_after = static_cast<int>(m.gallery.names().size());
    r.training_id = m.training_id;
}

}  // namespace

std::string enroll_name(std::string_view name) {
    std::string why;
    auto nfc = normalise_person_name(name, &why);
    if (!nfc) throw UsageError("person name '" + std::string(name) + "'", why);
    return *nfc;
}

EnrollReport enroll(std::string_view name, const std::vector<fs::path>& photos, const EnrollOptions& o,
                    const ModelFiles& model_files) {
    EnrollReport r;
    const std::string nfc = enroll_name(name);
    const fs::path lock_path = o.lock.empty() ? default_lock_path(o.model) : o.lock;
    const FileLock lock(lock_path, true, [&] {
        spdlog::info("{}: another facepipe run (enroll or retrain) holds it; waiting", lock_path.string());
    });
    std::error_code ec;
    fs::create_directories(o.dataset, ec);
    if (!fs::is_directory(o.dataset, ec)) throw Error(o.dataset.string(), "cannot create the dataset folder");
    r.person = person_folder(o.dataset, nfc);
    const fs::path dir = o.dataset / r.person;
    r.new_person = !fs::is_directory(dir, ec);

    auto candidates = decodable_photos(photos, o, existing_originals(dir, r.person), r);
    if (candidates.empty() && r.duplicates.empty()) return r;  // every photo refused: nothing to do
    auto models = LoadedModels::load(model_files);
    candidates = with_one_face(std::move(candidates), models, o, r);
    if (candidates.empty() && r.duplicates.empty()) return r;

    fs::create_directories(dir, ec);
    if (ec) throw Error(dir.string(), "cannot create the person folder: " + ec.message());
    for (const auto& c : candidates) {
        const std::string file = stored_name(c.input, c.sha256, dir);
        write_file_atomic((dir / file).string(), c.bytes);
        r.added.push_back(r.person + "/" + file);
    }
    retrain(o, std::move(models), r);
    return r;
}

std::string format_enroll_report(const EnrollReport& r, const EnrollOptions& o) {
    std::ostringstream out;
    out << printable(r.person) << ": " << r.added.size() << " photo" << (r.added.size() == 1 ? "" : "s")
        << " added" << (r.new_person && !r.added.empty() ? " (new person)" : "") << ", " << r.duplicates.size()
        << " already enrolled, " << r.refused.size() << " refused\n";
    for (const auto& a : r.added) out << "  added " << printable(a) << "\n";
    if (!r.retrained) {
        out << "nothing enrolled; the model is unchanged\n";
        return out.str();
    }
    const auto delta = [](int before, int after) {
        const int d = after - before;
        return std::to_string(before) + " -> " + std::to_string(after) + " (" + (d >= 0 ? "+" : "") +
               std::to_string(d) + ")";
    };
    out << "augmented copies: " << r.augment.created << " created\n";
    out << "encodings: " << delta(r.encodings_before, r.encodings_after) << "\n";
    out << "people in the model: " << delta(r.people_before, r.people_after) << "\n";
    out << "wrote " << o.model.string() << " and " << o.labels.string() << " (training id "
        << r.training_id.substr(0, 12) << ")\n";
    return out.str();
}

}  // namespace facepipe
