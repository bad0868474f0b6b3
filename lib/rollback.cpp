#include "rollback.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "dataset.h"
#include "error.h"
#include "fsutil.h"
#include "walk.h"

namespace facepipe {
namespace fs = std::filesystem;
namespace {

constexpr const char* kUndoPrefix = ".facepipe-undo-";

fs::path undo_path(const fs::path& file) { return file.string() + ".undo"; }

// Leftovers of a run that died mid-change (we hold the lock: no live run owns them).
void remove_leftovers(const fs::path& dataset, const std::vector<fs::path>& artifacts) {
    std::error_code ec;
    for (const auto& a : artifacts)
        if (fs::remove(undo_path(a), ec)) spdlog::info("{}: removed, left by an unfinished run", undo_path(a).string());
    for (const auto& e : try_list_folder(dataset)) {
        if (e.name.rfind(kUndoPrefix, 0) != 0) continue;
        std::error_code rm;
        fs::remove_all(e.path, rm);
        if (rm) spdlog::warn("{}: cannot remove what an unfinished run left: {}", e.path.string(), rm.message());
        else spdlog::info("{}: removed, left by an unfinished run", e.path.string());
    }
}

void log_failure(const std::string& what, const fs::path& p, const std::error_code& ec) {
    spdlog::error("{}: cannot {} while undoing a failed change: {}", printable(p.string()), what, ec.message());
}

}  // namespace

Rollback::Rollback(fs::path dataset, const std::vector<fs::path>& artifacts, const std::vector<fs::path>& rewritten)
    : dataset_(std::move(dataset)) {
    remove_leftovers(dataset_, artifacts);
    try {
        for (const auto& a : artifacts) {
            Snapshot s{a, undo_path(a), false, false, {}};
            std::error_code ec;
            s.existed = fs::exists(a, ec);
            if (s.existed) {
                s.copied = true;
                if (::link(a.c_str(), s.undo.c_str()) != 0) {  // no hard links here: a copy
                    const std::string why = std::strerror(errno);
                    if (!fs::copy_file(a, s.undo, fs::copy_options::overwrite_existing, ec))
                        throw Error(a.string(), "cannot keep a copy to undo with (" + why + ", " + ec.message() + ")");
                }
            }
            snapshots_.push_back(std::move(s));
        }
        for (const auto& r : rewritten) {
            Snapshot s{r, {}, false, false, {}};
            std::error_code ec;
            s.existed = fs::exists(r, ec);
            if (s.existed) s.bytes = read_file(r.string());
            snapshots_.push_back(std::move(s));
        }
    } catch (...) {
        std::error_code ec;
        for (const auto& s : snapshots_)
            if (s.copied) fs::remove(s.undo, ec);
        throw;
    }
    augmented_before_ = augmented_copies();
}

Rollback::~Rollback() {
    if (!committed_) undo();
}

void Rollback::added(const fs::path& file) { added_.push_back(file); }

void Rollback::added_folder(const fs::path& folder) { added_folders_.push_back(folder); }

fs::path Rollback::undo_folder() {
    if (undo_folder_.empty()) {
        std::random_device rd;
        const fs::path f = dataset_ / (kUndoPrefix + std::to_string(::getpid()) + "-" + std::to_string(rd()));
        std::error_code ec;
        fs::create_directory(f, ec);
        if (ec) throw Error(f.string(), "cannot create a folder to undo with: " + ec.message());
        undo_folder_ = f;
    }
    return undo_folder_;
}

void Rollback::move_aside(const fs::path& entry) {
    const fs::path to = undo_folder() / std::to_string(moved_.size());
    std::error_code ec;
    fs::rename(entry, to, ec);
    if (ec) throw Error(entry.string(), "cannot be removed: " + ec.message());
    moved_.emplace_back(entry, to);
}

// "<person>/augmented/<file>" for every file in a person's augmented/ folder,
// and "<person>/augmented/" for the folder itself.
std::set<std::string> Rollback::augmented_copies() const {
    std::set<std::string> out;
    for (const auto& person : try_list_folder(dataset_)) {
        const std::string& name = person.name;
        const fs::path dir = person.path / kAugmentedDir;
        std::error_code ec;
        if (name.empty() || name[0] == '.' || !fs::is_directory(dir, ec)) continue;
        const std::string rel = name + "/" + kAugmentedDir + "/";
        out.insert(rel);
        for (const auto& f : try_list_folder(dir)) out.insert(rel + f.name);
    }
    return out;
}

void Rollback::commit() {
    committed_ = true;
    std::error_code ec;
    for (const auto& s : snapshots_)
        if (s.copied && !fs::remove(s.undo, ec) && ec)
            spdlog::warn("{}: cannot remove: {}", s.undo.string(), ec.message());
    if (!undo_folder_.empty()) {
        fs::remove_all(undo_folder_, ec);
        if (ec) spdlog::warn("{}: cannot remove what was taken out of the dataset: {}", undo_folder_.string(), ec.message());
    }
}

void Rollback::undo() noexcept {
    spdlog::warn("{}: the change failed; putting the dataset and the model back as they were", dataset_.string());
    std::error_code ec;
    // New augmented copies first (by name, longest first: files before their folder).
    const std::set<std::string> now = augmented_copies();
    for (auto it = now.rbegin(); it != now.rend(); ++it)
        if (!augmented_before_.count(*it) && !fs::remove(dataset_ / *it, ec) && ec)
            log_failure("remove", dataset_ / *it, ec);
    for (auto it = added_.rbegin(); it != added_.rend(); ++it)
        if (!fs::remove(*it, ec) && ec) log_failure("remove", *it, ec);
    for (auto it = moved_.rbegin(); it != moved_.rend(); ++it) {
        fs::rename(it->second, it->first, ec);
        if (ec) log_failure("put back (it is in " + it->second.string() + ")", it->first, ec);
    }
    for (auto it = added_folders_.rbegin(); it != added_folders_.rend(); ++it)
        if (!fs::remove(*it, ec) && ec) log_failure("remove the folder", *it, ec);
    if (!undo_folder_.empty() && !fs::remove(undo_folder_, ec) && ec) log_failure("remove", undo_folder_, ec);
    for (const auto& s : snapshots_) {
        if (s.existed && s.copied) {
            if (fs::equivalent(s.undo, s.file, ec)) {  // never replaced (rename would do nothing)
                fs::remove(s.undo, ec);
                continue;
            }
            fs::rename(s.undo, s.file, ec);
            if (ec) log_failure("put back (it is in " + s.undo.string() + ")", s.file, ec);
        } else if (s.existed) {
            try {
                write_file_atomic(s.file.string(), s.bytes);
            } catch (const Error& e) {
                spdlog::error("{} (while undoing a failed change)", e.what());
            }
        } else if (!fs::remove(s.file, ec) && ec) {
            log_failure("remove", s.file, ec);
        }
    }
}

}  // namespace facepipe
