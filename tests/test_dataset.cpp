// Tests of lib/dataset.h: person-name safety, augmented names, and the scan.
#include <doctest/doctest.h>

#include <fstream>

#include "dataset.h"
#include "error.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe;

namespace {

void touch(const fs::path& p) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << "x";  // the scan never reads contents
}

std::vector<std::string> rel_paths(const DatasetScan& s) {
    std::vector<std::string> out;
    for (const auto& img : s.images) out.push_back(img.rel_path);
    return out;
}

bool any_contains(const std::vector<std::string>& lines, const std::string& needle) {
    for (const auto& l : lines)
        if (l.find(needle) != std::string::npos) return true;
    return false;
}

const std::string kSha = "0123abcd" + std::string(56, 'e');

}  // namespace

TEST_CASE("safe person names are accepted") {
    for (const char* ok : {"obama", "Jean-Luc Picard", "Zoë", "李小龙", "o'brien", "a.b", "x~y"})
        CHECK_MESSAGE(is_safe_person_name(ok), ok);
    CHECK(is_safe_person_name(std::string(128, 'a')));
}

TEST_CASE("unsafe person names are refused, each with a reason") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", "empty"},
        {"a/b", "separator"},
        {"a\\b", "separator"},
        {".", "'.'"},
        {"..", "'.'"},
        {".hidden", "starts with '.'"},
        {"tab\there", "control"},
        {"new\nline", "control"},
        {"del\x7f", "control"},
        {"c1\xc2\x85", "control"},            // U+0085 NEL
        {"bad\xff", "UTF-8"},                 // not a lead byte
        {"over\xc0\xaf", "UTF-8"},            // overlong '/'
        {"surrogate\xed\xa0\x80", "UTF-8"},   // U+D800
        {"cut\xe2\x82", "UTF-8"},             // truncated sequence
        {"big\xf4\x90\x80\x80", "UTF-8"},     // > U+10FFFF
        {std::string(129, 'a'), "128"},
    };
    for (const auto& [name, reason] : cases) {
        std::string why;
        CHECK_MESSAGE(!is_safe_person_name(name, &why), name);
        CHECK_MESSAGE(why.find(reason) != std::string::npos, name << " -> " << why);
    }
    CHECK(!is_safe_person_name(std::string("nul\0x", 5)));
}

TEST_CASE("augmented names round-trip, even when the original contains '~'") {
    const std::string n = augmented_name("my~photo.png", kSha, 7, "scale_crop");
    CHECK(n == "my~photo.png~0123abcd~07-scale_crop.jpg");
    const auto parsed = parse_augmented_name(n);
    REQUIRE(parsed);
    CHECK(parsed->original_filename == "my~photo.png");
    CHECK(parsed->sha8 == "0123abcd");
    CHECK(parsed->copy == 7);
    CHECK(parsed->op == "scale_crop");
}

TEST_CASE("parse_augmented_name rejects names it did not make") {
    for (const char* bad : {"photo.jpg", "a.jpg~0123abcd~07-flip.png", "a.jpg~0123abc~07-flip.jpg",
                            "a.jpg~0123ABCD~07-flip.jpg", "a.jpg~0123abcd~7-flip.jpg",
                            "a.jpg~0123abcd~07-.jpg", "a.jpg~0123abcd~07flip.jpg",
                            "~0123abcd~07-flip.jpg", "a.jpg~0123abcd~07-Flip.jpg", ".jpg"})
        CHECK_MESSAGE(!parse_augmented_name(bad), bad);
}

TEST_CASE("augmented_name refuses bad parts") {
    CHECK_THROWS_AS(augmented_name("a.jpg", kSha, 100, "flip"), std::invalid_argument);
    CHECK_THROWS_AS(augmented_name("a.jpg", kSha, -1, "flip"), std::invalid_argument);
    CHECK_THROWS_AS(augmented_name("a.jpg", "0123", 0, "flip"), std::invalid_argument);
    CHECK_THROWS_AS(augmented_name("a.jpg", kSha, 0, "bad op"), std::invalid_argument);
    CHECK_THROWS_AS(augmented_name("", kSha, 0, "flip"), std::invalid_argument);
}

