#include "face_groups.h"

#include <dlib/clustering.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>  // the IMWRITE_ flags
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <ctime>
#include <sstream>
#include <tuple>

#include "container.h"
#include "error.h"
#include "fsutil.h"
#include "classifier.h"
#include "gallery.h"
#include "image.h"
#include "lock.h"
#include "media.h"
#include "text.h"

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

// --- The store's faces -----------------------------------------------------

namespace {

std::unique_ptr<FileLock> lock_groups(const std::filesystem::path& dir) {
    return std::make_unique<FileLock>(dir / "groups.lock", true,
                                      [&] { spdlog::info("{}: waiting for another facepipe run", (dir / "groups.lock").string()); });
}

GroupNotFound no_group(std::uint64_t group) {
    return GroupNotFound("group " + std::to_string(group),
                      "no such group in the store (`facepipe cluster` lists the groups)");
}

// The store's faces that state puts in `group`, oldest first.
std::vector<UnknownFace> faces_of(const std::vector<UnknownFace>& faces, const GroupsState& state,
                                  std::uint64_t group) {
    std::vector<UnknownFace> out;
    for (const UnknownFace& f : faces) {
        auto it = state.group_of.find(f.id);
        if (it != state.group_of.end() && it->second == group) out.push_back(f);
    }
    return out;
}

// Drops faces that are no longer in the store, and merged marks of groups left without a face.
void prune(GroupsState& state, const std::vector<UnknownFace>& faces) {
    std::set<std::uint64_t> present;
    for (const UnknownFace& f : faces) present.insert(f.id);
    std::set<std::uint64_t> used;
    for (auto it = state.group_of.begin(); it != state.group_of.end();) {
        if (!present.count(it->first)) {
            it = state.group_of.erase(it);
        } else {
            used.insert(it->second);
            ++it;
        }
    }
    for (auto it = state.merged.begin(); it != state.merged.end();) it = used.count(*it) ? std::next(it) : state.merged.erase(it);
}

std::string utc_text(std::int64_t unix_ms) {
    const std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

std::vector<std::string> sources_of(const Grouping& g, const FaceGroup& group) {
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (auto id : group.members)
        if (seen.insert(g.face(id).source).second) out.push_back(g.face(id).source);
    return out;
}

std::pair<std::int64_t, std::int64_t> seen_range(const Grouping& g, const FaceGroup& group) {
    std::int64_t first = std::numeric_limits<std::int64_t>::max(), last = std::numeric_limits<std::int64_t>::min();
    for (auto id : group.members) {
        first = std::min(first, g.face(id).seen_unix_ms);
        last = std::max(last, g.face(id).seen_unix_ms);
    }
    return {first, last};
}

}  // namespace

const UnknownFace& Grouping::face(std::uint64_t id) const {
    auto it = std::lower_bound(faces.begin(), faces.end(), id,
                               [](const UnknownFace& f, std::uint64_t v) { return f.id < v; });
    if (it == faces.end() || it->id != id) throw std::logic_error("Grouping::face: no face " + std::to_string(id));
    return *it;
}

Grouping cluster_store(const UnknownStore& store, const ClusterOptions& o, const Classifier* model) {
    if (!(o.threshold > 0) || !std::isfinite(o.threshold))
        throw UsageError("--threshold", "must be a positive distance, e.g. 0.5");
    const auto lock = lock_groups(store.dir());
    Grouping g;
    g.faces = store.faces();
    std::vector<std::uint64_t> ids;
    std::vector<Descriptor> d;
    for (const UnknownFace& f : g.faces) ids.push_back(f.id), d.push_back(f.descriptor);
    GroupsState state = read_groups(groups_path(store.dir()));
    std::vector<FaceGroup> groups = regroup(ids, d, o.threshold, state);
    write_groups(groups_path(store.dir()), state);
    for (FaceGroup& group : groups) {
        if (static_cast<int>(group.members.size()) < o.min_size) continue;
        if (model && model->size() > 0) {
            std::vector<const Descriptor*> faces;
            for (auto id : group.members) faces.push_back(&g.face(id).descriptor);
            group.maybe = maybe_person(model->gallery(), faces, model->threshold() + o.maybe_margin,
                                       &group.maybe_distance);
        }
        g.groups.push_back(std::move(group));
    }
    return g;
}

std::vector<UnknownFace> group_faces(const UnknownStore& store, std::uint64_t group) {
    const auto lock = lock_groups(store.dir());
    std::vector<UnknownFace> out = faces_of(store.faces(), read_groups(groups_path(store.dir())), group);
    if (out.empty()) throw no_group(group);
    return out;
}

std::size_t forget_group(UnknownStore& store, std::uint64_t group) {
    const auto lock = lock_groups(store.dir());
    const std::vector<UnknownFace> faces = store.faces();
    GroupsState state = read_groups(groups_path(store.dir()));
    const std::vector<UnknownFace> members = faces_of(faces, state, group);
    if (members.empty()) throw no_group(group);
    std::vector<std::uint64_t> ids;
    for (const auto& f : members) ids.push_back(f.id);
    store.remove(ids);
    prune(state, store.faces());
    write_groups(groups_path(store.dir()), state);
    return ids.size();
}

void merge_groups(UnknownStore& store, std::uint64_t a, std::uint64_t b) {
    if (a == b) throw UsageError("group " + std::to_string(a), "cannot be merged with itself");
    const auto lock = lock_groups(store.dir());
    const std::vector<UnknownFace> faces = store.faces();
    GroupsState state = read_groups(groups_path(store.dir()));
    if (faces_of(faces, state, a).empty()) throw no_group(a);
    if (faces_of(faces, state, b).empty()) throw no_group(b);
    prune(state, faces);
    merge_into(state, a, b);
    write_groups(groups_path(store.dir()), state);
}

namespace {

template <class Models>
NameReport name_group_with(UnknownStore& store, std::uint64_t group, std::string_view name,
                           const EnrollOptions& options, const Models& models) {
    enroll_name(name);  // a refused name is a UsageError before anything is touched
    const auto lock = lock_groups(store.dir());
    const std::vector<UnknownFace> members = faces_of(store.faces(), read_groups(groups_path(store.dir())), group);
    if (members.empty()) throw no_group(group);
    std::vector<Photo> photos;
    for (const UnknownFace& f : members) {
        const std::string path = (store.dir() / f.crop()).string();
        Photo p{path, ""};
        try {
            p.bytes = read_file(path, options.limits.max_file_bytes);
        } catch (const Error& e) {
            spdlog::warn("{}", e.what());  // enroll refuses the empty photo, and the face stays
        }
        photos.push_back(std::move(p));
    }
    NameReport r;
    r.enroll = enroll(name, photos, options, models);
    for (std::size_t i = 0; i < members.size(); ++i)
        (r.enroll.verdicts.at(i).refused() ? r.kept : r.removed).push_back(members[i].id);
    if (!r.removed.empty()) {
        store.remove(r.removed);
        GroupsState state = read_groups(groups_path(store.dir()));
        prune(state, store.faces());
        write_groups(groups_path(store.dir()), state);
    }
    return r;
}

}  // namespace

NameReport name_group(UnknownStore& store, std::uint64_t group, std::string_view name, const EnrollOptions& options,
                      const ModelFiles& models) {
    return name_group_with(store, group, name, options, models);
}

NameReport name_group(UnknownStore& store, std::uint64_t group, std::string_view name, const EnrollOptions& options,
                      std::shared_ptr<const LoadedModels> models) {
    return name_group_with(store, group, name, options, models);
}

std::string format_groups_table(const Grouping& g, const std::filesystem::path& store_dir) {
    std::ostringstream out;
    out << "group  size  first seen           last seen            sources  representative  maybe\n";
    for (const FaceGroup& group : g.groups) {
        const auto [first, last] = seen_range(g, group);
        const std::vector<std::string> sources = sources_of(g, group);
        std::string src = printable(sources.front());
        if (sources.size() > 1) src += " +" + std::to_string(sources.size() - 1);
        char head[96];
        std::snprintf(head, sizeof head, "%-6llu %-5zu %-20s %-20s ", static_cast<unsigned long long>(group.id),
                      group.members.size(), utc_text(first).c_str(), utc_text(last).c_str());
        out << head << src << "  " << printable((store_dir / g.face(group.representative).crop()).string());
        if (!group.maybe.empty())
            out << "  maybe " << printable(group.maybe) << " (" << format_number("%.2f", group.maybe_distance) << ")";
        out << "\n";
    }
    std::size_t grouped = 0;
    for (const FaceGroup& group : g.groups) grouped += group.members.size();
    out << g.groups.size() << " groups, " << grouped << " of " << g.faces.size() << " faces\n";
    return out.str();
}

std::string format_groups_json(const Grouping& g, const std::filesystem::path& store_dir) {
    using Json = nlohmann::json;
    Json groups = Json::array();
    for (const FaceGroup& group : g.groups) {
        Json members = Json::array();
        for (auto id : group.members) {
            const UnknownFace& f = g.face(id);
            members.push_back({{"id", f.id},
                               {"source", f.source},
                               {"time", f.time_s < 0 ? Json(nullptr) : Json(f.time_s)},
                               {"box", {{"x", f.box.x}, {"y", f.box.y}, {"width", f.box.width}, {"height", f.box.height}}},
                               {"distance", std::isfinite(f.distance) ? Json(f.distance) : Json(nullptr)},
                               {"nearest", f.nearest},
                               {"seen_unix_ms", f.seen_unix_ms},
                               {"crop", (store_dir / f.crop()).string()}});
        }
        const auto [first, last] = seen_range(g, group);
        Json j = {{"id", group.id},
                  {"size", group.members.size()},
                  {"representative", group.representative},
                  {"first_seen_unix_ms", first},
                  {"last_seen_unix_ms", last},
                  {"sources", sources_of(g, group)},
                  {"maybe", group.maybe.empty() ? Json(nullptr) : Json(group.maybe)},
                  {"members", members}};
        if (!group.maybe.empty()) j["maybe_distance"] = group.maybe_distance;
        groups.push_back(std::move(j));
    }
    return Json{{"groups", groups}}.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string contact_sheet_jpeg(const Grouping& g, const FaceGroup& group, const std::filesystem::path& store_dir) {
    constexpr int kTile = 112, kCaption = 18, kTitle = 28, kColumns = 6;
    const std::size_t shown = std::min(group.members.size(), kSheetMaxFaces);
    const int cols = static_cast<int>(std::min<std::size_t>(shown, kColumns));
    const int rows = static_cast<int>((shown + kColumns - 1) / kColumns);
    cv::Mat sheet(kTitle + rows * (kTile + kCaption), std::max(cols * kTile, 4 * kTile), CV_8UC3, cv::Scalar(255, 255, 255));
    std::string title = "group " + std::to_string(group.id) + ": " + std::to_string(group.members.size()) +
                        (group.members.size() == 1 ? " face" : " faces");
    if (shown < group.members.size()) title += " (" + std::to_string(group.members.size() - shown) + " more)";
    if (!group.maybe.empty()) title += ", maybe " + group.maybe;
    cv::putText(sheet, title, {6, 20}, cv::FONT_HERSHEY_SIMPLEX, 0.55, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
    for (std::size_t i = 0; i < shown; ++i) {
        const UnknownFace& f = g.face(group.members[i]);
        const int x = static_cast<int>(i % kColumns) * kTile, y = kTitle + static_cast<int>(i / kColumns) * (kTile + kCaption);
        cv::Mat tile(kTile, kTile, CV_8UC3, cv::Scalar(200, 200, 200));
        try {
            const cv::Mat crop = load_image((store_dir / f.crop()).string()).bgr;
            if (!crop.empty()) {
                const double s = std::min(double(kTile) / crop.cols, double(kTile) / crop.rows);
                cv::Mat small;
                cv::resize(crop, small, {}, s, s, cv::INTER_AREA);
                small.copyTo(tile(cv::Rect((kTile - small.cols) / 2, (kTile - small.rows) / 2, small.cols, small.rows)));
            }
        } catch (const Error& e) {
            spdlog::warn("{}", e.what());
        }
        tile.copyTo(sheet(cv::Rect(x, y, kTile, kTile)));
        cv::putText(sheet, std::to_string(f.id), {x + 4, y + kTile + 14}, cv::FONT_HERSHEY_SIMPLEX, 0.45,
                    f.id == group.representative ? cv::Scalar(0, 0, 200) : cv::Scalar(60, 60, 60), 1, cv::LINE_AA);
    }
    std::vector<unsigned char> buf;
    if (!media::imencode(".jpg", sheet, buf, {cv::IMWRITE_JPEG_QUALITY, 90}))
        throw Error("group " + std::to_string(group.id), "cannot encode its contact sheet");
    return std::string(buf.begin(), buf.end());
}

std::vector<std::filesystem::path> write_contact_sheets(const Grouping& g, const std::filesystem::path& store_dir,
                                                        const std::filesystem::path& out) {
    std::error_code ec;
    std::filesystem::create_directories(out, ec);
    if (ec) throw Error(out.string(), "cannot create the folder: " + ec.message());
    std::filesystem::permissions(out, std::filesystem::perms::owner_all, ec);
    std::vector<std::filesystem::path> written;
    for (const FaceGroup& group : g.groups) {
        const auto path = out / ("group-" + std::to_string(group.id) + ".jpg");
        write_file_atomic(path.string(), contact_sheet_jpeg(g, group, store_dir));
        written.push_back(path);
    }
    return written;
}

}  // namespace facepipe
