// Tests of lib/face_groups.h: clustering synthetic descriptors with known
// groups, stable ids across re-runs, merges, "maybe NAME", and groups.bin
// (round trip and hostile files).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <set>

#include "container.h"
#include "error.h"
#include "face_groups.h"
#include "fsutil.h"
#include "gallery.h"
#include "testutil.h"

using namespace facepipe;

namespace {

// People whose faces lie ~0.2 from their centre and whose centres lie ~1.0
// apart: the geometry of dlib's face descriptors (same person < 0.6).
struct Synthetic {
    std::vector<Descriptor> centres;
    std::mt19937 rng;
    explicit Synthetic(int people, unsigned seed = 7) : rng(seed) {
        std::normal_distribution<float> n(0.f, 0.0625f);
        centres.resize(people);
        for (auto& c : centres)
            for (float& v : c) v = n(rng);
    }
    Descriptor face(int person) {
        std::normal_distribution<float> n(0.f, 0.018f);
        Descriptor d = centres[person];
        for (float& v : d) v += n(rng);
        return d;
    }
};

// Faces of `people` people, `each` per person, interleaved (person i % people), ids first_id...
struct Faces {
    std::vector<std::uint64_t> ids;
    std::vector<Descriptor> d;
    std::map<std::uint64_t, int> person;
    void add(std::uint64_t id, int p, Synthetic& s) {
        ids.push_back(id);
        d.push_back(s.face(p));
        person[id] = p;
    }
    void remove_if(const std::function<bool(std::uint64_t)>& drop) {
        Faces out;
        for (std::size_t i = 0; i < ids.size(); ++i)
            if (!drop(ids[i])) out.ids.push_back(ids[i]), out.d.push_back(d[i]), out.person[ids[i]] = person[ids[i]];
        *this = out;
    }
};

Faces make_faces(Synthetic& s, int people, int each, std::uint64_t first_id = 1) {
    Faces f;
    for (int k = 0; k < people * each; ++k) f.add(first_id + k, k % people, s);
    return f;
}

// person -> group id, checking every group holds one person only.
std::map<int, std::uint64_t> check_pure(const std::vector<FaceGroup>& groups, const Faces& f) {
    std::map<int, std::uint64_t> of;
    for (const auto& g : groups) {
        std::set<int> persons;
        for (auto id : g.members) persons.insert(f.person.at(id));
        CHECK(persons.size() == 1);
        of[*persons.begin()] = g.id;
    }
    return of;
}

std::string bytes_of(const GroupsState& s) { return groups_file_bytes(s); }

}  // namespace

TEST_CASE("cluster_descriptors finds known groups, deterministically") {
    Synthetic s(6);
    Faces f = make_faces(s, 6, 7);
    const std::vector<int> c = cluster_descriptors(f.d, kDefaultClusterThreshold);
    REQUIRE(c.size() == f.d.size());
    CHECK(*std::max_element(c.begin(), c.end()) == 5);  // six clusters
    for (std::size_t i = 0; i < c.size(); ++i) CHECK(c[i] == f.person[f.ids[i]]);  // numbered by first member
    CHECK(cluster_descriptors(f.d, kDefaultClusterThreshold) == c);

    // A threshold below every same-person distance leaves each face alone; one
    // above every distance joins all.
    const std::vector<int> alone = cluster_descriptors(f.d, 0.01f);
    CHECK(std::set<int>(alone.begin(), alone.end()).size() == f.d.size());
    const std::vector<int> all = cluster_descriptors(f.d, 10.f);
    CHECK(std::set<int>(all.begin(), all.end()).size() == 1);
    CHECK(cluster_descriptors({}, 0.5f).empty());
}

TEST_CASE("cluster_descriptors joins must-link sets") {
    Synthetic s(3);
    Faces f = make_faces(s, 3, 4);
    const std::vector<int> c = cluster_descriptors(f.d, kDefaultClusterThreshold, {{0, 1}});  // persons 0 and 1
    CHECK(c[0] == c[1]);
    CHECK(c[3] == c[0]);  // person 0's other faces come along
    CHECK(c[4] == c[1]);
    CHECK(c[2] != c[0]);
}

