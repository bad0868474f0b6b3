// End-to-end: resource faults through the real binary and scripts. A full disk
// (a small tmpfs, filled) while encode, train, enroll and sync.sh pull write; an
// output folder the user may not write; model.bin replaced while predict runs.
// Each time: one line naming the file and the cause, the previous artifacts as
// they were, and no temporary file left behind.
#include <doctest/doctest.h>

#include <opencv2/imgproc.hpp>

#include <algorithm>

#include "e2e_script.h"
#include "encodings.h"
#include "faces.h"
#include "model_file.h"
#include "resources.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe;
using namespace facepipe::test;

namespace {

std::string gsutil_missing() { return tool_missing("gsutil", "Google Cloud CLI's gsutil"); }

// `n` small faceless pictures (encode records them as "no face": enough to write).
void faceless_photos(const fs::path& folder, int n, int first = 0) {
    fs::create_directories(folder);
    cv::Mat base = faceless_picture();
    cv::Mat small;
    cv::resize(base, small, cv::Size(64, 48));
    for (int i = first; i < first + n; ++i) {
        small.at<cv::Vec3b>(0, 0) = cv::Vec3b(uchar(i), uchar(i * 7), 0);  // each photo its own bytes
        write_image(folder / ("p" + std::to_string(i) + ".png"), small);
    }
}

std::map<std::string, std::string> snapshot(const fs::path& dir) {
    std::map<std::string, std::string> m;
    for (const auto& f : files_under(dir))
        if (f != ".filler") m[f] = slurp(dir / f);
    return m;
}


// The one error line: stderr holds `needle` on exactly one line.
std::string error_line(const RunResult& r, const std::string& needle) {
    const auto lines = lines_with(r.err, needle);
    REQUIRE_MESSAGE(lines.size() == 1, "stderr: ", r.err);
    return lines.front();
}

}  // namespace

TEST_CASE("e2e: encode on a full disk keeps encodings.bin, says so, leaves no temporary") {
    SKIP_IF(mount_missing());
    SKIP_IF(npm_samples_missing());
    TempDir tmp;
    SmallDisk disk(tmp / "disk", 4 << 20);
    const fs::path work = disk.path();
    faceless_photos(work / "dataset" / "alice", 7);
    write_image(work / "dataset" / "alice" / "face.jpg", portrait("sample1-a"));  // one usable face: exit 0
    auto r = run_facepipe_m({"encode", "-j", "2"}, work);
    INFO("first encode: ", r.err);
    REQUIRE(r.exit_code == 0);
    faceless_photos(work / "dataset" / "bob", 8);  // something new to encode
    const auto before = snapshot(work);

    SUBCASE("full from the start: the journal cannot even begin") {
        disk.fill(0);
        r = run_facepipe_m({"encode", "-j", "2"}, work);
        INFO("stderr: ", r.err);
        CHECK(r.exit_code == 1);
        const std::string line = error_line(r, "disk is full");
        CHECK(line.find("encodings.bin") != std::string::npos);
        CHECK(snapshot(work) == before);  // encodings.bin as it was, no journal, no temporary
        CHECK(read_encodings((work / "encodings.bin").string()).records.size() == 8);
    }
    SUBCASE("full mid-run: the run stops cleanly and keeps what it did for the next run") {
        disk.fill(4096);  // room for the journal's first records only (about 5 of 16)
        r = run_facepipe_m({"encode", "-j", "2"}, work);
        INFO("stderr: ", r.err);
        CHECK(r.exit_code == 1);  // before: std::terminate (a worker thread still joinable)
        const std::string line = error_line(r, "disk is full");
        CHECK(line.find("encodings.bin.journal") != std::string::npos);
        CHECK(line.find("for the next run") != std::string::npos);
        auto after = snapshot(work);
        CHECK(after.erase("encodings.bin.journal") == 1);  // the journal, and nothing else, is new
        CHECK(after == before);
        disk.unfill();
        r = run_facepipe_m({"encode", "-j", "2"}, work);
        INFO("after freeing space: ", r.err);
        CHECK(r.exit_code == 0);
        CHECK(r.err.find("recovered") != std::string::npos);
        CHECK(read_encodings((work / "encodings.bin").string()).records.size() == 16);
        CHECK(!fs::exists(work / "encodings.bin.journal"));
    }
}

