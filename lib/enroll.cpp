#include "enroll.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <map>
#include <sstream>

#include "dataset.h"
#include "encodings.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "lock.h"
#include "people.h"
#include "rollback.h"
#include "walk.h"

namespace facepipe {
namespace fs = std::filesystem;
namespace {

using Kind = PhotoVerdict::Kind;

// Why a photo file could not be read (kind accepted: it was read fine).
struct ReadFailure {
    Kind kind = Kind::accepted;
    std::string cause;
};

// A photo that decoded, waiting for the face check.
struct Candidate {
    std::size_t index;  // in the inputs, and so in the verdicts
    std::string sha256;
    LoadedImage image;
};

// What a photo's bytes repeat: a stored photo ("<folder>/<file>", id = file) or
// an earlier photo of the batch (its name, and index to find its id later).
struct Seen {
    std::string shown;
    std::string id;
    std::size_t index = SIZE_MAX;  // SIZE_MAX: a stored photo
};

// SHA-256 -> the originals already in `dir`.
std::map<std::string, Seen> existing_originals(const fs::path& dir, const std::string& folder) {
    std::map<std::string, Seen> by_hash;
    for (const auto& e : try_list_folder(dir)) {  // none for a new person
        const std::string& file = e.name;
        if (file.empty() || file[0] == '.' || !e.is_file() || !looks_like_image_path(e.path)) continue;
        try {
            by_hash.emplace(sha256_file(e.path.string()), Seen{folder + "/" + file, file});
        } catch (const Error&) {
            // swapped for something unreadable since listed: not a duplicate of anything
        }
    }
    return by_hash;
}

// The file name a photo is stored under (see enroll's contract).
std::string stored_name(const fs::path& input, const std::string& sha256, const fs::path& dir) {
    std::string base = input.filename().string();
    const bool plain = !base.empty() && base[0] != '.' && base.size() <= 128 &&
                       base.find('\\') == std::string::npos && looks_like_image_path(base) && printable(base) == base;
    if (!plain) base = "photo-" + sha256.substr(0, 12) + (looks_like_image_path(input) ? input.extension().string() : ".jpg");
    std::error_code ec;
    if (fs::exists(dir / base, ec)) {
        const fs::path p(base);
        base = p.stem().string() + "-" + sha256.substr(0, 8) + p.extension().string();
    }
    return base;
}

void refuse(EnrollReport& r, std::size_t i, Kind kind, std::string detail) {
    r.verdicts[i].kind = kind;
    r.verdicts[i].detail = std::move(detail);
}

// Decodes each photo that was read (`failed`: none, or one entry per photo);
// refused ones get their verdict, duplicates theirs (a repeat within this
// batch, too: repeat_of[its index] = the first's).
std::vector<Candidate> decodable_photos(const std::vector<Photo>& photos, const std::vector<ReadFailure>& failed,
                                        const EnrollOptions& o, std::map<std::string, Seen> seen, EnrollReport& r,
                                        std::map<std::size_t, std::size_t>& repeat_of) {
    std::vector<Candidate> out;
    for (std::size_t i = 0; i < photos.size(); ++i) {
        if (!failed.empty() && failed[i].kind != Kind::accepted) {
            refuse(r, i, failed[i].kind, "not a usable image: " + failed[i].cause);
            continue;
        }
        Candidate c{i, "", {}};
        try {
            c.image = decode_image(photos[i].bytes, photos[i].name, o.limits);
        } catch (const LimitError& e) {
            refuse(r, i, Kind::too_large, "not a usable image: " + e.cause());
            continue;
        } catch (const Error& e) {
            refuse(r, i, Kind::not_an_image, "not a usable image: " + e.cause());
            continue;
        }
        c.sha256 = c.image.sha256;  // decode_image hashed the bytes already
        const auto [it, fresh] = seen.emplace(c.sha256, Seen{photos[i].name, "", i});
        if (!fresh) {
            refuse(r, i, Kind::duplicate, "same photo as " + it->second.shown + ", skipped");
            r.verdicts[i].id = it->second.id;
            if (it->second.index != SIZE_MAX) repeat_of[i] = it->second.index;
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
            refuse(r, c.index, Kind::no_face, "no face found");
        else if (found > 1)
            refuse(r, c.index, Kind::several_faces,
                   "shows " + std::to_string(found) + " faces; enrol photos of " + r.person +
                       " alone (or cropped to their face)");
        else
            out.push_back(std::move(c));
    }
    return out;
}

// A repeat of a photo stored in this batch gets its id; then the CLI's lines.
void finish_verdicts(EnrollReport& r, const std::map<std::size_t, std::size_t>& repeat_of) {
    for (const auto& [i, first] : repeat_of)
        if (r.verdicts[first].kind == Kind::accepted) r.verdicts[i].id = r.verdicts[first].id;
    for (const auto& v : r.verdicts) {
        if (v.kind == Kind::duplicate) r.duplicates.push_back(v.line());
        if (v.refused()) r.refused.push_back(v.line());
    }
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

// options.progress, made safe to call from augment's and encode's threads: an
// exception it throws is kept and rethrown by stage_done(), on this thread.
class Progress {
public:
    explicit Progress(const StageProgress& fn) : fn_(fn) {}
    void operator()(std::string_view stage, double fraction) noexcept {
        if (!fn_ || error_) return;
        try {
            fn_(stage, fraction);
        } catch (...) {
            error_ = std::current_exception();
        }
    }
    ProgressCallback stage(std::string_view name) {
        (*this)(name, 0.0);
        stage_done();
        return [this, name](std::size_t done, std::size_t total) {
            (*this)(name, total ? double(done) / double(total) : 1.0);
        };
    }
    void stage_done() {
        if (error_) std::rethrow_exception(error_);
    }

private:
    const StageProgress& fn_;
    std::exception_ptr error_;
};

EnrollReport enroll_photos(std::string_view name, const std::vector<Photo>& photos,
                           const std::vector<ReadFailure>& failed, const EnrollOptions& o,
                           const std::function<std::shared_ptr<const LoadedModels>()>& load_models) {
    EnrollReport r;
    const std::string nfc = enroll_name(name);
    const auto lock = lock_dataset(o);
    std::error_code ec;
    fs::create_directories(o.dataset, ec);
    if (!fs::is_directory(o.dataset, ec)) throw Error(o.dataset.string(), "cannot create the dataset folder");
    r.person = person_folder(o.dataset, nfc);
    if (r.person.empty()) r.person = nfc;
    const fs::path dir = o.dataset / r.person;
    r.new_person = !fs::is_directory(dir, ec);
    for (const auto& p : photos) r.verdicts.push_back(PhotoVerdict{p.name, Kind::accepted, "", ""});

    std::map<std::size_t, std::size_t> repeat_of;
    auto candidates = decodable_photos(photos, failed, o, existing_originals(dir, r.person), r, repeat_of);
    const auto any_duplicate = [&] {
        return std::any_of(r.verdicts.begin(), r.verdicts.end(), [](const auto& v) { return v.kind == Kind::duplicate; });
    };
    std::shared_ptr<const LoadedModels> models;
    if (!candidates.empty()) {
        models = load_models();
        candidates = with_one_face(std::move(candidates), models, o, r);
    }
    if (candidates.empty() && !any_duplicate()) {  // every photo refused: nothing to do
        finish_verdicts(r, repeat_of);
        return r;
    }

    const auto change = rollback_for(o);  // from here on, a failure undoes everything
    if (r.new_person) change->added_folder(dir);
    fs::create_directories(dir, ec);
    if (ec) throw Error(dir.string(), "cannot create the person folder: " + ec.message());
    for (const auto& c : candidates) {
        const Photo& photo = photos[c.index];
        const std::string file = stored_name(fs::path(photo.name), c.sha256, dir);
        change->added(dir / file);
        write_file_atomic((dir / file).string(), photo.bytes);
        r.added.push_back(r.person + "/" + file);
        r.verdicts[c.index].id = file;
    }
    retrain_dataset(o, models ? models : load_models(), r);
    change->commit();
    finish_verdicts(r, repeat_of);
    return r;
}

}  // namespace

const char* to_string(PhotoVerdict::Kind k) {
    switch (k) {
        case Kind::accepted: return "accepted";
        case Kind::duplicate: return "duplicate";
        case Kind::not_an_image: return "not_an_image";
        case Kind::no_face: return "no_face";
        case Kind::several_faces: return "several_faces";
        case Kind::too_large: return "too_large";
        case Kind::unreadable: return "unreadable";
    }
    return "unknown";
}

std::unique_ptr<FileLock> lock_dataset(const EnrollOptions& o) {
    const fs::path path = o.lock.empty() ? default_lock_path(o.model) : o.lock;
    return std::make_unique<FileLock>(path, true, [&] {
        spdlog::info("{}: another facepipe run (enroll or retrain) holds it; waiting", path.string());
    });
}

std::unique_ptr<Rollback> rollback_for(const EnrollOptions& o) {
    return std::make_unique<Rollback>(o.dataset, std::vector<fs::path>{o.encodings, o.model, o.labels},
                                      std::vector<fs::path>{journal_path(o.encodings)});
}

void retrain_dataset(const EnrollOptions& o, std::shared_ptr<const LoadedModels> models, RetrainReport& r) {
    Progress progress(o.progress);
    r.encodings_before = ok_encodings(o.encodings);
    r.people_before = model_people(o);
    r.augment = augment_dataset(o.dataset, o.augment, progress.stage("augment"));
    progress.stage_done();
    EncodeOptions eo;
    eo.dataset = o.dataset;
    eo.output = o.encodings;
    eo.threads = o.threads;
    eo.analyzer = o.analyzer;
    eo.limits = o.limits;
    r.encode = encode_dataset(eo, std::move(models), progress.stage("encode"));
    progress.stage_done();
    progress("train", 0);
    progress.stage_done();
    const TrainedModel m = train(read_encodings(o.encodings.string()), o.train, &r.train);
    progress("train", 1);
    progress("save", 0);
    progress.stage_done();
    save_model(m, o.model.string(), o.labels.string());
    progress("save", 1);
    r.retrained = true;
    r.encodings_after = r.encode.ok;
    r.people_after = static_cast<int>(m.gallery.names().size());
    r.training_id = m.training_id;
    progress.stage_done();
}

std::string enroll_name(std::string_view name) {
    std::string why;
    auto nfc = normalise_person_name(name, &why);
    if (!nfc) throw UsageError("person name '" + std::string(name) + "'", why);
    return *nfc;
}

EnrollReport enroll(std::string_view name, const std::vector<Photo>& photos, const EnrollOptions& o,
                    std::shared_ptr<const LoadedModels> models) {
    return enroll_photos(name, photos, {}, o, [&] { return models; });
}

EnrollReport enroll(std::string_view name, const std::vector<Photo>& photos, const EnrollOptions& o,
                    const ModelFiles& models) {
    return enroll_photos(name, photos, {}, o, [&] { return LoadedModels::load(models); });
}

EnrollReport enroll(std::string_view name, const std::vector<fs::path>& photos, const EnrollOptions& o,
                    const ModelFiles& models) {
    enroll_name(name);  // a refused name touches nothing, not even the photos
    std::vector<Photo> read(photos.size());
    std::vector<ReadFailure> failed(photos.size());
    for (std::size_t i = 0; i < photos.size(); ++i) {
        read[i].name = photos[i].string();
        try {
            read[i].bytes = read_file(read[i].name, o.limits.max_file_bytes);
        } catch (const LimitError& e) {
            failed[i] = {Kind::too_large, e.cause()};
        } catch (const Error& e) {
            failed[i] = {Kind::unreadable, e.cause()};
        }
    }
    return enroll_photos(name, read, failed, o, [&] { return LoadedModels::load(models); });
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
