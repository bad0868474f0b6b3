// End-to-end: scripts/sync.sh with the real gsutil against a file:// bucket, the
// lock shared by sync.sh, retrain.sh and `facepipe enroll`, and enroll's name
// checks. None of these need the face models to run, so they are quick.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>

#include <optional>

#include "e2e_script.h"
#include "lock.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe;
using namespace facepipe::test;

namespace {

std::string gsutil_missing() { return tool_missing("gsutil", "Google Cloud CLI's gsutil"); }

// A working folder: a dataset (the bytes need not be photos: sync never decodes)
// and a valid set of artifacts.
void make_work(const fs::path& work, int people) {
    const std::map<std::string, std::string> files = {
        {"alice/a1.jpg", "alice one"},
        {"alice/a2.jpg", "alice two"},
        {"Zo\xc3\xa9 Smith/z 1.png", "zoe"},
        {"alice/augmented/a1.jpg~0123abcd~00-flip.jpg", "an augmented copy"},
    };
    for (const auto& [rel, bytes] : files) {
        fs::create_directories((work / "dataset" / rel).parent_path());
        spit(work / "dataset" / rel, bytes);
    }
    write_synthetic_artifacts(work, people);
}

std::string url(const fs::path& p) { return "file://" + p.string(); }

bool has_temp_files(const fs::path& dir) {
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().filename().string().rfind(".facepipe-pull", 0) == 0 ||
            e.path().filename().string().find(".pull-") != std::string::npos)
            return true;
    return false;
}

}  // namespace

