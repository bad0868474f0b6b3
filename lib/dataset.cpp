#include "dataset.h"

#include <spdlog/spdlog.h>
#include <utf8proc.h>

#include <cstdlib>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <stdexcept>

#include "error.h"
#include "image.h"
#include "walk.h"

namespace facepipe {
namespace fs = std::filesystem;
namespace {

// Length of the UTF-8 sequence starting at s[i] and its code point, or 0 when
// the sequence is invalid (truncated, overlong, surrogate, > U+10FFFF).
size_t utf8_sequence(std::string_view s, size_t i, char32_t* cp) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    char32_t v, min;
    if (c < 0x80) return *cp = c, 1;
    if ((c & 0xE0) == 0xC0) n = 2, v = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0) n = 3, v = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0) n = 4, v = c & 0x07, min = 0x10000;
    else return 0;
    if (i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k) {
        const auto cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xC0) != 0x80) return 0;
        v = v << 6 | (cc & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return n;
}

bool refuse(std::string* why, const char* reason) {
    if (why) *why = reason;
    return false;
}

bool is_hidden(const fs::path& p) {
    const std::string name = p.filename().string();
    return !name.empty() && name[0] == '.';
}

bool is_lower_hex(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
}

bool is_op_name(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

struct PersonScan {
    std::vector<DatasetImage> originals;
    std::vector<DatasetImage> augmented;
};

void leave_out(DatasetScan& scan, const std::string& rel, const PathInfo& info) {
    scan.warnings.push_back(left_out_line(rel, info));
    ++scan.left_out;
}

// list_folder, or nothing when the folder cannot be listed (left out, one line).
std::vector<FolderEntry> entries_of(const fs::path& dir, const std::string& rel, DatasetScan& scan) {
    try {
        return list_folder(dir);
    } catch (const Error& e) {
        PathInfo info;
        info.kind = FileKind::unreadable, info.is_folder = true, info.cause = e.cause();
        leave_out(scan, rel, info);
        return {};
    }
}

void scan_augmented(const fs::path& dir, const std::string& person, PersonScan& ps,
                    DatasetScan& scan) {
    for (const auto& e : entries_of(dir, person + "/" + kAugmentedDir, scan)) {
        const std::string& file = e.name;
        const std::string rel = person + "/" + kAugmentedDir + "/" + file;
        if (is_hidden(e.path)) continue;
        const bool image_name = looks_like_image_path(e.path);
        if (is_left_out(e, image_name, false)) {
            leave_out(scan, rel, e.info);
            continue;
        }
        if (!e.is_file() || !image_name) {
            spdlog::debug("{}: not an image file, ignored", rel);
            continue;
        }
        const auto parsed = parse_augmented_name(file);
        if (!parsed) {
            scan.warnings.push_back(rel + ": not an augmented-copy name, skipped");
            continue;
        }
        DatasetImage img{person, rel, person + "/" + parsed->original_filename, parsed->op,
                         parsed->sha8, parsed->copy, e.path};
        ps.augmented.push_back(std::move(img));
    }
}

PersonScan scan_person(const fs::path& dir, const std::string& person, bool include_augmented,
                       DatasetScan& scan) {
    PersonScan ps;
    for (const auto& e : entries_of(dir, person, scan)) {
        const std::string& file = e.name;
        const std::string rel = person + "/" + file;
        if (is_hidden(e.path)) continue;
        if (e.folder_like() && file != kAugmentedDir) {
            scan.warnings.push_back(rel + ": subfolder inside a person folder, skipped");
        } else if (e.folder_like() || (file == kAugmentedDir && !e.is_file())) {
            if (!include_augmented) continue;
            if (e.is_folder()) scan_augmented(e.path, person, ps, scan);
            else if (is_left_out(e, false, true)) leave_out(scan, rel, e.info);
        } else if (is_left_out(e, looks_like_image_path(e.path), false)) {
            leave_out(scan, rel, e.info);
        } else if (e.is_file() && looks_like_image_path(e.path)) {
            ps.originals.push_back(DatasetImage{person, rel, rel, "", "", -1, e.path});
        } else {
            spdlog::debug("{}: not an image file, ignored", rel);
        }
    }
    return ps;
}

// Keeps the augmented copies whose original is still there; warns about the rest.
void add_person(PersonScan ps, DatasetScan& scan) {
    std::set<std::string> originals;
    for (const auto& img : ps.originals) originals.insert(img.rel_path);
    for (auto& img : ps.augmented) {
        if (originals.count(img.source))
            scan.images.push_back(std::move(img));
        else
            scan.warnings.push_back(img.rel_path + ": its original " + img.source +
                                    " is gone, skipped");
    }
    for (auto& img : ps.originals) scan.images.push_back(std::move(img));
}

}  // namespace

bool is_safe_person_name(std::string_view name, std::string* why) {
    if (name.empty()) return refuse(why, "empty name");
    if (name.size() > 128) return refuse(why, "longer than 128 bytes");
    if (name == "." || name == "..") return refuse(why, "'.' and '..' are not names");
    if (name[0] == '.') return refuse(why, "starts with '.' (hidden)");
    for (size_t i = 0; i < name.size();) {
        char32_t cp = 0;
        const size_t n = utf8_sequence(name, i, &cp);
        if (n == 0) return refuse(why, "not valid UTF-8");
        if (cp == '/' || cp == '\\') return refuse(why, "contains a path separator");
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
            return refuse(why, "contains a control character");
        i += n;
    }
    return true;
}