TEST_CASE("scan_dataset lists originals and copies in order and warns about the rest") {
    test::TempDir dir;
    const fs::path root = dir.path();
    touch(root / "bob" / "x.jpg");
    touch(root / "alice" / "b.PNG");
    touch(root / "alice" / "a.jpg");
    touch(root / "alice" / "notes.txt");                                    // ignored, no warning
    touch(root / "alice" / ".hidden.jpg");                                  // ignored
    touch(root / "alice" / "augmented" / augmented_name("a.jpg", kSha, 0, "flip"));
    touch(root / "alice" / "augmented" / augmented_name("gone.jpg", kSha, 0, "flip"));  // orphan
    touch(root / "alice" / "augmented" / "random.jpg");                     // unparseable
    touch(root / "alice" / "sub" / "deep.jpg");                             // subfolder
    touch(root / ".git" / "x.jpg");                                         // hidden folder
    touch(root / "bad\\name" / "y.jpg");                                    // unsafe name
    touch(root / "stray.jpg");                                              // outside any person
    touch(root / "README.md");                                              // ignored
    fs::create_directories(root / "carol");                                 // no photos

    const DatasetScan s = scan_dataset(root);
    CHECK(rel_paths(s) == std::vector<std::string>{
                             "alice/a.jpg", "alice/augmented/a.jpg~0123abcd~00-flip.jpg",
                             "alice/b.PNG", "bob/x.jpg"});
    CHECK(s.people == std::vector<std::string>{"alice", "bob"});
    const DatasetImage& copy = s.images[1];
    CHECK(!copy.original());
    CHECK(copy.person == "alice");
    CHECK(copy.source == "alice/a.jpg");
    CHECK(copy.augmentation == "flip");
    CHECK(copy.source_sha8 == "0123abcd");
    CHECK(copy.copy == 0);
    CHECK(copy.abs == root / "alice" / "augmented" / "a.jpg~0123abcd~00-flip.jpg");
    CHECK(s.images[0].original());
    CHECK(s.images[0].source == "alice/a.jpg");

    CHECK(s.warnings.size() == 5);
    CHECK(any_contains(s.warnings, "gone.jpg is gone"));
    CHECK(any_contains(s.warnings, "alice/augmented/random.jpg: not an augmented-copy name"));
    CHECK(any_contains(s.warnings, "alice/sub: subfolder"));
    CHECK(any_contains(s.warnings, "bad\\name: unsafe person folder name"));
    CHECK(any_contains(s.warnings, "stray.jpg: image outside any person folder"));
    for (const auto& w : s.warnings) CHECK(w.find('\n') == std::string::npos);

    const DatasetScan originals = scan_dataset(root, false);
    CHECK(rel_paths(originals) == std::vector<std::string>{"alice/a.jpg", "alice/b.PNG", "bob/x.jpg"});
}

TEST_CASE("scan_dataset of a missing folder names it") {
    test::TempDir dir;
    CHECK_THROWS_WITH_AS(scan_dataset(dir / "nope"), doctest::Contains("nope: no such dataset folder"),
                         Error);
}

TEST_CASE("normalise_person_name NFC-normalises, so one name is one folder") {
    // "Zoé" as e + U+0301 (NFD, what macOS writes) and as U+00E9 (NFC).
    const std::string nfd = "Zoe\xcc\x81", nfc = "Zo\xc3\xa9";
    CHECK(normalise_person_name(nfd) == nfc);
    CHECK(normalise_person_name(nfc) == nfc);
    // Hangul jamo compose into one syllable; ASCII is unchanged.
    CHECK(normalise_person_name("\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab") == std::string("\xed\x95\x9c"));
    CHECK(normalise_person_name("Jean-Luc Picard") == std::string("Jean-Luc Picard"));
}

TEST_CASE("normalise_person_name refuses unsafe and deceptive names with a reason") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", "empty"},
        {"../evil", "'.'"},
        {"a/b", "separator"},
        {"..", "'.'"},
        {"new\nline", "control"},
        {"\x1b[31mred", "control"},
        {" lead", "space"},
        {"trail ", "space"},
        {"\xe2\x80\xae" "evil", "bidirectional"},      // U+202E RIGHT-TO-LEFT OVERRIDE
        {"a\xe2\x81\xa6" "b", "bidirectional"},        // U+2066 LEFT-TO-RIGHT ISOLATE
        {"no\xc2\xa0" "break", "space"},               // U+00A0 NO-BREAK SPACE
        {"bad\xff", "UTF-8"},
    };
    for (const auto& [name, reason] : cases) {
        std::string why;
        CHECK_MESSAGE(!normalise_person_name(name, &why), name);
        CHECK_MESSAGE(why.find(reason) != std::string::npos, name, " -> ", why);
    }
}

TEST_CASE("scan_dataset warns when two folders are one name in different Unicode forms") {
    facepipe::test::TempDir d;
    touch(d / "Zoe\xcc\x81" / "a.jpg");
    touch(d / "Zo\xc3\xa9" / "b.jpg");
    const DatasetScan s = scan_dataset(d.path());
    CHECK(s.people.size() == 2);  // both kept: renaming a user's folder is not ours to do
    CHECK(any_contains(s.warnings, "another Unicode form"));
}