TEST_CASE("regroup: pure groups, the same ids on a re-run, after new faces and after removals") {
    Synthetic s(5);
    Faces f = make_faces(s, 4, 6);  // persons 0-3
    GroupsState state;
    const auto g1 = regroup(f.ids, f.d, kDefaultClusterThreshold, state);
    CHECK(g1.size() == 4);
    const auto ids1 = check_pure(g1, f);
    CHECK(state.next_id == 5);
    CHECK(state.group_of.size() == f.ids.size());

    const auto g2 = regroup(f.ids, f.d, kDefaultClusterThreshold, state);
    CHECK(check_pure(g2, f) == ids1);
    CHECK(state.next_id == 5);

    // New faces: more of persons 0-3 and a new person 4, who gets a new id.
    for (int k = 0; k < 10; ++k) f.add(100 + k, k % 5, s);
    const auto g3 = regroup(f.ids, f.d, kDefaultClusterThreshold, state);
    auto ids3 = check_pure(g3, f);
    CHECK(ids3.at(4) == 5);
    ids3.erase(4);
    CHECK(ids3 == ids1);
    CHECK(state.next_id == 6);

    // The oldest faces leave the store (the bound); the groups keep their ids.
    f.remove_if([](std::uint64_t id) { return id <= 8; });
    const auto g4 = regroup(f.ids, f.d, kDefaultClusterThreshold, state);
    auto ids4 = check_pure(g4, f);
    CHECK(ids4.at(4) == 5);
    ids4.erase(4);
    CHECK(ids4 == ids1);
    for (std::uint64_t id = 1; id <= 8; ++id) CHECK(state.group_of.count(id) == 0);

    // Sorted largest first, and the representative is a member.
    for (std::size_t i = 1; i < g4.size(); ++i) CHECK(g4[i - 1].members.size() >= g4[i].members.size());
    for (const auto& g : g4)
        CHECK(std::find(g.members.begin(), g.members.end(), g.representative) != g.members.end());
}

TEST_CASE("regroup: a group that splits keeps its id where most of its faces go") {
    Synthetic s(2);
    Faces f = make_faces(s, 2, 5);  // persons 0 and 1
    GroupsState state;
    regroup(f.ids, f.d, 10.f, state);  // a huge threshold: one group of both
    REQUIRE(state.next_id == 2);
    f.add(50, 1, s);  // person 1 now has 6 faces, 5 of them in group 1
    const auto g = regroup(f.ids, f.d, kDefaultClusterThreshold, state);
    const auto ids = check_pure(g, f);
    CHECK(ids.at(0) == 2);  // both clusters want id 1: 5 votes each, the larger (person 1, 6 faces) wins
    CHECK(ids.at(1) == 1);
}

TEST_CASE("merge_into is remembered: a re-run keeps the merged group, under its id") {
    Synthetic s(3);
    Faces f = make_faces(s, 3, 4);
    GroupsState state;
    const auto ids = check_pure(regroup(f.ids, f.d, kDefaultClusterThreshold, state), f);
    const std::uint64_t a = ids.at(0), b = ids.at(1), c = ids.at(2);
    merge_into(state, a, b);
    CHECK(members_of(state, a).size() == 8);
    CHECK(members_of(state, b).empty());
    CHECK(state.merged == std::set<std::uint64_t>{a});

    for (int run = 0; run < 2; ++run) {
        for (int k = 0; k < 3; ++k) f.add(200 + run * 10 + k, k, s);  // new faces of all three
        const auto g = regroup(f.ids, f.d, kDefaultClusterThreshold, state);
        REQUIRE(g.size() == 2);
        std::map<std::uint64_t, std::set<int>> persons;
        for (const auto& grp : g)
            for (auto id : grp.members) persons[grp.id].insert(f.person[id]);
        CHECK(persons[a] == std::set<int>{0, 1});
        CHECK(persons[c] == std::set<int>{2});
        CHECK(state.next_id == 4);  // no new id handed out
    }
    // It survives the file too.
    test::TempDir dir;
    write_groups(groups_path(dir.path()), state);
    GroupsState back = read_groups(groups_path(dir.path()));
    CHECK(back.merged == std::set<std::uint64_t>{a});
    const auto g = regroup(f.ids, f.d, kDefaultClusterThreshold, back);
    CHECK(g.size() == 2);
}

TEST_CASE("representative is the member nearest the mean") {
    std::vector<Descriptor> d(3);
    d[0][0] = 0.f;
    d[1][0] = 1.f;
    d[2][0] = 0.6f;  // mean 0.533: nearest is d[2]
    CHECK(representative(d, {0, 1, 2}) == 2);
    CHECK(representative(d, {0, 1}) == 0);  // tie: the first
}