TEST_CASE("e2e: train on a full disk keeps model.bin and labels.bin as they were") {
    SKIP_IF(mount_missing());
    TempDir tmp;
    SmallDisk disk(tmp / "disk", 1 << 20);
    const fs::path work = disk.path();
    write_synthetic_artifacts(work, 3);
    write_synthetic_artifacts(tmp / "five", 5);
    fs::copy_file(tmp / "five" / "encodings.bin", work / "encodings.bin", fs::copy_options::overwrite_existing);
    const auto before = snapshot(work);
    disk.fill(0);
    const auto r = run_facepipe({"train"}, work);
    INFO("stderr: ", r.err);
    CHECK(r.exit_code == 1);
    const std::string line = error_line(r, "disk is full");
    CHECK(line.find("model.bin: write failed: the disk is full") != std::string::npos);
    CHECK(snapshot(work) == before);
    CHECK(load_model((work / "model.bin").string(), (work / "labels.bin").string()).gallery.names().size() == 3);
}

TEST_CASE("slow e2e: enroll on a full disk changes nothing: dataset, artifacts, no temporaries") {
    SKIP_IF(mount_missing());
    SKIP_IF(npm_samples_missing());
    TempDir tmp;
    SmallDisk disk(tmp / "disk", 16 << 20);
    const fs::path work = disk.path();
    write_image(tmp / "alice.jpg", portrait("sample1-a"));
    write_image(tmp / "bob.jpg", portrait("sample2-a"));
    auto r = run_facepipe_m({"enroll", "alice", (tmp / "alice.jpg").string(), "-n", "1"}, work);
    INFO("first enroll: ", r.err);
    REQUIRE(r.exit_code == 0);
    const auto before = snapshot(work);
    disk.fill(0);
    r = run_facepipe_m({"enroll", "bob", (tmp / "bob.jpg").string(), "-n", "1"}, work);
    INFO("stderr: ", r.err);
    CHECK(r.exit_code == 1);
    const std::string line = error_line(r, "disk is full");
    CHECK(line.find("bob") != std::string::npos);  // the photo it was writing
    CHECK(snapshot(work) == before);
    CHECK(!fs::exists(work / "dataset" / "bob"));
    CHECK(load_model((work / "model.bin").string(), (work / "labels.bin").string()).gallery.names() ==
          std::vector<std::string>{"alice"});
}

TEST_CASE("e2e: sync pull into a full disk fails in one line and keeps the dataset and artifacts") {
    SKIP_IF(mount_missing());
    SKIP_IF(gsutil_missing());
    TempDir tmp;
    const fs::path a = tmp / "a", bucket = tmp / "bucket";
    // The bucket: a dataset of two 200 KB photos and artifacts of 3 people.
    fs::create_directories(a / "dataset" / "alice");
    spit(a / "dataset" / "alice" / "a1.jpg", std::string(200 << 10, '1'));
    spit(a / "dataset" / "alice" / "a2.jpg", std::string(200 << 10, '2'));
    write_synthetic_artifacts(a, 3);
    auto r = run_script("sync.sh", {"push"}, a, {{"FACEPIPE_BUCKET", "file://" + bucket.string()}});
    INFO("push: ", r.err);
    REQUIRE(r.exit_code == 0);

    SmallDisk disk(tmp / "disk", 1 << 20);
    const fs::path b = disk.path();
    fs::create_directories(b / "dataset" / "carol");
    spit(b / "dataset" / "carol" / "c1.jpg", "carol's photo");
    write_synthetic_artifacts(b, 2);
    spit(b / "facepipe.lock", "");  // the lock sync.sh takes (made empty by its first run)
    const std::map<std::string, std::string> env{{"FACEPIPE_BUCKET", "file://" + bucket.string()}};

    SUBCASE("the dataset does not fit") {
        const auto before = snapshot(b);
        disk.fill(100 << 10);  // one photo half fits
        r = run_script("sync.sh", {"pull"}, b, env);
        INFO("stderr: ", r.err);
        CHECK(r.exit_code == 1);
        const std::string line = error_line(r, "error:");
        CHECK(line.find("dataset download failed (the disk holding dataset is full)") != std::string::npos);
        CHECK(snapshot(b) == before);  // the half-copied photo removed; no temporaries
    }
    SUBCASE("the dataset fits, the artifacts do not") {
        fs::copy(a / "dataset" / "alice", b / "dataset" / "alice");
        const auto before = snapshot(b);
        disk.fill(4096);  // room for the manifest only
        r = run_script("sync.sh", {"pull"}, b, env);
        INFO("stderr: ", r.err);
        CHECK(r.exit_code == 1);
        const std::string line = error_line(r, "error:");
        CHECK(line.find("artifact download failed (the disk holding") != std::string::npos);
        CHECK(line.find("is full); local artifacts kept") != std::string::npos);
        CHECK(snapshot(b) == before);
        CHECK(load_model((b / "model.bin").string(), (b / "labels.bin").string()).gallery.names().size() == 2);
    }
}

