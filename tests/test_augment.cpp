// Tests of lib/augment.h: the ops, and augment_dataset's determinism,
// idempotence, pruning and error handling. Datasets are synthesised into a
// TempDir; one test also runs the ops on real faces when shared data is present.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <fstream>
#include <map>
#include <set>

#include "augment.h"
#include "dataset.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "image.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe;

namespace {

// Asymmetric and colourful, so every op (flip and grayscale included) changes it.
cv::Mat synthetic(int w, int h, int variant) {
    cv::Mat m(h, w, CV_8UC3);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            m.at<cv::Vec3b>(y, x) = cv::Vec3b(uchar(x * 255 / w), uchar(y * 255 / h), uchar(40 * variant));
    cv::circle(m, {w / 4, h / 3}, h / 6, cv::Scalar(0, 0, 255), -1);
    cv::rectangle(m, cv::Rect(w / 2, h / 2, w / 3, h / 4), cv::Scalar(255, 255, 0), -1);
    return m;
}

void write_jpeg(const fs::path& p, const cv::Mat& m) {
    fs::create_directories(p.parent_path());
    std::vector<uchar> buf;
    REQUIRE(cv::imencode(".jpg", m, buf));
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(buf.data()), buf.size());
}

// Two people, three originals.
void make_dataset(const fs::path& root) {
    write_jpeg(root / "alice" / "a1.jpg", synthetic(96, 80, 1));
    write_jpeg(root / "alice" / "a2.jpg", synthetic(80, 96, 2));
    write_jpeg(root / "bob" / "b 1.jpg", synthetic(90, 90, 3));
}

// rel path -> file contents, for every file under root.
std::map<std::string, std::string> snapshot(const fs::path& root) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (e.is_regular_file()) out[fs::relative(e.path(), root).generic_string()] = read_file(e.path().string());
    return out;
}

std::set<std::string> augmented_files(const fs::path& root) {
    std::set<std::string> out;
    for (const auto& [rel, bytes] : snapshot(root))
        if (rel.find("/augmented/") != std::string::npos) out.insert(rel);
    return out;
}

AugmentOptions opts(int copies, std::uint64_t seed = 1) {
    AugmentOptions o;
    o.copies = copies;
    o.seed = seed;
    return o;
}

}  // namespace

TEST_CASE("augmentation_ops lists the nine ops in canonical order") {
    CHECK(augmentation_ops() == std::vector<std::string>{"flip", "rotate", "brightness_contrast", "gamma",
                                                         "blur", "noise", "jpeg", "scale_crop", "grayscale"});
}

TEST_CASE("every op changes the image, keeps its size and type, and is reproducible") {
    const cv::Mat src = synthetic(120, 100, 1);
    const cv::Mat before = src.clone();
    for (const auto& op : augmentation_ops()) {
        std::mt19937_64 rng1(42), rng2(42);
        const cv::Mat a = apply_augmentation(src, op, rng1), b = apply_augmentation(src, op, rng2);
        CHECK_MESSAGE(a.size() == src.size(), op);
        CHECK_MESSAGE(a.type() == CV_8UC3, op);
        CHECK_MESSAGE(cv::norm(a, src, cv::NORM_L1) > 0, op);
        CHECK_MESSAGE(cv::norm(a, b, cv::NORM_INF) == 0, op);
    }
    CHECK(cv::norm(src, before, cv::NORM_INF) == 0);  // the input is left alone
}

TEST_CASE("flip is a horizontal mirror") {
    const cv::Mat src = synthetic(64, 48, 2);
    std::mt19937_64 rng(1);
    const cv::Mat f = apply_augmentation(src, "flip", rng);
    CHECK(f.at<cv::Vec3b>(10, 0) == src.at<cv::Vec3b>(10, 63));
    CHECK(f.at<cv::Vec3b>(47, 5) == src.at<cv::Vec3b>(47, 58));
    CHECK(cv::norm(apply_augmentation(f, "flip", rng), src, cv::NORM_INF) == 0);
}

