// walk.h — walking a user's folders: every entry is classified (fsutil.h
// inspect_path) before anything reads it, and none is followed into trouble.
//
// A user's folder may hold anything: symlink loops, dangling symlinks, FIFOs,
// sockets, devices, entries without permission. A walk keeps regular files and
// folders, and leaves each other entry out with exactly one line naming it and
// its kind (left_out_line), so that one bad entry costs that entry only. Every
// walk of a user's folders goes through list_folder or walk_tree: the dataset
// (dataset.h scan_dataset, augment's pruning, enroll, people, rollback),
// predict's and eval's inputs.
#pragma once
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "fsutil.h"

namespace facepipe {

struct FolderEntry {
    std::string name;            // its file name
    std::filesystem::path path;  // its folder / name
    PathInfo info;               // inspect_path(path)
    bool is_file() const { return info.kind == FileKind::regular; }
    bool is_folder() const { return info.kind == FileKind::folder; }
    // A folder, readable or not: where a folder is expected, an unreadable one is
    // left out rather than taken for a file.
    bool folder_like() const { return is_folder() || info.is_folder; }
};

// list_folder(dir)
//   ensures: every entry of `dir` but "." and "..", sorted by name (byte order),
//            each inspected with inspect_path: a symlink is followed only to say
//            what it leads to (a loop is reported, not followed); no entry is
//            opened. An entry that vanishes while listed is not returned.
//   throws:  Error(dir, "cannot list folder: <strerror>") when `dir` itself cannot
//            be listed (missing, not a folder, no permission).
std::vector<FolderEntry> list_folder(const std::filesystem::path& dir);

// try_list_folder(dir): list_folder(dir), or no entries when `dir` cannot be
// listed (for walks that only look for names they made, e.g. augmented copies,
// and leave reporting to the dataset scan). Never throws Error.
std::vector<FolderEntry> try_list_folder(const std::filesystem::path& dir);

// is_left_out(entry, name_wanted, folder_wanted)
//   ensures: true when the walk would have used `entry` and cannot: it is neither
//            a readable regular file nor a readable folder, and either its name
//            is one the walk wants (name_wanted: e.g. an image file name) or the
//            walk wants folders here (folder_wanted) and it is, or may be, one
//            (an unreadable folder, a symlink loop, a dangling symlink).
//            A FIFO, socket or device whose name the walk does not want is not
//            left out: it is ignored, like any other file of no interest.
bool is_left_out(const FolderEntry& entry, bool name_wanted, bool folder_wanted);

// The one warning line for an entry left out: "<shown>: <info.cause>; left out".
std::string left_out_line(const std::string& shown, const PathInfo& info);

struct TreeWalk {
    std::vector<std::string> files;                             // sorted (byte order)
    std::vector<std::pair<std::string, std::string>> left_out;  // (path, cause), in walk order
};

// walk_tree(root, wanted)
//   requires: root is a folder (symlinks followed).
//   ensures:  files = the regular files at any depth under root whose path
//             wanted() accepts, as root / relative path. Folders and symlinks to
//             folders are walked, except a symlink to a folder that contains it
//             (it would never end): that one is left out. left_out = every entry
//             is_left_out(e, wanted(e.path), true), and every folder that cannot
//             be listed, each once with its cause. Never throws for an entry.
//   throws:   Error(root, "cannot list folder: ...") when root cannot be listed.
TreeWalk walk_tree(const std::filesystem::path& root,
                   const std::function<bool(const std::filesystem::path&)>& wanted);

}  // namespace facepipe