TEST_CASE("e2e: sync push then pull into a fresh folder is a byte-identical round trip") {
    SKIP_IF(gsutil_missing());
    TempDir tmp;
    const fs::path a = tmp / "a", b = tmp / "b", bucket = tmp / "bucket";
    make_work(a, 3);
    spit(a / "dataset" / "alice" / ".partial.jpg", "hidden files stay home");
    const std::string bucket_url = url(bucket / "prefix");

    auto r = run_script("sync.sh", {"push", "--with-augmented"}, a, {{"FACEPIPE_BUCKET", bucket_url}});
    INFO("push stderr: ", r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(fs::is_regular_file(bucket / "prefix" / "artifacts" / "manifest.json"));
    CHECK(!fs::exists(bucket / "prefix" / "dataset" / "alice" / ".partial.jpg"));

    fs::create_directories(b);
    r = run_script("sync.sh", {"pull", "--with-augmented", "--bucket", bucket_url}, b);
    INFO("pull stderr: ", r.err);
    REQUIRE(r.exit_code == 0);
    fs::remove(a / "dataset" / "alice" / ".partial.jpg");
    std::string diff;
    CHECK_MESSAGE(same_tree(a / "dataset", b / "dataset", &diff), diff);
    for (const char* f : {"encodings.bin", "model.bin", "labels.bin"}) {
        CHECK_MESSAGE(slurp(a / f) == slurp(b / f), f, " differs after the round trip");
        CHECK(file_mode(b / f) == 0600);
    }
    CHECK(!has_temp_files(b));

    // Nothing remote is deleted unless asked: a photo removed locally stays in the
    // bucket, and a default push leaves the augmented copies alone.
    fs::remove(a / "dataset" / "alice" / "a2.jpg");
    spit(a / "dataset" / "alice" / "a3.jpg", "alice three");
    r = run_script("sync.sh", {"push"}, a, {{"FACEPIPE_BUCKET", bucket_url}});
    INFO("second push stderr: ", r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.find("artifacts already in") != std::string::npos);
    CHECK(fs::is_regular_file(bucket / "prefix" / "dataset" / "alice" / "a2.jpg"));
    CHECK(fs::is_regular_file(bucket / "prefix" / "dataset" / "alice" / "a3.jpg"));
    CHECK(fs::is_regular_file(bucket / "prefix" / "dataset" / "alice" / "augmented" /
                              "a1.jpg~0123abcd~00-flip.jpg"));
}

TEST_CASE("e2e: sync pull refuses a corrupted remote artifact and keeps the local ones") {
    SKIP_IF(gsutil_missing());
    TempDir tmp;
    const fs::path a = tmp / "a", c = tmp / "c", bucket = tmp / "bucket";
    make_work(a, 3);
    make_work(c, 2);  // c's own, different, artifacts
    const std::map<std::string, std::string> env{{"FACEPIPE_BUCKET", url(bucket)}};
    auto r = run_script("sync.sh", {"push"}, a, env);
    INFO("push stderr: ", r.err);
    REQUIRE(r.exit_code == 0);
    const std::string c_model = slurp(c / "model.bin"), c_labels = slurp(c / "labels.bin"),
                      c_encodings = slurp(c / "encodings.bin");
    auto local_kept = [&] {
        return slurp(c / "model.bin") == c_model && slurp(c / "labels.bin") == c_labels &&
               slurp(c / "encodings.bin") == c_encodings;
    };

    // One bit flipped in the bucket's model.
    const fs::path remote_model = bucket / "artifacts" / "model.bin";
    std::string bytes = slurp(remote_model);
    bytes[bytes.size() / 2] ^= 0x10;
    spit(remote_model, bytes);
    r = run_script("sync.sh", {"pull"}, c, env);
    INFO("pull stderr: ", r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("model.bin: checksum differs from the manifest") != std::string::npos);
    CHECK(r.err.find("refused, local artifacts kept") != std::string::npos);
    CHECK(local_kept());
    CHECK(!has_temp_files(c));

    // A manifest from a future facepipe is refused before anything is replaced.
    bytes[bytes.size() / 2] ^= 0x10;
    spit(remote_model, bytes);
    const fs::path manifest = bucket / "artifacts" / "manifest.json";
    std::string m = slurp(manifest);
    m.replace(m.find("\"version\": 1"), 12, "\"version\": 7");
    spit(manifest, m);
    r = run_script("sync.sh", {"pull"}, c, env);
    INFO("pull stderr (future manifest): ", r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("newer than this facepipe supports") != std::string::npos);
    CHECK(local_kept());
}

TEST_CASE("e2e: retrain.sh, sync.sh and enroll share one lock: they wait, or skip with exit 3") {
    TempDir tmp;
    const fs::path work = tmp / "work";
    fs::create_directories(work / "dataset");
    std::optional<FileLock> held(std::in_place, default_lock_path(work / "model.bin"), false);

    auto r = run_script("retrain.sh", {"--no-wait"}, work);
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("holds " + (work / "facepipe.lock").string()) == std::string::npos);  // relative path
    CHECK(r.err.find("holds ./facepipe.lock; skipped") != std::string::npos);
    r = run_script("retrain.sh", {"--wait-timeout", "1"}, work);
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("still busy after 1s") != std::string::npos);
    r = run_script("sync.sh", {"pull", "--no-wait", "--bucket", url(tmp / "bucket")}, work);
    CHECK(r.exit_code == 3);

    // enroll waits for the same lock (the photo is refused without the face models,
    // so this needs none), and goes on as soon as it is free.
    spit(work / "notes.txt", "not a photo");
    Child enroll({FACEPIPE_BINARY, "--models", FACEPIPE_TEST_MODEL_DIR, "enroll", "alice", "notes.txt"}, work);
    CHECK(eventually([&] { return enroll.err_so_far().find("waiting") != std::string::npos; }, 10));
    CHECK(enroll.running());
    held.reset();
    const auto e = enroll.wait();
    INFO("enroll stderr: ", e.err);
    CHECK(e.exit_code == 1);
    CHECK(e.err.find("notes.txt: not a usable image") != std::string::npos);
    CHECK(e.out.find("nothing enrolled") != std::string::npos);
}

TEST_CASE("e2e: enroll refuses hostile person names and touches nothing") {
    TempDir tmp;
    spit(tmp / "x.jpg", "never read");
    const std::vector<std::string> names = {
        "", ".", "..", "../evil", "a/b", "/etc", ".hidden", "new\nline", "\x1b[31mred", " lead",
        "trail ", "\xe2\x80\xae" "evil", "bad\xff",
    };
    for (const auto& name : names) {
        const auto r = run_facepipe_m({"enroll", name, "x.jpg"}, tmp.path());
        CHECK_MESSAGE(r.exit_code == 2, "name '", name, "': ", r.err);
        CHECK_MESSAGE(r.err.find("person name") != std::string::npos, r.err);
        CHECK(r.err.find('\x1b') == std::string::npos);  // never echoed raw to a terminal
        CHECK(r.out.empty());
    }
    CHECK(!fs::exists(tmp / "dataset"));
    CHECK(!fs::exists(tmp / "evil"));
    CHECK(!fs::exists(tmp / "facepipe.lock"));
}