TEST_CASE("e2e: train into a folder the user may not write: one line naming it, exit 1, nothing written") {
    TempDir tmp;
    write_synthetic_artifacts(tmp / "in", 3);
    fs::permissions(tmp / "in" / "encodings.bin", fs::perms::others_read, fs::perm_options::add);
    const fs::path out = tmp / "out";
    fs::create_directories(out);
    fs::permissions(out, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                             fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
    let_unprivileged_read(out);
    let_unprivileged_read(FACEPIPE_BINARY);
    Child c(as_unprivileged({FACEPIPE_BINARY, "train", "-e", (tmp / "in" / "encodings.bin").string(), "-m",
                             (out / "model.bin").string(), "-l", (out / "labels.bin").string()}),
            tmp.path());
    const auto r = c.wait();
    INFO("stderr: ", r.err);
    CHECK(r.exit_code == 1);
    const std::string line = error_line(r, "Permission denied");
    CHECK(line.find((out / "model.bin").string() + ": cannot create a file in folder " + out.string() +
                    ": Permission denied") != std::string::npos);
    CHECK(files_under(out).empty());
}

TEST_CASE("slow e2e: predict keeps the model it loaded when model.bin is truncated and replaced mid-run") {
    SKIP_IF(npm_samples_missing());
    TempDir tmp;
    const fs::path work = tmp.path();
    // Two models of the same two faces under different names.
    fs::create_directories(work / "dataset" / "alice");
    fs::create_directories(work / "dataset" / "bob");
    write_image(work / "dataset" / "alice" / "a.jpg", portrait("sample1-a"));
    write_image(work / "dataset" / "bob" / "b.jpg", portrait("sample2-a"));
    for (const auto& args : std::vector<std::vector<std::string>>{{"encode"}, {"train"}}) {
        const auto r = run_facepipe_m(args, work);
        INFO(args[0], ": ", r.err);
        REQUIRE(r.exit_code == 0);
    }
    fs::rename(work / "dataset" / "alice", work / "dataset" / "carol");
    fs::rename(work / "dataset" / "bob", work / "dataset" / "dave");
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"encode", "-o", "other.enc"}, {"train", "-e", "other.enc", "-m", "other.model", "-l", "other.labels"}}) {
        const auto r = run_facepipe_m(args, work);
        INFO(args[0], ": ", r.err);
        REQUIRE(r.exit_code == 0);
    }
    // Many inputs on stdin: the two faces and one stranger, over and over.
    write_image(work / "x.jpg", portrait("stranger"));
    std::string list;
    const int kRounds = 20;
    for (int i = 0; i < kRounds; ++i)
        list += (work / "dataset" / "carol" / "a.jpg").string() + "\n" + (work / "dataset" / "dave" / "b.jpg").string() +
                "\n" + (work / "x.jpg").string() + "\n";
    spit(work / "list.txt", list);
    auto argv = facepipe_argv_m({"predict", "-", "--format", "csv"});
    argv.insert(argv.begin(), {"bash", "-c", "exec \"$@\" < list.txt", "bash"});
    Child c(argv, work);
    // Once it has named the first face, truncate the model it read in place, then
    // rename the other model over it.
    REQUIRE(eventually([&] { return parse_predict_csv(c.out_so_far()).size() >= 1; }, 120));
    fs::resize_file(work / "model.bin", 10);
    fs::resize_file(work / "labels.bin", 3);
    fs::rename(work / "other.model", work / "model.bin");
    fs::rename(work / "other.labels", work / "labels.bin");
    const size_t rows_when_replaced = parse_predict_csv(c.out_so_far()).size();
    const auto r = c.wait();
    INFO("stderr: ", r.err);
    CHECK(rows_when_replaced < size_t(3 * kRounds));  // the swap happened while it ran
    CHECK(r.exit_code == 0);
    const auto rows = parse_predict_csv(r.out);
    REQUIRE(rows.size() == size_t(3 * kRounds));
    CHECK(rows[0].label == "alice");
    CHECK(rows[1].label == "bob");
    for (size_t i = 0; i < rows.size(); ++i) {  // every round as the first: the model it loaded
        CHECK_MESSAGE(rows[i].label == rows[i % 3].label, "row ", i, ": ", rows[i].file);
        CHECK(rows[i].distance == doctest::Approx(rows[i % 3].distance));
    }
}
