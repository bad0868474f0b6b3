// face_groups.h — the unknown faces (unknown_store.h) grouped by person, with
// group ids that stay put while the store changes.
//
//   faces (id order) -> graph: an edge between two faces closer than T
//     -> dlib::chinese_whispers (fixed seed and iterations: the same faces
//        always give the same clusters) -> the user's merges applied
//     -> stable ids from unknown/groups.bin -> groups
//
// Stable ids: groups.bin remembers, for every face of the last clustering, its
// group id, the next id to hand out and the groups the user merged. On a
// re-cluster each new cluster takes the old id most of its members had; when
// several clusters want the same id, the one holding most of that group's faces
// wins, then the larger cluster, then the one with the oldest face; every other
// cluster gets a new id (ids are never reused). Faces of a merged group
// (merge_groups) are kept in one cluster on every re-run, whatever the threshold.
//
// "maybe NAME": a group whose faces are within a looser threshold of an enrolled
// person (the model's gallery, gallery.h) is shown as "maybe NAME".
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "enroll.h"
#include "error.h"
#include "types.h"
#include "unknown_store.h"

namespace facepipe {

class Gallery;
class Classifier;

// The distance (types.h) under which two unknown faces are linked by an edge of
// the graph: the default of `cluster --threshold` (its choice: docs/unknown.md).
constexpr float kDefaultClusterThreshold = 0.55f;
// "maybe NAME" is shown when a group is within the model's threshold plus this.
constexpr float kDefaultMaybeMargin = 0.1f;

// cluster_descriptors(descriptors, threshold, must_link)
//   requires: threshold > 0; must_link's indices < descriptors.size().
//   ensures:  one cluster index per descriptor, from chinese_whispers over the
//             graph of pairs closer than `threshold` (as dlib's face clustering
//             example builds it; 100 iterations, dlib::rand's fixed seed), then
//             every set in must_link joined into one cluster. Clusters are
//             numbered 0, 1, ... in the order of their first member, so the
//             result depends only on the descriptors and their order.
std::vector<int> cluster_descriptors(const std::vector<Descriptor>& descriptors, float threshold,
                                     const std::vector<std::vector<std::size_t>>& must_link = {});

// unknown/groups.bin: what a clustering decided, so the next one keeps the ids.
struct GroupsState {
    std::map<std::uint64_t, std::uint64_t> group_of;  // face id -> group id
    std::set<std::uint64_t> merged;                   // groups made by merge_groups: kept together
    std::uint64_t next_id = 1;                        // the next new group id (ids are never reused)
    float threshold = kDefaultClusterThreshold;       // of the clustering that wrote it
};

// "<dir>/groups.bin".
std::filesystem::path groups_path(const std::filesystem::path& unknown_dir);

// read_groups(path)
//   ensures: the state in `path`; an empty state (next_id 1) when it does not exist.
//   throws:  Error(path, cause) for a file that is not a well-formed groups file
//            (container.h's causes, or "corrupted: <what>": a group id of 0 or
//            >= next_id, a face listed twice or out of order, a merged group with
//            no face, a threshold that is not a positive finite number).
GroupsState read_groups(const std::filesystem::path& path);
// write_groups(path, state)
//   ensures: `path` holds state (container.h, written atomically, 0600).
void write_groups(const std::filesystem::path& path, const GroupsState& state);
// The payload codec, for the fuzz harness and the hostile-file tests.
std::string groups_payload(const GroupsState& state);
GroupsState parse_groups_payload(const std::string& payload, const std::string& subject);
// The full file's bytes (container + payload).
std::string groups_file_bytes(const GroupsState& state);

struct FaceGroup {
    std::uint64_t id = 0;
    std::vector<std::uint64_t> members;  // face ids, ascending
    std::uint64_t representative = 0;    // the member nearest the group's mean (the lower id on a tie)
    std::string maybe;                   // "" or the enrolled person it resembles
    float maybe_distance = 0;            // median distance of the members to that person
};

// regroup(ids, descriptors, threshold, state)
//   requires: ids strictly ascending, one descriptor each; threshold > 0.
//   ensures:  the groups of these faces (cluster_descriptors, the faces of each
//             group in state.merged kept together), with stable ids (top of this
//             file), sorted by size, largest first, then by id. state becomes the
//             new state: every face's group id, next_id advanced, merged groups
//             that no longer have a face dropped, threshold set.
std::vector<FaceGroup> regroup(const std::vector<std::uint64_t>& ids, const std::vector<Descriptor>& descriptors,
                               float threshold, GroupsState& state);

// The member of `members` (indices into descriptors) nearest their mean; the
// first of them on a tie. requires: members not empty.
std::size_t representative(const std::vector<Descriptor>& descriptors, const std::vector<std::size_t>& members);

// maybe_person(gallery, descriptors, max_distance, *distance)
//   ensures: the person most of these faces are nearest to (gallery.h's
//            per-face match; ties go to the nearer), when the median of the
//            faces' distances to that person's nearest rows is <= max_distance;
//            else "". *distance (when given) is that median (+inf without one).
std::string maybe_person(const Gallery& gallery, const std::vector<const Descriptor*>& descriptors,
                         float max_distance, float* distance = nullptr);

// merge_into(state, into, from)
//   requires: into != from, both ids of groups in state.
//   ensures:  from's faces belong to `into`, which is marked merged (so a
//             re-cluster keeps them together); `from` no longer exists.
void merge_into(GroupsState& state, std::uint64_t into, std::uint64_t from);

// The face ids state gives group `id`, ascending.
std::vector<std::uint64_t> members_of(const GroupsState& state, std::uint64_t id);

// --- The store's faces (unknown_store.h) ------------------------------------
//
// Every function below reads and writes <store dir>/groups.bin under a lock of
// its own (<store dir>/groups.lock, lock.h), so two commands (or serve and a
// command) never lose each other's changes.

// A group id that no face of the store has (now): a usage error (the binary
// exits 2); serve answers 404.
class GroupNotFound : public UsageError {
public:
    using UsageError::UsageError;
};

struct ClusterOptions {
    float threshold = kDefaultClusterThreshold;  // > 0
    int min_size = 1;                            // smaller groups are left out of the result (ids kept)
    float maybe_margin = kDefaultMaybeMargin;    // "maybe NAME" within the model's threshold + this
};

struct Grouping {
    std::vector<UnknownFace> faces;  // the store's faces, oldest first
    std::vector<FaceGroup> groups;   // at least min_size faces each, largest first, then by id
    // requires: id is one of faces.
    const UnknownFace& face(std::uint64_t id) const;
};

// cluster_store(store, options, model)
//   requires: options.threshold > 0 (else UsageError("--threshold", ...)).
//   ensures:  the store's faces regrouped (regroup) and groups.bin updated; with
//             a model (may be null), each group's maybe / maybe_distance against
//             its gallery within model->threshold() + options.maybe_margin.
//   throws:   Error for a damaged faces.bin or groups.bin (naming it).
Grouping cluster_store(const UnknownStore& store, const ClusterOptions& options, const Classifier* model);

// The faces of group `group` as groups.bin (the last clustering, with merges,
// names and forgets since) has it, of those still in the store, oldest first.
//   throws: GroupNotFound("group <id>", "no such group ...") when it has none.
std::vector<UnknownFace> group_faces(const UnknownStore& store, std::uint64_t group);

// forget_group(store, group)
//   ensures: the group's faces leave the store (records and crops) and groups.bin.
//   returns: how many faces were removed.
//   throws:  as group_faces.
std::size_t forget_group(UnknownStore& store, std::uint64_t group);

// merge_groups(store, a, b)
//   ensures: b's faces join a (merge_into), remembered in groups.bin so that a
//            re-cluster keeps them together under id a.
//   throws:  UsageError("group <id>", ...) when a == b; GroupNotFound when either has no face.
void merge_groups(UnknownStore& store, std::uint64_t a, std::uint64_t b);

struct NameReport {
    EnrollReport enroll;                // what enrolling the group's crops did
    std::vector<std::uint64_t> removed; // faces that left the store: their crop was enrolled (or a duplicate)
    std::vector<std::uint64_t> kept;    // faces whose crop enroll refused: still in the store and the group
};

// name_group(store, group, name, options, models)
//   ensures: enroll (enroll.h: name checks, the lock, augment, encode, train) of
//            the crops of the group's faces under `name` (a NAME already enrolled
//            gets them added); then the faces whose crop was accepted (or was a
//            duplicate) leave the store and groups.bin.
//   throws:  UsageError for a bad name (before anything), or as group_faces;
//            what enroll throws (nothing is then removed from the store).
NameReport name_group(UnknownStore& store, std::uint64_t group, std::string_view name, const EnrollOptions& options,
                      const ModelFiles& models);
NameReport name_group(UnknownStore& store, std::uint64_t group, std::string_view name, const EnrollOptions& options,
                      std::shared_ptr<const LoadedModels> models);

// The groups for people: one line per group, with its id, size, first and last
// seen (UTC), sources, representative face (its crop) and "maybe NAME".
std::string format_groups_table(const Grouping& g, const std::filesystem::path& store_dir);
// {"groups":[{"id","size","members":[{"id","source","time","box","distance",...}],...}]}
// (time: the frame time in seconds, null for a photo; distance: null when nobody was enrolled).
std::string format_groups_json(const Grouping& g, const std::filesystem::path& store_dir);

// contact_sheet_jpeg(grouping, group, store_dir)
//   ensures: a JPEG of the group: a title line (id, size, maybe NAME) and a grid
//            of its crops, each captioned with its face id (at most
//            kSheetMaxFaces; the title then says how many more). A crop that
//            cannot be read is a grey tile.
inline constexpr std::size_t kSheetMaxFaces = 60;
std::string contact_sheet_jpeg(const Grouping& g, const FaceGroup& group, const std::filesystem::path& store_dir);
// write_contact_sheets(grouping, store_dir, out)
//   ensures: <out>/group-<id>.jpg for every group (0600; out created, 0700);
//            returns their paths, in the groups' order.
std::vector<std::filesystem::path> write_contact_sheets(const Grouping& g, const std::filesystem::path& store_dir,
                                                        const std::filesystem::path& out);

}  // namespace facepipe
