// dataset.h — the on-disk layout of a face dataset, shared by augment, encode
// and enroll so that they all see the same photos.
//
//   <root>/<person>/<photo>                 originals, never modified by facepipe
//   <root>/<person>/augmented/<name>        copies made by `facepipe augment`, named
//       <photo-filename>~<sha8>~<kk>-<op>.jpg
//   where sha8 is the first 8 hex digits of augment.h's copy_tag(original's
//   SHA-256, seed) (so a changed original or a new seed makes the old copies
//   recognisably stale), kk the 2-digit copy index and op the augmentation op.
//
// Entries whose name starts with '.' are ignored everywhere.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace facepipe {

// Name of the per-person subfolder holding augmented copies.
inline constexpr const char* kAugmentedDir = "augmented";

// is_safe_person_name(name, why)
//   ensures: true when `name` may be used as a person label and folder name:
//            non-empty, at most 128 bytes, valid UTF-8 (no overlongs or
//            surrogates), no control characters (C0, DEL, C1), no '/' or '\\',
//            not "." or "..", no leading '.'.
//            When false and why != nullptr, *why holds a short reason.
//   note:    it does not normalise: scan_dataset accepts a folder as it is on disk
//            (a dataset copied from macOS has NFD names). New names go through
//            normalise_person_name, the one place names are NFC-normalised.
bool is_safe_person_name(std::string_view name, std::string* why = nullptr);

// normalise_person_name(name, why)
//   ensures: the Unicode NFC form of `name` (utf8proc), so that "é" typed as one
//            code point or as e + U+0301 names the same person and folder; nullopt
//            when `name` or its NFC form fails is_safe_person_name, or when it has
//            leading or trailing white space or bidirectional-text controls
//            (U+200E/F, U+202A..E, U+2066..9: they make a name display as another).
//            When nullopt and why != nullptr, *why holds a short reason.
//   Used for every name a user types (enroll); names already on disk are left alone.
std::optional<std::string> normalise_person_name(std::string_view name, std::string* why = nullptr);

struct DatasetImage {
    std::string person;        // the folder name, a safe person name
    std::string rel_path;      // '/'-separated, relative to the dataset root
    std::string source;        // rel_path of the original (== rel_path for originals)
    std::string augmentation;  // "" for originals, else the op name
    std::string source_sha8;   // "" for originals, else the hash prefix in the name
    int copy = -1;             // -1 for originals, else the copy index
    std::filesystem::path abs; // root / rel_path
    bool original() const { return augmentation.empty(); }
};

struct DatasetScan {
    std::vector<DatasetImage> images;   // sorted by rel_path (byte order): deterministic
    std::vector<std::string> warnings;  // one line each, "<path>: <what was skipped and why>"
    int left_out = 0;                   // how many of the warnings are entries left out because
                                        // they cannot be read (walk.h): a run reports these
                                        // in its exit code, unlike layout warnings
    std::vector<std::string> people;    // sorted; people with at least one original
};

// scan_dataset(root, include_augmented)
//   ensures: lists the image files (by extension, see looks_like_image_path) of
//            every person folder; augmented copies only when include_augmented.
//            Skipped with a warning: unsafe person folder names, image files
//            outside a person folder, other subfolders of a person, files in
//            augmented/ whose name does not parse, and augmented copies whose
//            original is gone. Non-image files are skipped silently (debug log).
//            It does not read file contents: a copy of an original that has since
//            changed is listed (`facepipe augment` prunes such copies).
//            Warns (and keeps both) when two person folders have the same NFC form.
//            Entries are listed with walk.h list_folder. Left out, one warning each
//            (left_out_line) counted in left_out: a person folder or augmented/
//            that cannot be listed, and every entry with an image name (or, at the
//            root, that may be a person folder) that is not a readable regular file
//            or folder: symlink loops, dangling symlinks, FIFOs, sockets, devices,
//            symlinks to them, unreadable files. The scan goes on with the rest.
//   throws:  Error(root, "no such dataset folder") when root is not a folder;
//            Error(root, "cannot list folder: ...") when it cannot be listed.
DatasetScan scan_dataset(const std::filesystem::path& root, bool include_augmented = true);

// The parts of an augmented file's name.
struct AugmentedName {
    std::string original_filename;
    std::string sha8;  // 8 lower-case hex digits
    int copy = 0;      // 0..99
    std::string op;    // [a-z0-9_]+
};

// augmented_name(original_filename, original_sha256, copy, op)
//   requires: original_sha256 has at least 8 hex digits, 0 <= copy <= 99, op is
//             non-empty [a-z0-9_]; otherwise throws std::invalid_argument.
//   ensures:  returns "<original_filename>~<sha8>~<kk>-<op>.jpg", and
//             parse_augmented_name() of it gives the parts back.
std::string augmented_name(const std::string& original_filename, const std::string& original_sha256,
                           int copy, const std::string& op);

// The inverse of augmented_name; nullopt when `filename` is not such a name.
// Parses from the right, so original filenames may themselves contain '~'.
std::optional<AugmentedName> parse_augmented_name(std::string_view filename);

}  // namespace facepipe
