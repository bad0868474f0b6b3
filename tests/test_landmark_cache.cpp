// Tests of lib/landmark_cache.h: the cache gives dlib's own landmarks (and so the
// same chips and descriptors) on real faces, and a cache that is corrupt, of
// another version, truncated or made from another model is never used.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <fstream>

#include "align.h"
#include "container.h"
#include "detect.h"
#include "e2e.h"
#include "embed.h"
#include "error.h"
#include "faces.h"
#include "fsutil.h"
#include "hash.h"
#include "hog_detector.h"
#include "image.h"
#include "landmark_cache.h"
#include "ssd_model.h"
#include "models.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe;

namespace {

doctest::Contains contains(const std::string& s) { return doctest::Contains(s.c_str()); }

// One cache per test process, written (and so verified) by write_landmark_cache
// from the test models' shape predictor: it costs a few seconds.
const fs::path& written_cache() {
    static test::TempDir dir;
    static const fs::path cache = [] {
        const LandmarkCacheReport r = write_landmark_cache(test::test_model_files().landmarks, dir / kLandmarkCacheFile);
        CHECK(r.shapes_checked > 0);
        CHECK(r.source_sha256 == test::test_model_files().landmarks_sha256);
        return r.cache;
    }();
    return cache;
}

// dlib's own deserialisation of the test models' shape predictor (no cache).
const Aligner& dlib_aligner() {
    static const Aligner a(test::test_model_files().landmarks);
    return a;
}

bool same_shape(const dlib::full_object_detection& a, const dlib::full_object_detection& b) {
    if (a.get_rect() != b.get_rect() || a.num_parts() != b.num_parts()) return false;
    for (unsigned long i = 0; i < a.num_parts(); ++i)
        if (a.part(i) != b.part(i)) return false;
    return true;
}

// A copy of the written cache at `path`, its bytes passed through `edit`.
void edited_copy(const fs::path& path, const std::function<void(std::string&)>& edit) {
    std::string bytes = read_file(written_cache().string());
    edit(bytes);
    std::ofstream(path, std::ios::binary) << bytes;
}

// A copy of the written cache whose payload went through `edit` and that carries
// a valid checksum again: a hand-made hostile file.
void rechecksummed_copy(const fs::path& path, const std::function<void(std::string&)>& edit) {
    std::string payload = read_container(written_cache().string(), "FPLMCACH", "landmark cache", 1).payload;
    edit(payload);
    write_container(path.string(), "FPLMCACH", 1, payload, 0644);
}

std::string open_error(const fs::path& cache, const fs::path& source, const std::string& sha = "") {
    try {
        LandmarkCache::open(cache, source, sha);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

// Where the 68-point model's arrays lie in the payload (docs/formats.md): after
// the 72-byte header, each array starts at the next file offset that is a
// multiple of 64 (the payload starts at file offset 52).
constexpr std::size_t up64(std::size_t at) { return (52 + at + 63) / 64 * 64 - 52; }
constexpr std::size_t kAnchorsAt = up64(up64(72) + 68 * 2 * 4);        // after the initial shape
constexpr std::size_t kSplitsAt = up64(up64(kAnchorsAt + 15 * 500 * 4) + 15 * 500 * 8);  // after anchors, deltas

struct EnvVar {
    EnvVar(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
    ~EnvVar() { ::unsetenv(name_); }
    const char* name_;
};

}  // namespace

TEST_CASE("landmark cache: dlib's landmarks, chips and descriptors on real faces") {
    SKIP_IF(test::npm_samples_missing());
    SKIP_IF(test::shared_data_missing({"faces"}));
    std::vector<fs::path> photos;
    for (int i = 1; i <= 6; ++i) photos.push_back(test::npm_samples() / ("sample" + std::to_string(i) + ".jpg"));
    for (const auto& person : fs::directory_iterator(test::shared_data() / "faces"))
        if (person.is_directory())
            for (const auto& f : fs::directory_iterator(person.path()))
                if (looks_like_image_path(f.path())) photos.push_back(f.path());
    std::sort(photos.begin(), photos.end());

    const auto& files = test::test_model_files();
    const Aligner cached(files.landmarks, written_cache());
    REQUIRE(cached.cached());
    REQUIRE_FALSE(dlib_aligner().cached());
    const auto cache = LandmarkCache::open(written_cache(), files.landmarks);

    FaceDetector detector;
    std::vector<Chip> ours, theirs;
    int shapes = 0, differ = 0;
    for (const auto& photo : photos) {
        CAPTURE(photo);
        const LoadedImage img = load_image(photo.string());
        for (const auto& d : detector.detect(img.bgr)) {
            // The detector's box, and the same box moved and grown: other pixels, other leaves.
            const Box moved{d.box.x + d.box.width / 7, d.box.y - d.box.height / 9, d.box.width * 6 / 5, d.box.height * 6 / 5};
            for (const Box& b : {d.box, moved}) {
                const auto mine = cached.landmarks(img.bgr, b);
                const auto dlibs = dlib_aligner().landmarks(img.bgr, b);
                ++shapes;
                differ += !same_shape(mine, dlibs);
                const dlib::rectangle r(b.x, b.y, b.x + b.width - 1, b.y + b.height - 1);
                CHECK(same_shape(cache->predict(img.bgr, r), dlibs));
                if (&b == &d.box) {
                    ours.push_back(Aligner::chip(img.bgr, mine));
                    theirs.push_back(Aligner::chip(img.bgr, dlibs));
                }
            }
        }
    }
    MESSAGE(photos.size() << " photos, " << shapes << " landmark sets compared, " << differ << " differ");
    CHECK(shapes >= 2 * 60);  // every photo has a face; the npm samples have many
    CHECK(differ == 0);       // exactly equal: the same float operations in the same order
    REQUIRE(ours.size() == theirs.size());
    int chips_differ = 0, descriptors_differ = 0;
    for (size_t i = 0; i < ours.size(); ++i) chips_differ += !(ours[i] == theirs[i]);
    CHECK(chips_differ == 0);
    Embedder embedder(files.recognition);
    const auto a = embedder.compute(ours), b = embedder.compute(theirs);
    REQUIRE(a.size() == ours.size());
    for (size_t i = 0; i < a.size(); ++i) descriptors_differ += !(a[i] == b[i]);
    CHECK(descriptors_differ == 0);
}

TEST_CASE("landmark cache: its header and mode") {
    const std::string bytes = read_file(written_cache().string());
    CHECK(bytes.substr(0, 8) == "FPLMCACH");
    CHECK(bytes[8] == 1);
    struct stat st {};
    REQUIRE(::stat(written_cache().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0644);  // a copy of a public model
    const auto c = LandmarkCache::open(written_cache(), test::test_model_files().landmarks);
    CHECK(c->num_parts() == 68);
    CHECK(c->source().sha256 == test::test_model_files().landmarks_sha256);
    CHECK(c->source().size == fs::file_size(test::test_model_files().landmarks));
}

TEST_CASE("landmark cache: a damaged, foreign or stale cache is refused, and the Aligner falls back to dlib") {
    test::TempDir dir;
    const fs::path source = test::test_model_files().landmarks;
    const fs::path bad = dir / "bad.fpcache";
    struct Case {
        const char* what;
        std::function<void(std::string&)> edit;
        const char* cause;
    };
    const std::vector<Case> cases = {
        {"newer version", [](std::string& b) { b[8] = 2; }, "format version 2 is newer than this facepipe supports (1)"},
        {"version 0", [](std::string& b) { b[8] = 0; }, "corrupted: format version 0"},
        {"bit flip in the leaves", [](std::string& b) { b[b.size() - 100] ^= 1; }, "corrupted: checksum mismatch"},
        {"truncated payload", [](std::string& b) { b.resize(b.size() / 2); }, "truncated: header says"},
        {"truncated header", [](std::string& b) { b.resize(30); }, "truncated: file ends inside the header"},
        {"another kind of file", [](std::string& b) { b.replace(0, 8, "FPMODEL"); b[7] = 0; }, "not a facepipe landmark cache file (bad magic)"},
        {"empty", [](std::string& b) { b.clear(); }, "empty file"},
    };
    SUBCASE("damaged files") {
        for (const auto& c : cases) {
            CAPTURE(c.what);
            edited_copy(bad, c.edit);
            CHECK_MESSAGE(open_error(bad, source).find(bad.string() + ": " + c.cause) == 0, open_error(bad, source));
        }
        // The Aligner turns any of these errors into dlib's deserialisation (one is enough: each costs a second).
        CHECK_FALSE(Aligner(source, bad).cached());
    }

    SUBCASE("hostile payloads with a valid checksum") {
        rechecksummed_copy(bad, [](std::string& p) { p[0] = 0; p[1] = 0; });  // 0 landmarks
        CHECK(open_error(bad, source) == bad.string() + ": corrupted: dimensions out of range");
        rechecksummed_copy(bad, [](std::string& p) { p.resize(p.size() - 4); });
        CHECK(open_error(bad, source).find("corrupted: payload of") != std::string::npos);
        // The first split's first feature pixel: past the 500 of its cascade level.
        rechecksummed_copy(bad, [](std::string& p) {
            const std::uint32_t far = 500;
            std::memcpy(&p[kSplitsAt], &far, 4);
        });
        CHECK(open_error(bad, source) == bad.string() + ": corrupted: a split on a missing feature pixel");
        rechecksummed_copy(bad, [](std::string& p) {
            const std::uint32_t far = 68;
            std::memcpy(&p[kAnchorsAt + 4 * 1234], &far, 4);
        });
        CHECK(open_error(bad, source) == bad.string() + ": corrupted: anchor 68 past the last landmark");
    }

    SUBCASE("stale: made from another shape predictor") {
        // A source of other content (so another size, and another SHA-256).
        const fs::path other = dir / "other.dat";
        std::ofstream(other) << "not the model";
        CHECK(open_error(written_cache(), other).find(written_cache().string() + ": stale: made from a shape predictor with sha256 " +
                                                      test::test_model_files().landmarks_sha256 + ", " + other.string() +
                                                      " has ") == 0);
        // A SHA-256 already known (models.h verify_models) wins over the size and time.
        CHECK(open_error(written_cache(), source, std::string(64, '0')).find(": stale: ") != std::string::npos);
        CHECK_FALSE(Aligner(source, written_cache(), std::string(64, '0')).cached());
        // The same content with another modification time: read and found equal, so used.
        const fs::path copy = dir / "copy.dat";
        fs::copy_file(source, copy);
        CHECK(open_error(written_cache(), copy) == "");
        CHECK(Aligner(copy, written_cache()).cached());
    }

    SUBCASE("missing, or disabled by FACEPIPE_NO_LANDMARK_CACHE") {
        CHECK(open_error(dir / "none.fpcache", source).find("cannot open") != std::string::npos);
        CHECK_FALSE(Aligner(source, dir / "none.fpcache").cached());
        CHECK(Aligner(source, written_cache()).cached());
        EnvVar off(kNoLandmarkCacheEnv, "1");
        CHECK_FALSE(landmark_cache_enabled());
        CHECK_FALSE(Aligner(source, written_cache()).cached());
    }
}

TEST_CASE("landmark cache: recorded_landmark_sha256 reads the record, for its source's size and time only") {
    test::TempDir dir;
    const fs::path source = test::test_model_files().landmarks;
    CHECK(recorded_landmark_sha256(written_cache(), source) == test::test_model_files().landmarks_sha256);
    // Another file (another size), the same content at another time, no cache, not a cache: nothing recorded.
    const fs::path other = dir / "other.dat", copy = dir / "copy.dat";
    std::ofstream(other) << "not the model";
    CHECK(recorded_landmark_sha256(written_cache(), other) == "");
    fs::copy_file(source, copy);
    fs::last_write_time(copy, fs::last_write_time(source) + std::chrono::seconds(1));
    CHECK(recorded_landmark_sha256(written_cache(), copy) == "");
    CHECK(recorded_landmark_sha256(dir / "none.fpcache", source) == "");
    CHECK(recorded_landmark_sha256(other, source) == "");
}

TEST_CASE("landmark cache: write_landmark_cache refuses a file that is not a shape predictor") {
    test::TempDir dir;
    std::ofstream(dir / "x.dat") << "hello";
    CHECK_THROWS_WITH_AS(write_landmark_cache(dir / "x.dat", dir / "x.fpcache"),
                         contains((dir / "x.dat").string() + ": not a dlib shape predictor"), Error);
    CHECK_FALSE(fs::exists(dir / "x.fpcache"));
}

TEST_CASE("slow e2e: models import and models cache write the landmark cache, the models load from it, and without it when it is corrupt") {
    const fs::path model_src = fs::path(FACEPIPE_SOURCE_DIR) / ".cache/npm/face-api/package/model";
    SKIP_IF(fs::exists(model_src) ? "" : "npm face-api missing: run scripts/setup.sh");
    test::TempDir dir;
    const fs::path models = dir / "models";
    const auto imp = test::run_facepipe({"models", "import", model_src.string(), "-o", models.string()}, dir.path());
    INFO(imp.err);
    REQUIRE(imp.exit_code == 0);
    const fs::path cache = models / kLandmarkCacheFile;
    CHECK(fs::exists(cache));
    CHECK(imp.out.find(cache.string() + "  sha256 ") != std::string::npos);
    CHECK(LandmarkCache::open(cache, test::test_model_files().landmarks)->num_parts() == 68);

    const auto with = test::run_facepipe({"--models", models.string(), "models", "show", "--load", "-v"}, dir.path());
    CHECK(with.exit_code == 0);
    CHECK(with.err.find("landmark model loaded from its cache") != std::string::npos);
    // The SSD face detector is converted too, and shown verified.
    CHECK(imp.out.find((models / kSsdModelFile).string() + "  sha256 ") != std::string::npos);
    CHECK(with.out.find("  ssd         " + (models / kSsdModelFile).string() + " sha256 ") != std::string::npos);

    // models cache writes only the cache, here into another folder.
    const auto only = test::run_facepipe({"--models", models.string(), "models", "cache", "-o", dir.path().string()}, dir.path());
    CHECK(only.exit_code == 0);
    CHECK(only.out == (dir / kLandmarkCacheFile).string() + "  sha256 " + sha256_file(cache.string()) + "\n");

    edited_copy(cache, [](std::string& b) { b[b.size() / 2] ^= 0x40; });
    const auto without = test::run_facepipe({"--models", models.string(), "models", "show", "--load"}, dir.path());
    CHECK(without.exit_code == 0);
    CHECK(test::lines_with(without.err, "warning: " + cache.string() + ": corrupted: checksum mismatch (not used; loading").size() == 1);
}

TEST_CASE("the built-in HOG detector is dlib's get_frontal_face_detector(), byte for byte") {
    std::ostringstream ours(std::ios::binary), dlibs(std::ios::binary);
    dlib::serialize(frontal_face_detector(), ours);
    dlib::serialize(dlib::get_frontal_face_detector(), dlibs);
    CHECK(ours.str().size() > 100000);
    CHECK(ours.str() == dlibs.str());
}
