#include "people.h"

#include <spdlog/spdlog.h>

#include <map>
#include <optional>

#include "dataset.h"
#include "error.h"
#include "lock.h"
#include "rollback.h"
#include "walk.h"

namespace facepipe {
namespace fs = std::filesystem;
namespace {

// UsageError for an id that could not be a photo's file name in a person folder.
void check_photo_id(std::string_view id) {
    const char* why = nullptr;
    if (id.empty()) why = "is empty";
    else if (id.size() > 255) why = "is over 255 bytes";
    else if (id.find('/') != std::string_view::npos || id.find('\\') != std::string_view::npos)
        why = "contains a path separator";
    else if (id[0] == '.') why = "starts with '.' (hidden)";
    else if (printable(id) != id) why = "contains control characters or is not UTF-8";
    else if (!looks_like_image_path(fs::path(std::string(id)))) why = "is not an image file name";
    if (why) throw UsageError("photo id '" + std::string(id) + "'", why);
}

// The folder of a person named by a caller: UsageError when the name is unsafe,
// NotFoundError when there is no such person.
std::string existing_folder(const fs::path& dataset, std::string_view person) {
    const std::string folder = person_folder(dataset, enroll_name(person));
    if (folder.empty()) throw NotFoundError("person '" + std::string(person) + "'", "not in the dataset");
    return folder;
}

std::size_t photo_count(const std::vector<PersonInfo>& people) {
    std::size_t n = 0;
    for (const auto& p : people) n += p.photos.size();
    return n;
}

std::size_t photos_of(const std::vector<PersonInfo>& people, const std::string& folder) {
    for (const auto& p : people)
        if (p.name == folder) return p.photos.size();
    return 0;
}

// Takes the photo `id` of `folder`, or (no id) the whole folder, out of the
// dataset and retrains; see remove_photo / remove_person.
RemoveReport remove_entries(std::string_view person, std::optional<std::string_view> id, const EnrollOptions& o,
                            const std::function<std::shared_ptr<const LoadedModels>()>& load_models) {
    enroll_name(person);  // unsafe: refused before the lock is taken
    if (id) check_photo_id(*id);
    const auto lock = lock_dataset(o);
    RemoveReport r;
    r.person = existing_folder(o.dataset, person);
    const fs::path dir = o.dataset / r.person;
    const auto people = list_people(o.dataset);
    const std::size_t own = photos_of(people, r.person);
    std::size_t removing = own;
    if (id) {
        find_photo(o.dataset, person, *id);  // NotFoundError when absent
        removing = 1;
    }
    if (photo_count(people) <= removing)
        throw UsageError(id ? "photo '" + std::string(*id) + "'" : "person '" + std::string(person) + "'",
                         "cannot be removed: it is the last photo in the dataset, and a model needs at least "
                         "one person (to start over, delete the dataset and the model files)");

    const auto change = rollback_for(o);
    if (id && own > 1) {  // the photo and its augmented copies
        r.removed.push_back(r.person + "/" + std::string(*id));
        std::vector<fs::path> copies;
        for (const auto& e : try_list_folder(dir / kAugmentedDir)) {
            const auto parsed = parse_augmented_name(e.name);
            if (parsed && parsed->original_filename == *id) copies.push_back(e.path);
        }
        change->move_aside(dir / std::string(*id));
        for (const auto& c : copies) change->move_aside(c);
        r.augmented_removed = static_cast<int>(copies.size());
    } else {  // the person: their last photo, or all of them
        for (const auto& p : people)
            if (p.name == r.person)
                for (const auto& photo : p.photos) r.removed.push_back(r.person + "/" + photo.id);
        for (const auto& e : try_list_folder(dir / kAugmentedDir))
            r.augmented_removed += parse_augmented_name(e.name).has_value();
        change->move_aside(dir);
        r.person_removed = true;
    }
    retrain_dataset(o, load_models(), r);
    change->commit();
    spdlog::info("{}: removed {} photo{} and {} augmented cop{}{}", printable(r.person), r.removed.size(),
                 r.removed.size() == 1 ? "" : "s", r.augmented_removed, r.augmented_removed == 1 ? "y" : "ies",
                 r.person_removed ? "; the person is gone" : "");
    return r;
}

}  // namespace

std::vector<PersonInfo> list_people(const fs::path& dataset) {
    std::error_code ec;
    if (!fs::is_directory(dataset, ec)) return {};
    const DatasetScan scan = scan_dataset(dataset, false);
    for (const auto& w : scan.warnings) spdlog::debug("{}", w);
    std::map<std::string, PersonInfo> by_name;
    for (const auto& img : scan.images) {
        PersonInfo& p = by_name[img.person];
        p.name = img.person;
        const auto size = fs::file_size(img.abs, ec);
        p.photos.push_back(PhotoInfo{img.abs.filename().string(), img.abs.string(), ec ? 0 : size});
    }
    std::vector<PersonInfo> out;
    for (auto& [name, p] : by_name) out.push_back(std::move(p));
    return out;
}

std::string person_folder(const fs::path& dataset, const std::string& name) {
    std::error_code ec;
    if (fs::is_directory(dataset / name, ec)) return name;
    for (const auto& e : try_list_folder(dataset)) {
        const std::string& folder = e.name;
        if (e.is_folder() && normalise_person_name(folder).value_or("") == name) {
            spdlog::info("{}: using the existing folder '{}', the same name in another Unicode form", name,
                         printable(folder));
            return folder;
        }
    }
    return "";
}

PhotoInfo find_photo(const fs::path& dataset, std::string_view person, std::string_view photo_id) {
    enroll_name(person);
    check_photo_id(photo_id);
    const std::string folder = existing_folder(dataset, person);
    const fs::path p = dataset / folder / std::string(photo_id);
    std::error_code ec;
    if (!fs::is_regular_file(fs::symlink_status(p, ec)))
        throw NotFoundError("photo '" + std::string(photo_id) + "'", "not a photo of " + folder);
    const auto size = fs::file_size(p, ec);
    return PhotoInfo{std::string(photo_id), p.string(), ec ? 0 : size};
}

RemoveReport remove_photo(std::string_view person, std::string_view photo_id, const EnrollOptions& o,
                          std::shared_ptr<const LoadedModels> models) {
    return remove_entries(person, photo_id, o, [&] { return models; });
}

RemoveReport remove_photo(std::string_view person, std::string_view photo_id, const EnrollOptions& o,
                          const ModelFiles& models) {
    return remove_entries(person, photo_id, o, [&] { return LoadedModels::load(models); });
}

RemoveReport remove_person(std::string_view person, const EnrollOptions& o, std::shared_ptr<const LoadedModels> models) {
    return remove_entries(person, std::nullopt, o, [&] { return models; });
}

RemoveReport remove_person(std::string_view person, const EnrollOptions& o, const ModelFiles& models) {
    return remove_entries(person, std::nullopt, o, [&] { return LoadedModels::load(models); });
}

}  // namespace facepipe
