// End-to-end with the face models: `facepipe enroll` and scripts/retrain.sh on a
// few shared photos (2-3 people, one augmented copy each, to stay quick).
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "classifier.h"
#include "train.h"
#include "e2e_script.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe;
using namespace facepipe::test;

namespace {

fs::path faces() { return shared_data() / "faces"; }

std::vector<std::string> photos_of(const std::string& person) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(faces() / person)) out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
}

void copy_person(const std::string& person, const fs::path& dataset) {
    fs::create_directories(dataset / person);
    for (const auto& p : photos_of(person)) fs::copy_file(p, dataset / person / fs::path(p).filename());
}

// retrain.sh with one augmented copy per photo.
const std::map<std::string, std::string> kEnv{{"FACEPIPE_COPIES", "1"}};

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("slow e2e: enroll adds a new person whom predict then names") {
    SKIP_IF(shared_data_missing({"faces"}));
    TempDir tmp;
    const fs::path work = tmp.path();
    for (const char* person : {"obama", "kit_harington"}) {
        std::vector<std::string> args{"enroll", person, "-n", "1"};
        for (const auto& p : photos_of(person)) args.push_back(p);
        const auto r = run_facepipe_m(args, work);
        INFO("enroll ", person, ": ", r.out, r.err);
        REQUIRE(r.exit_code == 0);
    }
    // Amy, under a name typed in NFD (e + U+0301): 4 photos, one twice, plus a
    // file that is not an image and a photo of three people. Her 5th photo is kept
    // back to ask predict about.
    const auto amy = photos_of("amy");
    REQUIRE(amy.size() == 5);
    spit(work / "notes.jpg", "not a photo");
    const fs::path group = shared_data() / "faces-extra" / "obama_and_biden.jpg";
    const auto r = run_facepipe_m({"enroll", "Zoe\xcc\x81", "-n", "1", amy[0], amy[1], amy[2], amy[3], amy[0],
                                   "notes.jpg", group.string()},
                                  work);
    INFO("enroll Zoé: ", r.out, r.err);
    CHECK(r.exit_code == 1);  // two photos refused
    CHECK(r.out.find("Zo\xc3\xa9: 4 photos added (new person), 1 already enrolled, 2 refused") != std::string::npos);
    CHECK(r.out.find("people in the model: 2 -> 3 (+1)") != std::string::npos);
    CHECK(r.out.find("encodings: 14 -> 22 (+8)") != std::string::npos);
    CHECK(r.err.find("notes.jpg: not a usable image") != std::string::npos);
    CHECK(r.err.find("obama_and_biden.jpg: shows 3 faces") != std::string::npos);
    CHECK(fs::is_directory(work / "dataset" / "Zo\xc3\xa9"));  // the NFC folder, only
    CHECK(!fs::exists(work / "dataset" / "Zoe\xcc\x81"));

    const auto p = run_facepipe_m({"predict", amy[4], "--format", "csv"}, work);
    INFO("predict: ", p.out, p.err);
    CHECK(p.exit_code == 0);
    const auto rows = parse_predict_csv(p.out);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].label == "Zo\xc3\xa9");
}

TEST_CASE("slow e2e: retrain.sh is a no-op when nothing changed, and concurrent runs serialise") {
    SKIP_IF(shared_data_missing({"faces"}));
    TempDir tmp;
    const fs::path work = tmp.path();
    copy_person("rose_leslie", work / "dataset");
    copy_person("kit_harington", work / "dataset");

    // Two runs started together: one works, the other waits for the lock and then
    // finds nothing to do. Had they collided, both would have retrained.
    Child first(script_argv("retrain.sh", {}), work, script_env(kEnv));
    Child second(script_argv("retrain.sh", {}), work, script_env(kEnv));
    const auto r1 = first.wait(), r2 = second.wait();
    INFO("first: ", r1.out, r1.err, "\nsecond: ", r2.out, r2.err);
    REQUIRE(r1.exit_code == 0);
    REQUIRE(r2.exit_code == 0);
    const std::string outs = r1.out + r2.out;
    CHECK(lines_with(outs, "retrained").size() == 1);
    CHECK(lines_with(outs, "nothing changed").size() == 1);
    CHECK(lines_with(r1.err + r2.err, "waiting for ./facepipe.lock").size() == 1);
    REQUIRE(Classifier::load((work / "model.bin").string(), (work / "labels.bin").string()).names().size() == 2);

    auto t0 = std::chrono::steady_clock::now();
    auto r = run_script("retrain.sh", {}, work, kEnv);
    const double noop = seconds_since(t0);
    INFO("third: ", r.out, r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "nothing changed\n");
    CHECK(noop < 5.0);

    copy_person("alex_lacamoire", work / "dataset");
    t0 = std::chrono::steady_clock::now();
    r = run_script("retrain.sh", {}, work, kEnv);
    const double one_person = seconds_since(t0);
    INFO("after a new person: ", r.out, r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "retrained\n");
    CHECK(Classifier::load((work / "model.bin").string(), (work / "labels.bin").string()).names().size() == 3);
    MESSAGE("retrain.sh: no-op ", noop, " s; after one new person (3 photos, 1 copy each) ", one_person, " s");
}

TEST_CASE("slow e2e: kill -9 of retrain.sh midway leaves the previous model valid and loadable") {
    SKIP_IF(shared_data_missing({"faces"}));
    TempDir tmp;
    const fs::path work = tmp.path();
    copy_person("rose_leslie", work / "dataset");
    copy_person("kit_harington", work / "dataset");
    auto r = run_script("retrain.sh", {}, work, kEnv);
    INFO("first: ", r.out, r.err);
    REQUIRE(r.exit_code == 0);
    const std::string model = slurp(work / "model.bin"), labels = slurp(work / "labels.bin");

    // Enough new photos (8 people, 4 copies each) that encoding them takes seconds
    // even on a fast machine: the kill below must land inside the encode step,
    // not after it (a 30-image encode once finished within the old 500 ms wait).
    const std::vector<std::string> added = {"penny", "sheldon", "leonard", "howard", "raj", "amy", "bernadette", "stuart"};
    for (const auto& person : added) copy_person(person, work / "dataset");
    const std::map<std::string, std::string> more_copies{{"FACEPIPE_COPIES", "4"}};
    Child run(script_argv("retrain.sh", {}), work, script_env(more_copies));
    // Kill the whole process group (the script and the facepipe it runs) as soon as
    // it starts to encode.
    REQUIRE(eventually([&] { return run.err_so_far().find("retrain: encode") != std::string::npos; }, 60));
    run.kill_group(SIGKILL);
    const auto killed = run.wait();
    INFO("killed run: ", killed.err);
    CHECK(killed.exit_code == 128 + SIGKILL);
    CHECK(killed.err.find("retrain: train") == std::string::npos);  // it died before training

    CHECK(slurp(work / "model.bin") == model);
    CHECK(slurp(work / "labels.bin") == labels);
    CHECK(Classifier::load((work / "model.bin").string(), (work / "labels.bin").string()).names().size() == 2);
    const auto p = run_facepipe_m({"predict", photos_of("rose_leslie")[0], "--format", "csv"}, work);
    CHECK(p.exit_code == 0);

    // The next run is not fooled into a no-op, takes the (released) lock, and finishes the job.
    r = run_script("retrain.sh", {"--wait-timeout", "30"}, work, more_copies);
    INFO("after the kill: ", r.out, r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "retrained\n");
    CHECK(Classifier::load((work / "model.bin").string(), (work / "labels.bin").string()).names().size() ==
          2 + added.size());
}
