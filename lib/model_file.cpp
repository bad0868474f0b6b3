#include "model_file.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <string_view>

#include "container.h"
#include "fsutil.h"
#include "error.h"
#include "hash.h"
#include "text.h"

namespace facepipe {
namespace {

constexpr char kModelMagic[] = "FPMODEL\0";  // 7 letters + NUL = 8 bytes
constexpr char kLabelsMagic[] = "FPLABELS";
constexpr std::uint32_t kModelVersion = 4;  // the newest read
constexpr std::uint32_t kLabelsVersion = 1;
constexpr std::size_t kRowBytes = 4 + 4 + kDescriptorDim * sizeof(float);
// Index section kinds: 1 (version 2 only, FAISS's IVF) is no longer read.
constexpr std::uint8_t kIndexNone = 0, kIndexFaissIvf = 1, kIndexHnsw = 2;

std::string_view model_magic() { return std::string_view(kModelMagic, 8); }
std::string_view labels_magic() { return std::string_view(kLabelsMagic, 8); }

// hog's models keep version 3's bytes (see the header).
std::uint32_t version_for(const TrainedModel& m) { return m.detector == DetectorKind::hog ? 3 : 4; }

// Everything in model.bin but the training id, in file order.
void write_model_body(PayloadWriter& w, const TrainedModel& m) {
    const Gallery::Rows& g = m.gallery.rows();
    w.str(m.model_id);
    if (version_for(m) >= 4) w.u8(static_cast<std::uint8_t>(m.detector));
    w.u32(static_cast<std::uint32_t>(m.vote.k));
    w.u8(static_cast<std::uint8_t>(m.vote.vote));
    w.u32(static_cast<std::uint32_t>(m.vote.per_person_m));
    w.f32(m.threshold);
    w.str(m.threshold_source);
    w.u32(static_cast<std::uint32_t>(g.names.size()));
    w.count(g.source_paths.size());
    for (const auto& s : g.source_paths) w.str(s);
    w.count(g.size());
    for (std::size_t i = 0; i < g.size(); ++i) {
        w.i32(g.labels[i]);
        w.i32(g.sources[i]);
        w.floats(m.gallery.descriptor(i), kDescriptorDim);
    }
    // Since version 2: the index section.
    if (!m.gallery.index()) {
        w.u8(kIndexNone);
        return;
    }
    const GalleryIndex::Layout l = m.gallery.index()->layout();
    w.u8(kIndexHnsw);
    w.u32(l.m);
    w.u32(l.ef_search);
    w.i32(l.entry_point);
    w.i32(l.max_level);
    w.count(l.levels.size());
    for (std::int32_t v : l.levels) w.i32(v);
    w.count(l.neighbours.size());
    for (std::int32_t v : l.neighbours) w.i32(v);
}

void write_names(PayloadWriter& w, const std::vector<std::string>& names) {
    w.count(names.size());
    for (const auto& n : names) w.str(n);
}

// The index section after the rows (version 2 and later); null for none.
std::shared_ptr<const GalleryIndex> read_index_section(PayloadReader& in, const Gallery::Rows& rows) {
    const std::uint8_t kind = in.u8();
    if (kind == kIndexNone) return nullptr;
    if (kind == kIndexFaissIvf)
        throw Error(in.subject(), "its index was written by an earlier facepipe in a format no longer read; re-run train");
    if (kind != kIndexHnsw) in.fail("unknown index kind " + std::to_string(kind));
    GalleryIndex::Layout l;
    l.m = in.u32();
    l.ef_search = in.u32();
    l.entry_point = in.i32();
    l.max_level = in.i32();
    l.levels.resize(in.count(4));
    for (auto& v : l.levels) v = in.i32();
    l.neighbours.resize(in.count(4));
    for (auto& v : l.neighbours) v = in.i32();
    return GalleryIndex::from_layout(l, rows.descriptors.data(), rows.size(), in.subject());
}

// What model.bin holds before labels.bin's names join it.
struct ModelPayload {
    TrainedModel fields;  // all but the gallery
    Gallery::Rows rows;   // without names
    std::shared_ptr<const GalleryIndex> index;
    std::uint32_t num_labels = 0;
};

ModelPayload read_model_payload(PayloadReader& in, std::uint32_t version) {
    ModelPayload p;
    TrainedModel& m = p.fields;
    m.model_id = in.str();
    if (version >= 4) {
        const std::uint8_t d = in.u8();
        if (d > static_cast<std::uint8_t>(DetectorKind::ssd)) in.fail("unknown detector " + std::to_string(d));
        m.detector = static_cast<DetectorKind>(d);
    }
    m.vote.k = static_cast<int>(std::min<std::uint32_t>(in.u32(), std::numeric_limits<int>::max()));
    const std::uint8_t vote = in.u8();
    if (vote > static_cast<std::uint8_t>(VoteMode::knn)) in.fail("unknown vote mode " + std::to_string(vote));
    m.vote.vote = static_cast<VoteMode>(vote);
    m.vote.per_person_m = static_cast<int>(std::min<std::uint32_t>(in.u32(), 1024));  // m beyond 1024 is nonsense
    m.threshold = in.f32();
    m.threshold_source = in.str();
    p.num_labels = in.u32();
    Gallery::Rows& g = p.rows;
    g.source_paths.resize(in.count(8));
    for (auto& s : g.source_paths) s = in.str();
    const std::size_t rows = in.count(kRowBytes);
    g.labels.resize(rows);
    g.sources.resize(rows);
    g.descriptors.resize(rows * kDescriptorDim);
    for (std::size_t i = 0; i < rows; ++i) {
        g.labels[i] = in.i32();
        g.sources[i] = in.i32();
        in.floats(&g.descriptors[i * kDescriptorDim], kDescriptorDim);
    }
    if (version >= 2) p.index = read_index_section(in, g);
    m.training_id = in.str(64);
    in.finish();
    return p;
}

TrainedModel read_pair(const std::string& model_path, const std::string& labels_path) {
    ModelPayload p;
    {
        const Container c = read_container(model_path, model_magic(), "model", kModelVersion);
        PayloadReader in(c.payload, model_path);
        p = read_model_payload(in, c.version);
    }
    std::string labels_training_id;
    {
        const Container c = read_container(labels_path, labels_magic(), "labels", kLabelsVersion);
        PayloadReader in(c.payload, labels_path);
        labels_training_id = in.str(64);
        p.rows.names.resize(in.count(8));
        for (auto& n : p.rows.names) n = in.str();
        in.finish();
    }
    if (labels_training_id != p.fields.training_id)
        throw Error(labels_path, "does not belong to " + model_path + " (training ids differ); re-run train");
    if (p.rows.names.size() != p.num_labels)
        throw Error(labels_path, "corrupted: " + std::to_string(p.rows.names.size()) + " labels, model expects " +
                                     std::to_string(p.num_labels));
    std::string why = Gallery::problem(p.rows, p.index.get());
    if (!why.empty()) throw Error(model_path, "corrupted: " + why);
    TrainedModel m = std::move(p.fields);
    m.gallery = Gallery(std::move(p.rows), std::move(p.index));
    why = model_problem(m);
    if (!why.empty()) throw Error(model_path, "corrupted: " + why);
    return m;
}

}  // namespace

std::string model_problem(const TrainedModel& m) {
    if (m.gallery.size() == 0) return "empty gallery";
    if (m.gallery.names().empty()) return "no labels";
    if (m.vote.k < 1) return "k must be at least 1";
    if (m.vote.per_person_m < 1) return "per-person m must be at least 1";
    if (m.vote.vote != VoteMode::per_person && m.vote.vote != VoteMode::knn) return "unknown vote mode";
    if (!std::isfinite(m.threshold) || m.threshold <= 0.f || m.threshold > 2.f)
        return "threshold " + format_number("%g", m.threshold) + " is not in (0, 2]";
    if (m.training_id.empty()) return "missing training id";
    return "";
}

std::string training_id_of(const TrainedModel& m) {
    PayloadWriter body, names;
    write_model_body(body, m);
    write_names(names, m.gallery.names());
    return sha256_hex(body.bytes() + names.bytes());
}

void save_model(const TrainedModel& m, const std::string& model_path, const std::string& labels_path) {
    const std::string why = model_problem(m);
    if (!why.empty()) throw Error(model_path, "refusing to write an invalid model: " + why);
    PayloadWriter w;
    write_model_body(w, m);
    w.str(m.training_id);
    PayloadWriter l;
    l.str(m.training_id);
    write_names(l, m.gallery.names());
    // Both written before either replaces its file (a full disk changes neither);
    // then model first: see the header.
    const std::string model = container_bytes(model_magic(), version_for(m), w.bytes());
    const std::string labels = container_bytes(labels_magic(), kLabelsVersion, l.bytes());
    write_files_atomic({{model_path, model, 0600}, {labels_path, labels, 0600}});
}

TrainedModel load_model(const std::string& model_path, const std::string& labels_path) {
    try {
        return read_pair(model_path, labels_path);
    } catch (const ModelError&) {
        throw;
    } catch (const Error& e) {
        throw ModelError(e.subject(), e.cause());  // nothing can be labelled without the model: exit 2
    }
}

}  // namespace facepipe
