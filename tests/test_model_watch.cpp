// Tests of lib/model_watch.h: hot reload of model.bin + labels.bin.
#include <doctest/doctest.h>

#include <filesystem>

#include "classifier.h"
#include "train.h"
#include "error.h"
#include "fsutil.h"
#include "model_watch.h"
#include "testutil.h"

using namespace facepipe;
using facepipe::test::TempDir;
namespace fs = std::filesystem;

namespace {

TrainedModel model_of(const std::vector<std::string>& people, const std::string& model_id = "faces-v1") {
    EncodingsFile f;
    f.model_id = model_id;
    for (std::size_t p = 0; p < people.size(); ++p) {
        EncodingRecord r;
        r.person = people[p];
        r.path = r.source = people[p] + "/a.jpg";
        r.faces_found = 1;
        r.box = {0, 0, 100, 100};
        r.descriptor[p] = 1.f;
        f.records.push_back(r);
    }
    return train(f, {}, nullptr);
}

struct Files {
    TempDir dir;
    std::string model = (dir / "model.bin").string(), labels = (dir / "labels.bin").string();
    void save(const TrainedModel& m) const { save_model(m, model, labels); }
};

// Two polls: the first sees the change, the second that it held still.
void settle(ModelWatcher& w) {
    w.poll();
    w.poll();
}

}  // namespace

TEST_CASE("model watch: a retrained model replaces the one in use") {
    Files f;
    f.save(model_of({"alice", "bob"}));
    ModelWatcher w(f.model, f.labels, "faces-v1", std::chrono::milliseconds(0));
    CHECK(w.current()->names().size() == 2);
    settle(w);
    CHECK(w.generation() == 0);  // nothing changed

    f.save(model_of({"alice", "bob", "carol"}));
    w.poll();
    CHECK(w.generation() == 0);  // just changed: wait for the pair to hold still
    w.poll();
    CHECK(w.generation() == 1);
    CHECK(w.current()->names().size() == 3);
    CHECK(w.refused() == 0);
}

TEST_CASE("model watch: a corrupt or foreign replacement is refused once and the old model stays") {
    Files f;
    f.save(model_of({"alice", "bob"}));
    ModelWatcher w(f.model, f.labels, "faces-v1", std::chrono::milliseconds(0));
    const auto in_use = w.current();

    write_file_atomic(f.model, "FPMODEL garbage");
    settle(w);
    CHECK(w.refused() == 1);
    CHECK(w.current() == in_use);
    settle(w);
    CHECK(w.refused() == 1);  // one warning per replacement, not one per poll

    // A pair from another training run: model.bin and labels.bin don't belong together.
    Files other;
    other.save(model_of({"dave", "erin"}));
    f.save(model_of({"alice", "bob"}));
    fs::copy_file(other.labels, f.labels + ".new");
    fs::rename(f.labels + ".new", f.labels);
    settle(w);
    CHECK(w.refused() == 2);
    CHECK(w.current() == in_use);

    // Trained on descriptors of other face models.
    f.save(model_of({"alice", "bob", "carol"}, "faces-v2"));
    settle(w);
    CHECK(w.refused() == 3);
    CHECK(w.current() == in_use);
    CHECK(w.generation() == 0);

    // A good one after all that is taken.
    f.save(model_of({"alice", "bob", "carol"}));
    settle(w);
    CHECK(w.generation() == 1);
    CHECK(w.current()->names().size() == 3);
}

// How soon is poll()'s business (two polls, tested above); this checks only that
// the thread polls by itself. The wait is a safety net against a hang, not a speed test.
TEST_CASE("model watch: the background thread picks up a new model by itself") {
    Files f;
    f.save(model_of({"alice", "bob"}));
    ModelWatcher w(f.model, f.labels, "faces-v1", std::chrono::milliseconds(50));
    f.save(model_of({"alice", "bob", "carol"}));
    REQUIRE(test::eventually([&] { return w.generation() > 0; }, 120));
    CHECK(w.generation() == 1);
    CHECK(w.current()->names().size() == 3);
    CHECK(w.refused() == 0);
}

TEST_CASE("model watch: a missing or foreign model at start is an error") {
    Files f;
    CHECK_THROWS_AS(ModelWatcher(f.model, f.labels, "faces-v1"), Error);
    f.save(model_of({"alice", "bob"}, "faces-v2"));
    CHECK_THROWS_WITH_AS(ModelWatcher(f.model, f.labels, "faces-v1"), doctest::Contains("other face models"),
                         ModelError);
}