std::optional<std::string> normalise_person_name(std::string_view name, std::string* why) {
    // Validate first: utf8proc must only ever see valid UTF-8 without NULs.
    if (!is_safe_person_name(name, why)) return std::nullopt;
    utf8proc_uint8_t* mapped = nullptr;
    const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(name.data()),
                                static_cast<utf8proc_ssize_t>(name.size()), &mapped,
                                utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    if (n < 0) {
        if (why) *why = std::string("cannot normalise: ") + utf8proc_errmsg(n);
        return std::nullopt;
    }
    std::string nfc(reinterpret_cast<const char*>(mapped), static_cast<size_t>(n));
    std::free(mapped);
    // NFC can lengthen a name (composition exclusions), so check the result too.
    if (!is_safe_person_name(nfc, why)) return std::nullopt;
    auto space = [](unsigned char c) { return c == ' '; };
    if (space(nfc.front()) || space(nfc.back())) {
        if (why) *why = "leading or trailing space";
        return std::nullopt;
    }
    for (size_t i = 0; i < nfc.size();) {
        char32_t cp = 0;
        i += utf8_sequence(nfc, i, &cp);  // valid: checked above
        if (cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) {
            if (why) *why = "contains a bidirectional-text control character";
            return std::nullopt;
        }
        if (utf8proc_category(static_cast<utf8proc_int32_t>(cp)) == UTF8PROC_CATEGORY_ZS && cp != ' ') {
            if (why) *why = "contains an unusual space character (only ' ' is allowed)";
            return std::nullopt;
        }
    }
    return nfc;
}

DatasetScan scan_dataset(const fs::path& root, bool include_augmented) {
    std::error_code ec;
    if (!fs::is_directory(root, ec)) throw Error(root.string(), "no such dataset folder");
    DatasetScan scan;
    for (const auto& e : list_folder(root)) {  // throws when root cannot be listed
        const std::string& name = e.name;
        if (is_hidden(e.path)) continue;
        std::string why;
        if (e.folder_like()) {
            if (!is_safe_person_name(name, &why)) {
                scan.warnings.push_back(name + ": unsafe person folder name (" + why + "), skipped");
                continue;
            }
            if (e.is_folder()) add_person(scan_person(e.path, name, include_augmented, scan), scan);
            else leave_out(scan, name, e.info);
        } else if (is_left_out(e, looks_like_image_path(e.path), true)) {
            leave_out(scan, name, e.info);
        } else if (looks_like_image_path(e.path)) {
            scan.warnings.push_back(name + ": image outside any person folder, skipped");
        } else {
            spdlog::debug("{}: not an image file, ignored", name);
        }
    }
    std::sort(scan.images.begin(), scan.images.end(),
              [](const auto& a, const auto& b) { return a.rel_path < b.rel_path; });
    for (const auto& img : scan.images)
        if (img.original() && (scan.people.empty() || scan.people.back() != img.person))
            scan.people.push_back(img.person);
    // Two folders whose names differ only in Unicode form are two labels for what
    // a user sees as one name: say so (enroll never creates such a pair).
    std::map<std::string, std::string> by_nfc;
    for (const auto& person : scan.people) {
        const auto [it, fresh] = by_nfc.emplace(normalise_person_name(person).value_or(person), person);
        if (!fresh)
            scan.warnings.push_back(person + ": same name as " + it->second +
                                    " in another Unicode form; they are two different people to facepipe");
    }
    return scan;
}

std::string augmented_name(const std::string& original_filename, const std::string& original_sha256,
                           int copy, const std::string& op) {
    if (original_filename.empty()) throw std::invalid_argument("augmented_name: empty original filename");
    if (original_sha256.size() < 8 || !is_lower_hex(std::string_view(original_sha256).substr(0, 8)))
        throw std::invalid_argument("augmented_name: sha256 must start with 8 lower-case hex digits");
    if (copy < 0 || copy > 99) throw std::invalid_argument("augmented_name: copy must be 0..99");
    if (!is_op_name(op)) throw std::invalid_argument("augmented_name: bad op name '" + op + "'");
    const char kk[3] = {char('0' + copy / 10), char('0' + copy % 10), 0};
    return original_filename + "~" + original_sha256.substr(0, 8) + "~" + kk + "-" + op + ".jpg";
}

std::optional<AugmentedName> parse_augmented_name(std::string_view f) {
    constexpr std::string_view ext = ".jpg";
    if (f.size() <= ext.size() || f.substr(f.size() - ext.size()) != ext) return std::nullopt;
    f.remove_suffix(ext.size());
    const size_t t2 = f.rfind('~');  // before "kk-op"
    if (t2 == std::string_view::npos || t2 < 10) return std::nullopt;
    const std::string_view tail = f.substr(t2 + 1);
    if (tail.size() < 4 || !isdigit(static_cast<unsigned char>(tail[0])) ||
        !isdigit(static_cast<unsigned char>(tail[1])) || tail[2] != '-' || !is_op_name(tail.substr(3)))
        return std::nullopt;
    const std::string_view sha8 = f.substr(t2 - 8, 8);
    if (f[t2 - 9] != '~' || !is_lower_hex(sha8)) return std::nullopt;
    AugmentedName out;
    out.original_filename = std::string(f.substr(0, t2 - 9));
    out.sha8 = std::string(sha8);
    out.copy = (tail[0] - '0') * 10 + (tail[1] - '0');
    out.op = std::string(tail.substr(3));
    return out;
}

}  // namespace facepipe