TEST_CASE("grayscale has three equal channels") {
    std::mt19937_64 rng(1);
    const cv::Mat g = apply_augmentation(synthetic(64, 48, 2), "grayscale", rng);
    const cv::Vec3b px = g.at<cv::Vec3b>(20, 20);
    CHECK(px[0] == px[1]);
    CHECK(px[1] == px[2]);
}

TEST_CASE("apply_augmentation refuses unknown ops and bad images") {
    std::mt19937_64 rng(1);
    CHECK_THROWS_AS(apply_augmentation(synthetic(10, 10, 1), "sepia", rng), std::invalid_argument);
    CHECK_THROWS_AS(apply_augmentation(cv::Mat(), "flip", rng), std::invalid_argument);
    CHECK_THROWS_AS(apply_augmentation(cv::Mat(5, 5, CV_8UC1), "flip", rng), std::invalid_argument);
}

TEST_CASE("ops change real face photos too") {
    SKIP_IF(test::shared_data_missing({"faces/obama/obama.jpg"}));
    const fs::path faces = test::shared_data() / "faces" / "obama";
    const LoadedImage img = load_image((faces / "obama.jpg").string());
    for (const auto& op : augmentation_ops()) {
        std::mt19937_64 rng(7);
        const cv::Mat a = apply_augmentation(img.bgr, op, rng);
        CHECK_MESSAGE(a.size() == img.bgr.size(), op);
        CHECK_MESSAGE(cv::norm(a, img.bgr, cv::NORM_L1) > 0, op);
    }
}

