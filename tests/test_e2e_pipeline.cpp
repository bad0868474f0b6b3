// End-to-end: the documented workflow (augment -> encode -> train -> predict) run
// through the real binary on the shared photos, in a scratch copy of them.
//
// One TEST_CASE on purpose: encoding takes most of the time, so every check runs
// sequentially on one pipeline run (doctest would re-run the case per SUBCASE).
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "e2e.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe::test;

namespace {

int count_files(const fs::path& dir) {
    int n = 0;
    for (auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file()) ++n;
    return n;
}

// Labels predicted for one input file, largest face first.
std::vector<std::string> labels_of(const std::vector<CsvRow>& rows, const std::string& file) {
    std::vector<std::string> labels;
    for (const auto& r : rows)
        if (fs::path(r.file).filename() == file && r.status == "ok") labels.push_back(r.label);
    return labels;
}

}  // namespace

TEST_CASE("e2e: pipeline on shared faces") {
    SKIP_IF(shared_data_missing({"faces", "faces-extra"}));
    const fs::path shared = shared_data();
    const fs::path extra = shared / "faces-extra";

    TempDir tmp;
    // A working folder with a space and non-ASCII in its name: nothing may need quoting.
    const fs::path work = tmp / "work dir é";
    fs::create_directories(work);
    fs::copy(shared / "faces", work / "dataset", fs::copy_options::recursive);
    fs::remove(work / "dataset" / "SOURCES.md");
    const int originals = count_files(work / "dataset");
    REQUIRE(originals > 20);

    // --- augment -----------------------------------------------------------
    auto r = run_facepipe_m({"augment", "-d", "dataset", "-n", "3", "--seed", "1"}, work);
    INFO("augment stdout: ", r.out, "\nstderr: ", r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find(std::to_string(originals) + " originals: " + std::to_string(3 * originals) + " copies created") !=
          std::string::npos);
    CHECK(count_files(work / "dataset") == 4 * originals);
    CHECK(fs::is_directory(work / "dataset" / "obama" / "augmented"));

    // --- encode (twice: the second run must find nothing to do) ------------
    r = run_facepipe_m({"encode", "-d", "dataset", "-o", "encodings.bin", "--format", "json"}, work);
    INFO("encode stdout: ", r.out, "\nstderr: ", r.err);
    REQUIRE(r.exit_code == 0);
    REQUIRE(fs::is_regular_file(work / "encodings.bin"));
    const auto first = nlohmann::json::parse(r.out);
    CHECK(first["images"] == 4 * originals);
    CHECK(first["encoded"] == 4 * originals);
    CHECK(first["reused"] == 0);
    CHECK(first["people"] == 13);

    r = run_facepipe_m({"encode", "-d", "dataset", "-o", "encodings.bin"}, work);  // the default: the table
    INFO("second encode stdout: ", r.out, "\nstderr: ", r.err);
    CHECK(r.exit_code == 0);
    const std::string total = std::to_string(4 * originals);
    CHECK(r.out.rfind(total + " images (0 encoded, " + total + " unchanged", 0) == 0);

    // --- train -------------------------------------------------------------
    r = run_facepipe_m({"train", "-e", "encodings.bin", "-m", "model.bin", "-l", "labels.bin", "--format", "json"},
                       work);
    INFO("train stdout: ", r.out, "\nstderr: ", r.err);
    REQUIRE(r.exit_code == 0);
    REQUIRE(fs::is_regular_file(work / "model.bin"));
    REQUIRE(fs::is_regular_file(work / "labels.bin"));
    const auto trained = nlohmann::json::parse(r.out);
    const auto& loo = trained["leave_one_out"]["per_person"];
    CHECK(loo["evaluated"].get<int>() >= originals - 3);  // nearly every original photo
    CHECK(loo["accuracy"].get<double>() >= 0.90);
    CHECK(trained["vote"]["mode"] == "per-person");
    CHECK(trained["search"]["kind"] == "exact");
    CHECK(trained["people"].size() == 13);
    CHECK(trained["model"] == "model.bin");

    // --- predict, csv, with annotated copies --------------------------------
    const std::vector<std::string> strangers{
        "dlib_2007_007763.jpg", "dlib_2008_001322.jpg", "dlib_2008_002506.jpg", "dlib_2008_007676.jpg",
        "dlib_2009_004587.jpg", "angry.jpg",            "happy.jpg",            "sad.jpg",
        "surprised.jpg",        "neutral.jpg",          "fearful.jpg",          "disgusted.jpg",
        "lin-manuel-miranda.png"};
    std::vector<std::string> inputs{(extra / "obama_and_biden.jpg").string(), (extra / "kit_with_rose.jpg").string()};
    for (const auto& s : strangers) inputs.push_back((extra / s).string());
    std::vector<std::string> args{"predict"};
    args.insert(args.end(), inputs.begin(), inputs.end());
    args.insert(args.end(), {"-m", "model.bin", "-l", "labels.bin", "--format", "csv", "--annotate", "annotated"});
    r = run_facepipe_m(args, work);
    INFO("predict stdout: ", r.out, "\nstderr: ", r.err);
    CHECK(r.exit_code == 0);
    const auto csv = parse_predict_csv(r.out);
    std::set<std::string> files_seen;
    for (const auto& row : csv) {
        files_seen.insert(row.file);
        CHECK_MESSAGE(row.status == "ok", row.file, ": ", row.status, " ", row.error);
    }
    CHECK(files_seen == std::set<std::string>(inputs.begin(), inputs.end()));

    auto sorted = [](std::vector<std::string> v) { std::sort(v.begin(), v.end()); return v; };
    CHECK(sorted(labels_of(csv, "obama_and_biden.jpg")) == std::vector<std::string>{"biden", "obama", "unknown"});
    CHECK(sorted(labels_of(csv, "kit_with_rose.jpg")) == std::vector<std::string>{"kit_harington", "rose_leslie"});
    for (const auto& s : strangers) {
        const auto labels = labels_of(csv, s);
        CHECK_MESSAGE(!labels.empty(), s, ": no face found");
        for (const auto& l : labels) CHECK_MESSAGE(l == "unknown", s, " was named ", l);
    }

    // One JPEG per input, named after it.
    for (const auto& in : inputs) {
        const fs::path out = work / "annotated" / fs::path(in).filename().replace_extension(".jpg");
        REQUIRE_MESSAGE(fs::is_regular_file(out), out.string(), " was not written");
        const std::string bytes = slurp(out);
        CHECK(bytes.size() > 1000);
        CHECK(bytes.rfind("\xFF\xD8\xFF", 0) == 0);
    }
    CHECK(count_files(work / "annotated") == static_cast<int>(inputs.size()));

    // --- the gallery index, forced on this small gallery ------------------------
    // The default train searched exactly; --index hnsw stores a graph in the model,
    // and predict through it must name every face as the exact search did.
    r = run_facepipe_m({"train", "-e", "encodings.bin", "-m", "hnsw model.bin", "-l", "hnsw labels.bin", "--index",
                        "hnsw", "--ef-search", "40", "--format", "json"},
                       work);
    INFO("train --index hnsw stdout: ", r.out, "\nstderr: ", r.err);
    REQUIRE(r.exit_code == 0);
    const auto hnsw = nlohmann::json::parse(r.out)["search"];
    CHECK(hnsw["kind"] == "hnsw");
    CHECK(hnsw["m"] == 32);
    CHECK(hnsw["ef_search"] == 40);
    std::vector<std::string> index_args{"predict"};
    index_args.insert(index_args.end(), inputs.begin(), inputs.end());
    index_args.insert(index_args.end(), {"-m", "hnsw model.bin", "-l", "hnsw labels.bin", "--format", "csv"});
    r = run_facepipe_m(index_args, work);
    INFO("predict (hnsw) stdout: ", r.out, "\nstderr: ", r.err);
    CHECK(r.exit_code == 0);
    const auto indexed = parse_predict_csv(r.out);
    REQUIRE(indexed.size() == csv.size());
    for (std::size_t i = 0; i < csv.size(); ++i) {
        CHECK(indexed[i].file == csv[i].file);
        CHECK_MESSAGE(indexed[i].label == csv[i].label, csv[i].file, " face ", csv[i].face);
        CHECK(indexed[i].distance == doctest::Approx(csv[i].distance).epsilon(1e-4));
    }

    // A damaged index is refused with one line naming the file, not searched.
    {
        std::string bytes = slurp(work / "hnsw model.bin");
        bytes[bytes.size() - 200] ^= 0x5a;
        spit(work / "hnsw model.bin", bytes);
    }
    r = run_facepipe_m({"predict", inputs[0], "-m", "hnsw model.bin", "-l", "hnsw labels.bin"}, work);
    CHECK(r.exit_code != 0);
    CHECK(lines_with(r.err, "hnsw model.bin").size() == 1);
    r = run_facepipe_m({"train", "-e", "encodings.bin", "-m", "x.bin", "-l", "y.bin", "--index", "ivf"}, work);
    CHECK(r.exit_code != 0);
    CHECK(r.err.find("--index") != std::string::npos);
    CHECK(!fs::exists(work / "x.bin"));

    // --- predict, jsonl (paths read from stdin) -------------------------------
    r = run_facepipe_m({"predict", "-", "-m", "model.bin", "-l", "labels.bin", "--format", "jsonl"}, work,
                       (extra / "obama_and_biden.jpg").string() + "\n" + (extra / "happy.jpg").string() + "\n");
    INFO("predict jsonl stdout: ", r.out, "\nstderr: ", r.err);
    CHECK(r.exit_code == 0);
    std::vector<nlohmann::json> objects;
    for (const auto& line : lines_with(r.out, "")) {
        REQUIRE_NOTHROW(objects.push_back(nlohmann::json::parse(line)));
    }
    REQUIRE(objects.size() == 2);
    for (const auto& j : objects) {
        REQUIRE(j.is_object());
        for (const char* key : {"file", "status", "width", "height", "faces", "error"})
            CHECK_MESSAGE(j.contains(key), "jsonl object lacks ", key, ": ", j.dump());
        CHECK(j["status"] == "ok");
        CHECK(j["error"].is_null());
        CHECK(j["width"].get<int>() > 0);
        CHECK(j["height"].get<int>() > 0);
        REQUIRE(j["faces"].is_array());
        for (const auto& f : j["faces"]) {
            for (const char* key : {"box", "label", "known", "distance"}) CHECK(f.contains(key));
            for (const char* key : {"x", "y", "width", "height"}) CHECK(f["box"][key].is_number_integer());
            CHECK(f["known"].is_boolean());
            CHECK(f["distance"].is_number());
            CHECK(f["known"].get<bool>() == (f["label"] != "unknown"));
        }
    }
    CHECK(objects[0]["file"] == (extra / "obama_and_biden.jpg").string());
    CHECK(objects[0]["width"] == 2000);
    CHECK(objects[0]["height"] == 1428);
    CHECK(objects[0]["faces"].size() == 3);
    CHECK(objects[1]["file"] == (extra / "happy.jpg").string());
    REQUIRE(objects[1]["faces"].size() >= 1);
    CHECK(objects[1]["faces"][0]["known"] == false);

    // --- predict on threads: -j 2 prints what -j 1 prints, byte for byte -------
    // Every format, with a bad file, a missing path and three inputs named x.jpg
    // among them (their annotated copies must get the same names); -j 1 is the
    // serial loop.
    fs::create_directories(work / "same" / "a");
    fs::create_directories(work / "same" / "b");
    fs::copy_file(extra / "kit_with_rose.jpg", work / "same" / "a" / "x.jpg");
    spit(work / "same" / "b" / "x.jpg", "not a picture");
    fs::copy_file(extra / "happy.jpg", work / "same" / "x.jpg");
    std::vector<std::string> threaded_inputs = inputs;
    threaded_inputs.insert(threaded_inputs.begin() + 1, {"same", "no such.jpg"});
    for (const std::string format : {"table", "csv", "jsonl"}) {
        RunResult runs[2];
        for (int j : {1, 2}) {
            std::vector<std::string> a{"predict"};
            a.insert(a.end(), threaded_inputs.begin(), threaded_inputs.end());
            a.insert(a.end(), {"-m", "model.bin", "-l", "labels.bin", "--format", format, "--annotate",
                               format + std::to_string(j), "-j", std::to_string(j)});
            runs[j - 1] = run_facepipe_m(a, work);
        }
        INFO(format, " -j 1 stdout: ", runs[0].out, "\nstderr: ", runs[0].err, "\n-j 2 stderr: ", runs[1].err);
        CHECK(runs[0].exit_code == 1);  // the bad file and the missing path
        CHECK(runs[1].exit_code == runs[0].exit_code);
        CHECK(runs[1].out == runs[0].out);
        CHECK(lines_with(runs[0].out, "x.jpg").size() >= 3);
        std::vector<std::string> copies;
        for (const auto& e : fs::directory_iterator(work / (format + "1"))) {
            copies.push_back(e.path().filename().string());
            CHECK_MESSAGE(slurp(e.path()) == slurp(work / (format + "2") / e.path().filename()), e.path());
        }
        CHECK(copies.size() == inputs.size() + 2);  // same/a/x.jpg -> x.jpg, same/x.jpg -> x-1.jpg
        CHECK(count_files(work / (format + "2")) == static_cast<int>(copies.size()));
        CHECK(fs::is_regular_file(work / (format + "2") / "x-1.jpg"));
    }
}
