#include "face_groups.h"

#include <dlib/clustering.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <tuple>

#include "container.h"
#include "error.h"
#include "fsutil.h"
#include "gallery.h"

namespace facepipe {
namespace {

constexpr char kMagic[] = "FPGROUPS";
constexpr std::uint32_t kVersion = 1;
constexpr unsigned long kIterations = 100;  // dlib's default, as its example uses

// Union-find over cluster indices, for must-link sets.
struct Joins {
    std::vector<std::size_t> parent;
    explicit Joins(std::size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
    std::size_t find(std::size_t x) {
        while (parent[x] != x) x = parent[x] = parent[parent[x]];
        return x;
    }
    void join(std::size_t a, std::size_t b) {
        a = find(a), b = find(b);
        if (a != b) parent[std::max(a, b)] = std::min(a, b);
    }
};

}  // namespace

std::vector<int> cluster_descriptors(const std::vector<Descriptor>& d, float threshold,
                                     const std::vector<std::vector<std::size_t>>& must_link) {
    const std::size_t n = d.size();
    if (n == 0) return {};
    const float t2 = threshold * threshold;
    std::vector<dlib::sample_pair> edges;
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = i; j < n; ++j)  // i == j: every face is a node, even alone
            if (j == i || squared_distance(d[i].data(), d[j].data()) < t2) edges.emplace_back(i, j);
    std::vector<unsigned long> labels;
    dlib::rand rnd;  // default seed: the same sequence on every run
    dlib::chinese_whispers(edges, labels, kIterations, rnd);
    // Join: chinese_whispers' clusters, then the must-link sets.
    Joins joins(n);
    std::map<unsigned long, std::size_t> first_of_label;
    for (std::size_t i = 0; i < n; ++i) {
        auto [it, fresh] = first_of_label.emplace(labels[i], i);
        if (!fresh) joins.join(it->second, i);
    }
    for (const auto& set : must_link)
        for (std::size_t k = 1; k < set.size(); ++k) joins.join(set[0], set[k]);
    // Number the clusters in the order of their first member.
    std::vector<int> out(n, -1);
    std::map<std::size_t, int> number;
    for (std::size_t i = 0; i < n; ++i) {
        auto [it, fresh] = number.emplace(joins.find(i), static_cast<int>(number.size()));
        out[i] = it->second;
    }
    return out;
}

std::filesystem::path groups_path(const std::filesystem::path& unknown_dir) { return unknown_dir / "groups.bin"; }

std::string groups_payload(const GroupsState& s) {
    PayloadWriter w;
    w.u64(s.next_id);
    w.f32(s.threshold);
    w.count(s.group_of.size());
    for (const auto& [face, group] : s.group_of) {
        w.u64(face);
        w.u64(group);
    }
    w.count(s.merged.size());
    for (std::uint64_t g : s.merged) w.u64(g);
    return w.bytes();
}

GroupsState parse_groups_payload(const std::string& payload, const std::string& subject) {
    PayloadReader r(payload, subject);
    GroupsState s;
    s.next_id = r.u64();
    if (s.next_id == 0) r.fail("next group id 0");
    s.threshold = r.f32();
    if (!std::isfinite(s.threshold) || s.threshold <= 0) r.fail("threshold is not a positive number");
    const std::size_t faces = r.count(16);
    std::set<std::uint64_t> used;
    for (std::size_t i = 0; i < faces; ++i) {
        const std::uint64_t face = r.u64(), group = r.u64();
        if (!s.group_of.empty() && face <= s.group_of.rbegin()->first)
            r.fail("face " + std::to_string(face) + " listed twice or out of order");
        if (group == 0 || group >= s.next_id) r.fail("face " + std::to_string(face) + " has group id " +
                                                     std::to_string(group) + " (next id " +
                                                     std::to_string(s.next_id) + ")");
        s.group_of.emplace_hint(s.group_of.end(), face, group);
        used.insert(group);
    }
    const std::size_t merged = r.count(8);
    for (std::size_t i = 0; i < merged; ++i) {
        const std::uint64_t g = r.u64();
        if (!used.count(g)) r.fail("merged group " + std::to_string(g) + " has no face");
        if (!s.merged.insert(g).second) r.fail("merged group " + std::to_string(g) + " listed twice");
    }
    r.finish();
    return s;
}

std::string groups_file_bytes(const GroupsState& s) { return container_bytes(kMagic, kVersion, groups_payload(s)); }

GroupsState read_groups(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::exists(std::filesystem::symlink_status(path, ec))) return {};
    const Container c = read_container(path.string(), kMagic, "groups", kVersion);
    return parse_groups_payload(c.payload, path.string());
}

void write_groups(const std::filesystem::path& path, const GroupsState& s) {
    write_container(path.string(), kMagic, kVersion, groups_payload(s));
}

std::size_t representative(const std::vector<Descriptor>& d, const std::vector<std::size_t>& members) {
    Descriptor mean{};
    for (std::size_t m : members)
        for (int k = 0; k < kDescriptorDim; ++k) mean[k] += d[m][k];
    for (float& v : mean) v /= static_cast<float>(members.size());
    std::size_t best = members.front();
    float best_d = std::numeric_limits<float>::infinity();
    for (std::size_t m : members) {
        const float dist = squared_distance(d[m].data(), mean.data());
        if (dist < best_d) best = m, best_d = dist;
    }
    return best;
}