TEST_CASE("augment_dataset writes copies named after the original, 0600, decodable") {
    test::TempDir dir;
    make_dataset(dir.path());
    int calls = 0;
    std::size_t last_done = 0, last_total = 0;
    const AugmentSummary s = augment_dataset(dir.path(), opts(3), [&](std::size_t done, std::size_t total) {
        ++calls;
        last_done = done;
        last_total = total;
    });
    CHECK(s.originals == 3);
    CHECK(s.created == 9);
    CHECK(s.kept == 0);
    CHECK(s.failed == 0);
    CHECK(s.errors.empty());
    CHECK(calls == 3);
    CHECK(last_done == 3);
    CHECK(last_total == 3);

    const DatasetScan scan = scan_dataset(dir.path());
    CHECK(scan.images.size() == 12);
    CHECK(scan.warnings.empty());
    for (const auto& img : scan.images) {
        if (img.original()) continue;
        const auto src = load_image((dir.path() / img.source).string());
        CHECK(img.source_sha8 == copy_tag(src.sha256, 1).substr(0, 8));
        const auto copy = load_image(img.abs.string());
        CHECK(copy.bgr.size() == src.bgr.size());
        struct stat st {};
        REQUIRE(::stat(img.abs.c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0600);
    }
}

TEST_CASE("copies == number of ops uses every op exactly once per original") {
    test::TempDir dir;
    make_dataset(dir.path());
    augment_dataset(dir.path(), opts(static_cast<int>(augmentation_ops().size())));
    std::map<std::string, std::multiset<std::string>> ops_by_source;
    for (const auto& img : scan_dataset(dir.path()).images)
        if (!img.original()) ops_by_source[img.source].insert(img.augmentation);
    REQUIRE(ops_by_source.size() == 3);
    const std::multiset<std::string> all(augmentation_ops().begin(), augmentation_ops().end());
    for (const auto& [source, ops] : ops_by_source) CHECK_MESSAGE(ops == all, source);
}

TEST_CASE("same seed gives byte-identical copies whatever the threads or other photos") {
    test::TempDir a, b, c;
    make_dataset(a.path());
    make_dataset(b.path());
    make_dataset(c.path());
    write_jpeg(b.path() / "carol" / "c.jpg", synthetic(70, 70, 4));  // an extra person
    AugmentOptions one = opts(4, 99), many = opts(4, 99), other = opts(4, 100);
    one.threads = 1;
    many.threads = 4;
    augment_dataset(a.path(), one);
    augment_dataset(b.path(), many);
    augment_dataset(c.path(), other);
    const auto sa = snapshot(a.path()), sb = snapshot(b.path()), sc = snapshot(c.path());
    int compared = 0, differ = 0;
    for (const auto& [rel, bytes] : sa) {
        REQUIRE_MESSAGE(sb.count(rel), rel);
        CHECK_MESSAGE(sb.at(rel) == bytes, rel);
        ++compared;
    }
    CHECK(compared == 15);
    CHECK(sb.size() == 20);
    for (const auto& [rel, bytes] : sa)
        if (rel.find("/augmented/") != std::string::npos && (!sc.count(rel) || sc.at(rel) != bytes)) ++differ;
    CHECK(differ > 0);  // the other seed changes ops or pixels
    CHECK(augmented_files(c.path()).size() == 12);
}

TEST_CASE("a re-run creates nothing and rewrites nothing") {
    test::TempDir dir;
    make_dataset(dir.path());
    augment_dataset(dir.path(), opts(3));
    std::map<std::string, fs::file_time_type> times;
    for (const auto& rel : augmented_files(dir.path())) times[rel] = fs::last_write_time(dir.path() / rel);
    const auto before = snapshot(dir.path());
    const AugmentSummary s = augment_dataset(dir.path(), opts(3));
    CHECK(s.created == 0);
    CHECK(s.kept == 9);
    CHECK(s.pruned == 0);
    CHECK(snapshot(dir.path()) == before);
    for (const auto& [rel, t] : times) CHECK_MESSAGE(fs::last_write_time(dir.path() / rel) == t, rel);
}

TEST_CASE("originals are never modified") {
    test::TempDir dir;
    make_dataset(dir.path());
    std::map<std::string, std::string> hashes;
    for (const auto& img : scan_dataset(dir.path(), false).images)
        hashes[img.rel_path] = sha256_file(img.abs.string());
    augment_dataset(dir.path(), opts(9));
    fs::remove(dir.path() / "alice" / "a2.jpg");
    hashes.erase("alice/a2.jpg");
    augment_dataset(dir.path(), opts(2));  // and a pruning run
    for (const auto& [rel, h] : hashes) CHECK_MESSAGE(sha256_file((dir.path() / rel).string()) == h, rel);
}

TEST_CASE("prune removes stale copies and only those") {
    test::TempDir dir;
    const fs::path root = dir.path();
    make_dataset(root);
    augment_dataset(root, opts(5));
    REQUIRE(augmented_files(root).size() == 15);
    const fs::path keepme = root / "alice" / "augmented" / "my notes.jpg";  // not our name
    write_jpeg(keepme, synthetic(10, 10, 1));

    SUBCASE("original gone") {
        fs::remove(root / "bob" / "b 1.jpg");
        const AugmentSummary s = augment_dataset(root, opts(5));
        CHECK(s.pruned == 5);
        CHECK(s.originals == 2);
        for (const auto& rel : augmented_files(root)) CHECK(rel.rfind("alice/", 0) == 0);
    }
    SUBCASE("original changed") {
        write_jpeg(root / "alice" / "a1.jpg", synthetic(96, 80, 5));
        const std::string sha8 = copy_tag(sha256_file((root / "alice" / "a1.jpg").string()), 1).substr(0, 8);
        const AugmentSummary s = augment_dataset(root, opts(5));
        CHECK(s.pruned == 5);
        CHECK(s.created == 5);
        CHECK(s.kept == 10);
        for (const auto& img : scan_dataset(root).images)
            if (!img.original() && img.source == "alice/a1.jpg") CHECK(img.source_sha8 == sha8);
    }
    SUBCASE("new seed: every copy is remade, none kept from the old seed") {
        const AugmentSummary s = augment_dataset(root, opts(5, 2));
        CHECK(s.pruned == 15);
        CHECK(s.created == 15);
        CHECK(s.kept == 0);
    }
    SUBCASE("fewer copies") {
        const AugmentSummary s = augment_dataset(root, opts(2));
        CHECK(s.pruned == 9);
        for (const auto& img : scan_dataset(root).images)
            if (!img.original()) CHECK(img.copy < 2);
    }
    SUBCASE("op no longer chosen") {
        AugmentOptions o = opts(2);
        o.ops = {"flip"};
        augment_dataset(root, o);
        const DatasetScan s = scan_dataset(root);
        int copies = 0;
        for (const auto& img : s.images)
            if (!img.original()) {
                CHECK(img.augmentation == "flip");
                ++copies;
            }
        CHECK(copies == 6);
    }
    SUBCASE("prune off keeps everything") {
        AugmentOptions o = opts(1);
        o.prune = false;
        fs::remove(root / "bob" / "b 1.jpg");
        const AugmentSummary s = augment_dataset(root, o);
        CHECK(s.pruned == 0);
        CHECK(augmented_files(root).size() == 16);
    }
    SUBCASE("a person folder with only copies left") {
        fs::remove(root / "bob" / "b 1.jpg");
        fs::remove(root / "alice" / "a1.jpg");
        fs::remove(root / "alice" / "a2.jpg");
        const AugmentSummary s = augment_dataset(root, opts(5));
        CHECK(s.originals == 0);
        CHECK(s.pruned == 15);
    }
    CHECK(fs::exists(keepme));  // names we did not make are never removed
}

TEST_CASE("a bad original is reported in one line and the batch goes on") {
    test::TempDir dir;
    const fs::path root = dir.path();
    make_dataset(root);
    std::ofstream(root / "bob" / "broken.jpg") << "not a photo";
    // A copy of the broken original survives: its hash is unknown, so we cannot call it stale.
    const fs::path old_copy = root / "bob" / "augmented" / "broken.jpg~deadbeef~00-flip.jpg";
    write_jpeg(old_copy, synthetic(10, 10, 1));
    const AugmentSummary s = augment_dataset(root, opts(2));
    CHECK(s.originals == 4);
    CHECK(s.failed == 1);
    CHECK(s.created == 6);
    REQUIRE(s.errors.size() == 1);
    CHECK(s.errors[0].find("broken.jpg: not a recognised image format") != std::string::npos);
    CHECK(s.errors[0].find('\n') == std::string::npos);
    CHECK(fs::exists(old_copy));
}

TEST_CASE("augment_dataset refuses bad options and a missing folder") {
    test::TempDir dir;
    make_dataset(dir.path());
    CHECK_THROWS_WITH_AS(augment_dataset(dir.path(), opts(101)), doctest::Contains("--copies"), Error);
    CHECK_THROWS_WITH_AS(augment_dataset(dir.path(), opts(-1)), doctest::Contains("--copies"), Error);
    AugmentOptions o = opts(2);
    o.ops = {"flip", "sepia"};
    CHECK_THROWS_WITH_AS(augment_dataset(dir.path(), o), doctest::Contains("--ops: unknown augmentation op 'sepia'"),
                         Error);
    CHECK_THROWS_WITH_AS(augment_dataset(dir / "nope", opts(2)), doctest::Contains("no such dataset folder"), Error);
    CHECK(augmented_files(dir.path()).empty());
}

TEST_CASE("the order of --ops does not matter") {
    test::TempDir a, b;
    make_dataset(a.path());
    make_dataset(b.path());
    AugmentOptions oa = opts(3), ob = opts(3);
    oa.ops = {"blur", "flip", "gamma"};
    ob.ops = {"gamma", "blur", "flip", "blur"};
    augment_dataset(a.path(), oa);
    augment_dataset(b.path(), ob);
    CHECK(snapshot(a.path()) == snapshot(b.path()));
}