TEST_CASE("maybe_person names the enrolled person a group is near, within the distance") {
    Synthetic s(3);
    Gallery::Rows rows;
    rows.names = {"ann", "bob"};
    rows.source_paths = {"a.jpg", "b.jpg"};
    for (int p = 0; p < 2; ++p)
        for (int k = 0; k < 3; ++k) {
            const Descriptor d = s.face(p);
            rows.descriptors.insert(rows.descriptors.end(), d.begin(), d.end());
            rows.labels.push_back(p);
            rows.sources.push_back(p);
        }
    const Gallery gallery(rows, nullptr);
    std::vector<Descriptor> bobs = {s.face(1), s.face(1), s.face(1)}, strangers = {s.face(2), s.face(2)};
    auto ptrs = [](const std::vector<Descriptor>& v) {
        std::vector<const Descriptor*> out;
        for (const auto& d : v) out.push_back(&d);
        return out;
    };
    float dist = 0;
    CHECK(maybe_person(gallery, ptrs(bobs), 0.6f, &dist) == "bob");
    CHECK(dist < 0.6f);
    CHECK(maybe_person(gallery, ptrs(bobs), dist * 0.5f) == "");
    CHECK(maybe_person(gallery, ptrs(strangers), 0.6f, &dist) == "");
    CHECK(dist > 0.6f);
    CHECK(maybe_person(Gallery(), ptrs(bobs), 0.6f) == "");
}

TEST_CASE("groups.bin round-trips, 0600, and a missing file is an empty state") {
    test::TempDir dir;
    const auto p = groups_path(dir.path());
    const GroupsState empty = read_groups(p);
    CHECK(empty.group_of.empty());
    CHECK(empty.next_id == 1);
    GroupsState s;
    s.group_of = {{3, 1}, {4, 2}, {9, 1}};
    s.merged = {1};
    s.next_id = 3;
    s.threshold = 0.45f;
    write_groups(p, s);
    CHECK(test::file_mode(p) == 0600);
    const GroupsState b = read_groups(p);
    CHECK(b.group_of == s.group_of);
    CHECK(b.merged == s.merged);
    CHECK(b.next_id == 3);
    CHECK(b.threshold == 0.45f);
}

TEST_CASE("groups.bin: a damaged or hostile file is refused with its cause, never half-read") {
    test::TempDir dir;
    const auto p = groups_path(dir.path());
    GroupsState good;
    good.group_of = {{3, 1}, {4, 2}};
    good.merged = {2};
    good.next_id = 3;
    const std::string bytes = bytes_of(good);
    auto refused = [&](const std::string& file_bytes, const std::string& cause) {
        CAPTURE(cause);
        write_file_atomic(p.string(), file_bytes);
        try {
            read_groups(p);
            FAIL("read_groups accepted it");
        } catch (const Error& e) {
            const std::string what = e.what();
            CHECK(what.rfind(p.string() + ": ", 0) == 0);  // names the file
            CHECK(what.find(cause) != std::string::npos);
            CHECK(what.find('\n') == std::string::npos);
        }
    };
    refused("", "empty file");
    refused(bytes.substr(0, 30), "truncated");
    refused(bytes.substr(0, bytes.size() - 1), "truncated");
    refused(bytes + "x", "unexpected trailing bytes");
    std::string flipped = bytes;
    flipped.back() ^= 1;
    refused(flipped, "checksum mismatch");
    std::string magic = bytes;
    magic[0] = 'X';
    refused(magic, "bad magic");

    // Hand-made payloads with a valid checksum.
    auto payload = [](std::uint64_t next, float t, std::vector<std::pair<std::uint64_t, std::uint64_t>> faces,
                      std::vector<std::uint64_t> merged, std::uint64_t face_count = ~0ull) {
        PayloadWriter w;
        w.u64(next);
        w.f32(t);
        w.count(face_count == ~0ull ? faces.size() : face_count);
        for (auto [f, g] : faces) w.u64(f), w.u64(g);
        w.count(merged.size());
        for (auto g : merged) w.u64(g);
        return container_bytes("FPGROUPS", 1, w.bytes());
    };
    CHECK_NOTHROW((write_file_atomic(p.string(), payload(3, 0.5f, {{1, 1}}, {1})), read_groups(p)));
    refused(payload(0, 0.5f, {}, {}), "corrupted: next group id 0");
    refused(payload(3, NAN, {}, {}), "corrupted: threshold");
    refused(payload(3, -1.f, {}, {}), "corrupted: threshold");
    refused(payload(3, 0.5f, {{1, 0}}, {}), "corrupted: face 1 has group id 0");
    refused(payload(3, 0.5f, {{1, 3}}, {}), "corrupted: face 1 has group id 3 (next id 3)");
    refused(payload(3, 0.5f, {{2, 1}, {1, 1}}, {}), "corrupted: face 1 listed twice or out of order");
    refused(payload(3, 0.5f, {{2, 1}, {2, 1}}, {}), "corrupted: face 2 listed twice");
    refused(payload(3, 0.5f, {{2, 1}}, {2}), "corrupted: merged group 2 has no face");
    refused(payload(3, 0.5f, {{2, 1}}, {1, 1}), "corrupted: merged group 1 listed twice");
    refused(payload(3, 0.5f, {{2, 1}}, {}, 1ull << 60), "corrupted");  // a count no file could hold
    refused(container_bytes("FPGROUPS", 2, groups_payload(good)), "newer than this facepipe supports");
}