std::vector<FaceGroup> regroup(const std::vector<std::uint64_t>& ids, const std::vector<Descriptor>& d,
                               float threshold, GroupsState& state) {
    // The faces of each merged group, as indices into ids.
    std::map<std::uint64_t, std::vector<std::size_t>> merged_faces;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        auto it = state.group_of.find(ids[i]);
        if (it != state.group_of.end() && state.merged.count(it->second)) merged_faces[it->second].push_back(i);
    }
    std::vector<std::vector<std::size_t>> must_link;
    for (auto& [g, faces] : merged_faces) must_link.push_back(faces);
    const std::vector<int> cluster = cluster_descriptors(d, threshold, must_link);
    const int clusters = cluster.empty() ? 0 : *std::max_element(cluster.begin(), cluster.end()) + 1;
    std::vector<std::vector<std::size_t>> members(clusters);
    for (std::size_t i = 0; i < ids.size(); ++i) members[cluster[i]].push_back(i);

    // Each cluster's claim: the old id most of its members had (the lower id on a tie).
    struct Claim {
        std::uint64_t id = 0;
        std::size_t votes = 0;
    };
    std::vector<Claim> claim(clusters);
    for (int c = 0; c < clusters; ++c) {
        std::map<std::uint64_t, std::size_t> votes;
        for (std::size_t i : members[c]) {
            auto it = state.group_of.find(ids[i]);
            if (it != state.group_of.end()) ++votes[it->second];
        }
        for (const auto& [g, v] : votes)
            if (v > claim[c].votes) claim[c] = {g, v};
    }
    // One winner per old id: most of that group's faces, then the larger cluster,
    // then the oldest face (clusters are numbered by their first, oldest, member).
    std::map<std::uint64_t, int> winner;
    for (int c = 0; c < clusters; ++c) {
        if (claim[c].id == 0) continue;
        auto [it, fresh] = winner.emplace(claim[c].id, c);
        if (fresh) continue;
        const int w = it->second;
        if (std::make_tuple(claim[c].votes, members[c].size()) > std::make_tuple(claim[w].votes, members[w].size()))
            it->second = c;
    }
    GroupsState next;
    next.next_id = state.next_id;
    next.threshold = threshold;
    std::vector<FaceGroup> groups(clusters);
    for (int c = 0; c < clusters; ++c) {
        FaceGroup& g = groups[c];
        auto it = claim[c].id ? winner.find(claim[c].id) : winner.end();
        g.id = it != winner.end() && it->second == c ? claim[c].id : next.next_id++;
        for (std::size_t i : members[c]) {
            g.members.push_back(ids[i]);
            next.group_of[ids[i]] = g.id;
        }
        g.representative = ids[representative(d, members[c])];
        if (state.merged.count(g.id)) next.merged.insert(g.id);
    }
    state = std::move(next);
    std::sort(groups.begin(), groups.end(), [](const FaceGroup& a, const FaceGroup& b) {
        return a.members.size() != b.members.size() ? a.members.size() > b.members.size() : a.id < b.id;
    });
    return groups;
}

std::string maybe_person(const Gallery& gallery, const std::vector<const Descriptor*>& faces, float max_distance,
                         float* distance) {
    if (distance) *distance = std::numeric_limits<float>::infinity();
    if (gallery.size() == 0 || faces.empty()) return "";
    // Each face's nearest person (the nearest row's), then the most common one.
    VoteParams nearest;
    nearest.vote = VoteMode::knn;
    nearest.k = 1;
    std::map<int, std::pair<std::size_t, float>> votes;  // label -> (faces, nearest distance)
    for (const Descriptor* f : faces) {
        const Match m = gallery.match(f->data(), nearest);
        if (m.label < 0) continue;
        auto& v = votes[m.label];
        if (v.first == 0) v.second = m.distance;
        ++v.first;
        v.second = std::min(v.second, m.distance);
    }
    if (votes.empty()) return "";
    auto best = votes.begin();
    for (auto it = votes.begin(); it != votes.end(); ++it)
        if (it->second.first > best->second.first ||
            (it->second.first == best->second.first && it->second.second < best->second.second))
            best = it;
    std::vector<float> d;
    for (const Descriptor* f : faces) d.push_back(gallery.nearest_of_person(f->data(), best->first));
    std::nth_element(d.begin(), d.begin() + d.size() / 2, d.end());
    const float median = d[d.size() / 2];
    if (distance) *distance = median;
    return median <= max_distance ? gallery.names()[best->first] : "";
}

void merge_into(GroupsState& state, std::uint64_t into, std::uint64_t from) {
    for (auto& [face, group] : state.group_of)
        if (group == from) group = into;
    state.merged.erase(from);
    state.merged.insert(into);
}

std::vector<std::uint64_t> members_of(const GroupsState& state, std::uint64_t id) {
    std::vector<std::uint64_t> out;
    for (const auto& [face, group] : state.group_of)
        if (group == id) out.push_back(face);
    return out;
}

}  // namespace facepipe
