#include "walk.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "error.h"

namespace facepipe {
namespace fs = std::filesystem;

std::vector<FolderEntry> list_folder(const fs::path& dir) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) throw Error(dir.string(), std::string("cannot list folder: ") + std::strerror(errno));
    std::vector<FolderEntry> out;
    errno = 0;
    while (const dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        FolderEntry entry{name, dir / name, inspect_path((dir / name).string())};
        if (entry.info.kind != FileKind::missing) out.push_back(std::move(entry));  // gone meanwhile
        errno = 0;
    }
    const int err = errno;
    ::closedir(d);
    if (err != 0) throw Error(dir.string(), std::string("cannot list folder: ") + std::strerror(err));
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
}

std::vector<FolderEntry> try_list_folder(const fs::path& dir) {
    try {
        return list_folder(dir);
    } catch (const Error&) {
        return {};
    }
}

bool is_left_out(const FolderEntry& e, bool name_wanted, bool folder_wanted) {
    if (e.is_file() || e.is_folder() || e.info.kind == FileKind::missing) return false;
    const bool may_be_folder = e.info.is_folder || e.info.kind == FileKind::symlink_loop ||
                               e.info.kind == FileKind::dangling_symlink;
    return name_wanted || (folder_wanted && may_be_folder);
}

std::string left_out_line(const std::string& shown, const PathInfo& info) {
    return printable(shown) + ": " + printable(info.cause) + "; left out";
}

namespace {

struct Walker {
    const std::function<bool(const fs::path&)>& wanted;
    TreeWalk& out;
    std::set<std::pair<dev_t, ino_t>> ancestors;  // the folders being walked, root to here

    void walk(const fs::path& dir) {
        std::vector<FolderEntry> entries;
        try {
            entries = list_folder(dir);
        } catch (const Error& e) {
            out.left_out.emplace_back(dir.string(), e.cause());
            return;
        }
        walk(entries);
    }

    void walk(const std::vector<FolderEntry>& entries) {
        for (const auto& e : entries) {
            if (e.is_file()) {
                if (wanted(e.path)) out.files.push_back(e.path.string());
            } else if (e.is_folder()) {
                struct stat st {};
                if (::stat(e.path.c_str(), &st) != 0) continue;  // gone meanwhile
                const std::pair<dev_t, ino_t> id{st.st_dev, st.st_ino};
                if (ancestors.count(id)) {
                    out.left_out.emplace_back(e.path.string(), e.info.symlink
                                                                   ? "is a symlink to a folder that contains it (a loop)"
                                                                   : "is a folder that contains itself (a loop)");
                    continue;
                }
                ancestors.insert(id);
                walk(e.path);
                ancestors.erase(id);
            } else if (is_left_out(e, wanted(e.path), true)) {
                out.left_out.emplace_back(e.path.string(), e.info.cause);
            }
        }
    }
};

}  // namespace

TreeWalk walk_tree(const fs::path& root, const std::function<bool(const fs::path&)>& wanted) {
    TreeWalk out;
    struct stat st {};
    if (::stat(root.c_str(), &st) != 0)
        throw Error(root.string(), std::string("cannot list folder: ") + std::strerror(errno));
    if (!S_ISDIR(st.st_mode)) throw Error(root.string(), std::string("cannot list folder: ") + std::strerror(ENOTDIR));
    const auto entries = list_folder(root);  // throws when root itself cannot be listed
    Walker w{wanted, out, {{st.st_dev, st.st_ino}}};
    w.walk(entries);
    std::sort(out.files.begin(), out.files.end());
    return out;
}

}  // namespace facepipe