// --- Over the store (unknown_store.h) ----------------------------------------

namespace {

// A store in `dir` holding f's faces (a grey crop each), ids as the store gives them.
void fill_store(UnknownStore& store, Faces& f) {
    Faces stored;
    for (std::size_t i = 0; i < f.ids.size(); ++i) {
        UnknownFace u;
        u.source = "photo-" + std::to_string(f.person[f.ids[i]]) + ".jpg";
        u.box = {1, 2, 30, 40};
        u.distance = 0.8f;
        u.score = 1.f;
        u.descriptor = f.d[i];
        const auto id = store.append(u, cv::Mat(48, 48, CV_8UC3, cv::Scalar(128, 128, 128)));
        stored.ids.push_back(id);
        stored.d.push_back(f.d[i]);
        stored.person[id] = f.person[f.ids[i]];
    }
    f = stored;
}

}  // namespace

TEST_CASE("cluster_store, forget_group, merge_groups over a store, and unknown groups are GroupNotFound") {
    test::TempDir dir;
    UnknownStore store(dir / "unknown");
    Synthetic s(3);
    Faces f = make_faces(s, 3, 4);
    fill_store(store, f);
    const Grouping g = cluster_store(store, {}, nullptr);
    CHECK(g.faces.size() == 12);
    REQUIRE(g.groups.size() == 3);
    const auto ids = check_pure(g.groups, f);
    CHECK(test::file_mode(groups_path(store.dir())) == 0600);

    // The formats: JSON members carry source, box, distance; the table one line per group.
    const auto j = nlohmann::json::parse(format_groups_json(g, store.dir()));
    REQUIRE(j["groups"].size() == 3);
    CHECK(j["groups"][0]["members"][0]["source"].get<std::string>().rfind("photo-", 0) == 0);
    CHECK(j["groups"][0]["members"][0]["box"]["height"] == 40);
    CHECK(j["groups"][0]["members"][0]["time"].is_null());
    const std::string table = format_groups_table(g, store.dir());
    CHECK(table.find("3 groups, 12 of 12 faces") != std::string::npos);
    // --min-size leaves small groups out, without changing ids.
    ClusterOptions big;
    big.min_size = 5;
    CHECK(cluster_store(store, big, nullptr).groups.empty());
    CHECK(check_pure(cluster_store(store, {}, nullptr).groups, f) == ids);

    // Contact sheets: one JPEG per group, 0600.
    const auto sheets = write_contact_sheets(g, store.dir(), dir / "sheets");
    REQUIRE(sheets.size() == 3);
    for (const auto& p : sheets) {
        CHECK(test::file_mode(p) == 0600);
        CHECK(!cv::imread(p.string()).empty());
    }

    CHECK_THROWS_AS(group_faces(store, 99), GroupNotFound);
    CHECK_THROWS_AS(forget_group(store, 99), GroupNotFound);
    CHECK_THROWS_AS(merge_groups(store, ids.at(0), 99), GroupNotFound);
    CHECK_THROWS_AS(merge_groups(store, ids.at(0), ids.at(0)), UsageError);

    // Merge 1 into 0: remembered by the next clustering.
    merge_groups(store, ids.at(0), ids.at(1));
    CHECK(group_faces(store, ids.at(0)).size() == 8);
    const Grouping merged = cluster_store(store, {}, nullptr);
    REQUIRE(merged.groups.size() == 2);
    CHECK(merged.groups[0].id == ids.at(0));
    CHECK(merged.groups[0].members.size() == 8);

    // Forget 2: its faces leave the store.
    CHECK(forget_group(store, ids.at(2)) == 4);
    CHECK(store.faces().size() == 8);
    CHECK_THROWS_AS(group_faces(store, ids.at(2)), GroupNotFound);
    const Grouping left = cluster_store(store, {}, nullptr);
    REQUIRE(left.groups.size() == 1);
    CHECK(left.groups[0].id == ids.at(0));

    ClusterOptions bad;
    bad.threshold = 0;
    CHECK_THROWS_AS(cluster_store(store, bad, nullptr), UsageError);
}
