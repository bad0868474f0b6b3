#include "landmark_cache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <dlib/image_processing/shape_predictor.h>
#include <dlib/opencv/cv_image.h>
#include <dlib/serialize.h>
#include <limits>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <vector>

#include "container.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"

namespace facepipe {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kMagic = "FPLMCACH";
const std::string kKind = "landmark cache";

// Payload layout, version 1 (docs/formats.md). Offsets are from the payload's start.
constexpr std::size_t kHeaderBytes = 72;  // 6 x u32, u64 size, i64 mtime, 32-byte sha256
// Arrays start at file offsets that are multiples of 64 (a cache line).
constexpr std::size_t kAlign = 64;

// Limits a well-formed cache stays within (the 68-point model: 68, 15, 500, 15, 500).
constexpr std::uint32_t kMaxParts = 1000, kMaxCascades = 100, kMaxTrees = 100000, kMaxSplits = 4095,
                        kMaxFeatures = 1000000;

struct Dims {
    std::uint32_t parts = 0, cascades = 0, trees = 0, splits = 0, features = 0;
    std::uint64_t leaves() const { return std::uint64_t(splits) + 1; }
};

// Where each array lies in the payload, and the payload's total size.
struct Layout {
    std::uint64_t initial_shape, anchors, deltas, splits, leaves, end;
};

std::uint64_t align_up(std::uint64_t payload_offset) {
    const std::uint64_t file_offset = kContainerHeaderBytes + payload_offset;
    return (file_offset + kAlign - 1) / kAlign * kAlign - kContainerHeaderBytes;
}

// Requires: dims within the limits above (so nothing overflows 64 bits).
Layout layout_of(const Dims& d) {
    Layout l{};
    std::uint64_t at = align_up(kHeaderBytes);
    auto place = [&](std::uint64_t& where, std::uint64_t bytes) {
        where = at;
        at = align_up(at + bytes);
        l.end = where + bytes;
    };
    const std::uint64_t levels = d.cascades, trees = std::uint64_t(d.cascades) * d.trees;
    place(l.initial_shape, 2ull * d.parts * 4);
    place(l.anchors, levels * d.features * 4);
    place(l.deltas, levels * d.features * 8);
    place(l.splits, trees * d.splits * 12);
    place(l.leaves, trees * d.leaves() * 2ull * d.parts * 4);
    return l;
}

bool little_endian_host() {
    const std::uint32_t one = 1;
    unsigned char b;
    std::memcpy(&b, &one, 1);
    return b == 1;
}

void put_u32(std::string& out, std::size_t at, std::uint32_t v) { std::memcpy(&out[at], &v, 4); }
void put_u64(std::string& out, std::size_t at, std::uint64_t v) { std::memcpy(&out[at], &v, 8); }
std::uint32_t get_u32(const char* p) { std::uint32_t v; std::memcpy(&v, p, 4); return v; }
std::uint64_t get_u64(const char* p) { std::uint64_t v; std::memcpy(&v, p, 8); return v; }

std::string hex(std::string_view raw) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : raw) out += digits[c >> 4], out += digits[c & 15];
    return out;
}

std::string unhex(const std::string& h) {
    std::string out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2) out += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
    return out;
}

LandmarkSource stat_source(const fs::path& source) {
    struct stat st {};
    if (::stat(source.c_str(), &st) != 0) throw Error(source.string(), std::string("cannot open: ") + std::strerror(errno));
    LandmarkSource s;
    s.size = static_cast<std::uint64_t>(st.st_size);
    s.mtime_ns = std::int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    return s;
}

// The parts of a dlib::shape_predictor, read and written in its own serialisation
// order (dlib/image_processing/shape_predictor.h: version 1, initial_shape,
// forests, anchor_idx, deltas). Its members are private; these types are public.
struct DlibShapeModel {
    dlib::matrix<float, 0, 1> initial_shape;
    std::vector<std::vector<dlib::impl::regression_tree>> forests;
    std::vector<std::vector<unsigned long>> anchor_idx;
    std::vector<std::vector<dlib::vector<float, 2>>> deltas;
};

DlibShapeModel parse_dlib(const std::string& bytes, const fs::path& source) {
    DlibShapeModel m;
    std::istringstream in(bytes, std::ios::binary);
    try {
        int version = 0;
        dlib::deserialize(version, in);
        if (version != 1) throw Error(source.string(), "not a dlib shape predictor (version " + std::to_string(version) + ")");
        dlib::deserialize(m.initial_shape, in);
        dlib::deserialize(m.forests, in);
        dlib::deserialize(m.anchor_idx, in);
        dlib::deserialize(m.deltas, in);
    } catch (const dlib::serialization_error& e) {
        throw Error(source.string(), std::string("not a dlib shape predictor: ") + e.what());
    }
    if (in.peek() != std::char_traits<char>::eof()) throw Error(source.string(), "not a dlib shape predictor: trailing bytes");
    return m;
}

std::string serialise_dlib(const DlibShapeModel& m) {
    std::ostringstream out(std::ios::binary);
    dlib::serialize(1, out);
    dlib::serialize(m.initial_shape, out);
    dlib::serialize(m.forests, out);
    dlib::serialize(m.anchor_idx, out);
    dlib::serialize(m.deltas, out);
    return out.str();
}

// Checks that m is a cascade of regular forests the cache can hold; throws Error(source, ...).
Dims dims_of(const DlibShapeModel& m, const fs::path& source) {
    auto refuse = [&](const std::string& why) { throw Error(source.string(), "cannot cache this shape predictor: " + why); };
    Dims d;
    if (m.initial_shape.size() == 0 || m.initial_shape.size() % 2) refuse("odd or empty initial shape");
    d.parts = static_cast<std::uint32_t>(m.initial_shape.size() / 2);
    d.cascades = static_cast<std::uint32_t>(m.forests.size());
    if (d.cascades == 0 || m.anchor_idx.size() != d.cascades || m.deltas.size() != d.cascades)
        refuse("cascade levels, anchors and deltas differ in number");
    d.trees = static_cast<std::uint32_t>(m.forests[0].size());
    d.features = static_cast<std::uint32_t>(m.anchor_idx[0].size());
    if (d.trees == 0 || m.forests[0][0].splits.empty()) refuse("empty forest");
    d.splits = static_cast<std::uint32_t>(m.forests[0][0].splits.size());
    if (d.parts > kMaxParts || d.cascades > kMaxCascades || d.trees > kMaxTrees || d.splits > kMaxSplits ||
        d.features > kMaxFeatures || d.features == 0)
        refuse("larger than the cache's limits");
    if ((d.leaves() & (d.leaves() - 1)) != 0) refuse("trees not fully grown");
    for (std::uint32_t c = 0; c < d.cascades; ++c) {
        if (m.forests[c].size() != d.trees) refuse("forests of different sizes");
        if (m.anchor_idx[c].size() != d.features || m.deltas[c].size() != d.features)
            refuse("cascade levels with different numbers of feature pixels");
        for (unsigned long a : m.anchor_idx[c])
            if (a >= d.parts) refuse("an anchor past the last landmark");
        for (const auto& t : m.forests[c]) {
            if (t.splits.size() != d.splits || t.leaf_values.size() != d.leaves()) refuse("trees of different depths");
            for (const auto& s : t.splits)
                if (s.idx1 >= d.features || s.idx2 >= d.features) refuse("a split on a missing feature pixel");
            for (const auto& leaf : t.leaf_values)
                if (leaf.size() != 2 * long(d.parts)) refuse("a leaf of the wrong size");
        }
    }
    return d;
}

std::string payload_of(const DlibShapeModel& m, const Dims& d, const LandmarkSource& src) {
    const Layout l = layout_of(d);
    std::string p(l.end, '\0');
    put_u32(p, 0, d.parts);
    put_u32(p, 4, d.cascades);
    put_u32(p, 8, d.trees);
    put_u32(p, 12, d.splits);
    put_u32(p, 16, d.features);
    put_u32(p, 20, 0);
    put_u64(p, 24, src.size);
    put_u64(p, 32, static_cast<std::uint64_t>(src.mtime_ns));
    const std::string raw = unhex(src.sha256);
    std::memcpy(&p[40], raw.data(), 32);

    std::memcpy(&p[l.initial_shape], &m.initial_shape(0), 2 * d.parts * 4);
    std::size_t a = l.anchors, dl = l.deltas, s = l.splits, lv = l.leaves;
    for (std::uint32_t c = 0; c < d.cascades; ++c) {
        for (std::uint32_t f = 0; f < d.features; ++f) {
            put_u32(p, a, static_cast<std::uint32_t>(m.anchor_idx[c][f])), a += 4;
            const float xy[2] = {m.deltas[c][f].x(), m.deltas[c][f].y()};
            std::memcpy(&p[dl], xy, 8), dl += 8;
        }
        for (const auto& t : m.forests[c]) {
            for (const auto& sp : t.splits) {
                put_u32(p, s, static_cast<std::uint32_t>(sp.idx1));
                put_u32(p, s + 4, static_cast<std::uint32_t>(sp.idx2));
                std::memcpy(&p[s + 8], &sp.thresh, 4);
                s += 12;
            }
            for (const auto& leaf : t.leaf_values) std::memcpy(&p[lv], &leaf(0), 2 * d.parts * 4), lv += 2 * d.parts * 4;
        }
    }
    return p;
}

}  // namespace

struct LandmarkCache::Impl {
    std::unique_ptr<MappedContainer> map;
    Dims dims;
    LandmarkSource source;
    // Small arrays, copied at open into dlib's own types so that dlib's functions take them.
    dlib::matrix<float, 0, 1> initial_shape;
    std::vector<std::vector<unsigned long>> anchor_idx;
    std::vector<std::vector<dlib::vector<float, 2>>> deltas;
    // The large ones, used where they lie in the mapping.
    const char* splits = nullptr;  // per tree, per split: u32 idx1, u32 idx2, f32 thresh
    const float* leaves = nullptr; // per tree, per leaf: 2 * parts floats

    DlibShapeModel to_dlib() const;
};

LandmarkCache::LandmarkCache(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LandmarkCache::~LandmarkCache() = default;
unsigned long LandmarkCache::num_parts() const { return impl_->dims.parts; }
const LandmarkSource& LandmarkCache::source() const { return impl_->source; }

std::shared_ptr<const LandmarkCache> LandmarkCache::open(const fs::path& cache, const fs::path& source,
                                                         const std::string& source_sha256) {
    const std::string name = cache.string();
    if (!little_endian_host()) throw Error(name, "a little-endian file on a big-endian machine");
    auto impl = std::make_unique<Impl>();
    impl->map = std::make_unique<MappedContainer>(name, kMagic, kKind, kLandmarkCacheVersion);
    const std::string_view p = impl->map->payload();
    auto corrupted = [&](const std::string& what) { throw Error(name, "corrupted: " + what); };
    if (p.size() < kHeaderBytes) corrupted("payload shorter than its header");

    Dims& d = impl->dims;
    d.parts = get_u32(p.data()), d.cascades = get_u32(p.data() + 4), d.trees = get_u32(p.data() + 8);
    d.splits = get_u32(p.data() + 12), d.features = get_u32(p.data() + 16);
    if (d.parts == 0 || d.parts > kMaxParts || d.cascades == 0 || d.cascades > kMaxCascades || d.trees == 0 ||
        d.trees > kMaxTrees || d.splits == 0 || d.splits > kMaxSplits || d.features == 0 || d.features > kMaxFeatures ||
        (d.leaves() & (d.leaves() - 1)) != 0)
        corrupted("dimensions out of range");
    const Layout l = layout_of(d);
    if (l.end != p.size())
        corrupted("payload of " + std::to_string(p.size()) + " bytes, its dimensions need " + std::to_string(l.end));
    impl->source.size = get_u64(p.data() + 24);
    impl->source.mtime_ns = static_cast<std::int64_t>(get_u64(p.data() + 32));
    impl->source.sha256 = hex(p.substr(40, 32));

    // Every index, before any is used.
    const char* base = p.data();
    impl->initial_shape.set_size(2 * d.parts);
    std::memcpy(&impl->initial_shape(0), base + l.initial_shape, 2 * d.parts * 4);
    impl->anchor_idx.assign(d.cascades, std::vector<unsigned long>(d.features));
    impl->deltas.assign(d.cascades, std::vector<dlib::vector<float, 2>>(d.features));
    for (std::uint32_t c = 0; c < d.cascades; ++c)
        for (std::uint32_t f = 0; f < d.features; ++f) {
            const std::size_t i = std::size_t(c) * d.features + f;
            const std::uint32_t a = get_u32(base + l.anchors + 4 * i);
            if (a >= d.parts) corrupted("anchor " + std::to_string(a) + " past the last landmark");
            impl->anchor_idx[c][f] = a;
            float xy[2];
            std::memcpy(xy, base + l.deltas + 8 * i, 8);
            impl->deltas[c][f] = dlib::vector<float, 2>(xy[0], xy[1]);
        }
    const std::uint64_t n_splits = std::uint64_t(d.cascades) * d.trees * d.splits;
    for (std::uint64_t i = 0; i < n_splits; ++i) {
        const char* s = base + l.splits + 12 * i;
        if (get_u32(s) >= d.features || get_u32(s + 4) >= d.features) corrupted("a split on a missing feature pixel");
    }
    impl->splits = base + l.splits;
    impl->leaves = reinterpret_cast<const float*>(base + l.leaves);

    // The right source? A size and mtime as recorded, or the same content.
    const LandmarkSource now = stat_source(source);
    std::string sha = source_sha256;
    if (sha.empty() && !(now.size == impl->source.size && now.mtime_ns == impl->source.mtime_ns))
        sha = sha256_file(source.string());
    if (!sha.empty() && sha != impl->source.sha256)
        throw Error(name, "stale: made from a shape predictor with sha256 " + impl->source.sha256 + ", " +
                              source.string() + " has " + sha + "; re-run `facepipe models import`");
    return std::shared_ptr<const LandmarkCache>(new LandmarkCache(std::move(impl)));
}

// dlib::shape_predictor::operator() with the forests read from the mapping.
dlib::full_object_detection LandmarkCache::predict(const cv::Mat& bgr, const dlib::rectangle& rect) const {
    using namespace dlib::impl;
    const Impl& m = *impl_;
    const dlib::cv_image<dlib::bgr_pixel> img(bgr);
    const std::uint32_t S = m.dims.splits, P2 = 2 * m.dims.parts;
    dlib::matrix<float, 0, 1> current_shape = m.initial_shape;
    std::vector<float> feature_pixel_values;
    for (std::uint32_t iter = 0; iter < m.dims.cascades; ++iter) {
        extract_feature_pixel_values(img, rect, current_shape, m.initial_shape, m.anchor_idx[iter], m.deltas[iter],
                                     feature_pixel_values);
        const std::size_t first_tree = std::size_t(iter) * m.dims.trees;
        for (std::uint32_t t = 0; t < m.dims.trees; ++t) {
            const char* splits = m.splits + (first_tree + t) * S * 12;
            // regression_tree::operator(): left when the pixel difference exceeds the threshold.
            unsigned long i = 0;
            while (i < S) {
                const char* s = splits + 12 * i;
                float thresh;
                std::memcpy(&thresh, s + 8, 4);
                if ((float)feature_pixel_values[get_u32(s)] - (float)feature_pixel_values[get_u32(s + 4)] > thresh)
                    i = left_child(i);
                else
                    i = right_child(i);
            }
            const float* leaf = m.leaves + ((first_tree + t) * (S + 1) + (i - S)) * P2;
            for (std::uint32_t k = 0; k < P2; ++k) current_shape(k) += leaf[k];
        }
    }
    const dlib::point_transform_affine tform_to_img = unnormalizing_tform(rect);
    std::vector<dlib::point> parts(current_shape.size() / 2);
    for (unsigned long i = 0; i < parts.size(); ++i) parts[i] = tform_to_img(location(current_shape, i));
    return dlib::full_object_detection(rect, parts);
}

DlibShapeModel LandmarkCache::Impl::to_dlib() const {
    DlibShapeModel m;
    m.initial_shape = initial_shape;
    m.anchor_idx = anchor_idx;
    m.deltas = deltas;
    const std::uint32_t S = dims.splits, P2 = 2 * dims.parts;
    m.forests.assign(dims.cascades, std::vector<dlib::impl::regression_tree>(dims.trees));
    for (std::uint32_t c = 0; c < dims.cascades; ++c)
        for (std::uint32_t t = 0; t < dims.trees; ++t) {
            auto& tree = m.forests[c][t];
            const std::size_t n = std::size_t(c) * dims.trees + t;
            tree.splits.resize(S);
            for (std::uint32_t i = 0; i < S; ++i) {
                const char* s = splits + (n * S + i) * 12;
                tree.splits[i].idx1 = get_u32(s);
                tree.splits[i].idx2 = get_u32(s + 4);
                std::memcpy(&tree.splits[i].thresh, s + 8, 4);
            }
            tree.leaf_values.resize(S + 1);
            for (std::uint32_t j = 0; j <= S; ++j) {
                tree.leaf_values[j].set_size(P2);
                std::memcpy(&tree.leaf_values[j](0), leaves + (n * (S + 1) + j) * P2, P2 * 4);
            }
        }
    return m;
}

std::string recorded_landmark_sha256(const fs::path& cache, const fs::path& source) {
    char head[kContainerHeaderBytes + kHeaderBytes];
    try {
        const int fd = open_regular_file(cache.string());
        const ssize_t n = ::pread(fd, head, sizeof head, 0);
        ::close(fd);
        if (n != static_cast<ssize_t>(sizeof head) || std::string_view(head, kMagic.size()) != kMagic ||
            get_u32(head + kMagic.size()) != kLandmarkCacheVersion)
            return "";
        const char* p = head + kContainerHeaderBytes;  // the payload's header (layout_of)
        const LandmarkSource now = stat_source(source);
        if (get_u64(p + 24) != now.size || static_cast<std::int64_t>(get_u64(p + 32)) != now.mtime_ns) return "";
        return hex(std::string_view(p + 40, 32));
    } catch (const Error&) {
        return "";
    }
}

bool landmark_cache_enabled() {
    const char* v = std::getenv(kNoLandmarkCacheEnv);
    return !(v && *v && std::string(v) != "0");
}

namespace {

// Deterministic test pictures for write_landmark_cache's check: noise, gradients
// and face-like blobs, so that the trees' pixel comparisons go both ways.
std::vector<cv::Mat> verification_images() {
    std::vector<cv::Mat> images;
    cv::RNG rng(19);
    for (int k = 0; k < 6; ++k) {
        cv::Mat img(240 + 40 * k, 320 + 30 * k, CV_8UC3);
        if (k % 2 == 0) {
            rng.fill(img, cv::RNG::UNIFORM, cv::Scalar::all(0), cv::Scalar::all(256));
        } else {
            for (int y = 0; y < img.rows; ++y)
                for (int x = 0; x < img.cols; ++x)
                    img.at<cv::Vec3b>(y, x) = cv::Vec3b(uchar(x * 255 / img.cols), uchar(y * 255 / img.rows), uchar((x + y) % 256));
        }
        const cv::Point c(img.cols / 2, img.rows / 2);
        const int r = std::min(img.cols, img.rows) / 3;
        cv::ellipse(img, c, cv::Size(r, r * 5 / 4), 0, 0, 360, cv::Scalar(150, 170, 200), cv::FILLED);
        cv::circle(img, c + cv::Point(-r / 3, -r / 4), r / 8, cv::Scalar(30, 30, 30), cv::FILLED);
        cv::circle(img, c + cv::Point(r / 3, -r / 4), r / 8, cv::Scalar(30, 30, 30), cv::FILLED);
        cv::line(img, c + cv::Point(-r / 3, r / 2), c + cv::Point(r / 3, r / 2), cv::Scalar(40, 40, 120), 3);
        cv::GaussianBlur(img, img, cv::Size(0, 0), 1.0 + k % 3);
        images.push_back(img);
    }
    return images;
}

std::vector<dlib::rectangle> verification_boxes(const cv::Mat& img) {
    const long w = img.cols, h = img.rows, s = std::min(w, h);
    return {dlib::rectangle(w / 2 - s / 3, h / 2 - s / 3, w / 2 + s / 3, h / 2 + s / 3),
            dlib::rectangle(0, 0, s / 2, s / 2),
            dlib::rectangle(w / 4, h / 5, w / 4 + s / 4, h / 5 + s / 4),
            dlib::rectangle(-s / 4, -s / 4, s / 2, s / 2),          // reaching past the top-left corner
            dlib::rectangle(w - s / 3, h - s / 3, w + s / 3, h + s / 3),  // and past the bottom-right
            dlib::rectangle(-10, -10, w + 10, h + 10),
            dlib::rectangle(w / 3, h / 3, w / 3 + 19, h / 3 + 19)};
}

bool same_shape(const dlib::full_object_detection& a, const dlib::full_object_detection& b) {
    if (a.get_rect() != b.get_rect() || a.num_parts() != b.num_parts()) return false;
    for (unsigned long i = 0; i < a.num_parts(); ++i)
        if (a.part(i) != b.part(i)) return false;
    return true;
}

}  // namespace

LandmarkCacheReport write_landmark_cache(const fs::path& source, const fs::path& cache) {
    const std::string bytes = read_file(source.string());
    LandmarkSource src = stat_source(source);
    src.sha256 = sha256_hex(bytes);
    const DlibShapeModel model = parse_dlib(bytes, source);
    const Dims dims = dims_of(model, source);
    write_container(cache.string(), kMagic, kLandmarkCacheVersion, payload_of(model, dims, src), 0644);

    LandmarkCacheReport report;
    report.cache = cache;
    report.source_sha256 = src.sha256;
    auto reject = [&](const std::string& why) {
        std::error_code ec;
        fs::remove(cache, ec);
        throw Error(cache.string(), "failed verification, removed: " + why);
    };
    std::shared_ptr<const LandmarkCache> mapped;
    try {
        mapped = LandmarkCache::open(cache, source, src.sha256);
    } catch (const Error& e) {
        reject(e.cause());
    }
    // 1. The mapped arrays are the model: written back in dlib's format, they are the source's bytes.
    if (serialise_dlib(mapped->impl_->to_dlib()) != bytes) reject("its arrays, written back in dlib's format, differ from the source");
    // 2. Its landmarks are dlib's own, on every test picture and box.
    dlib::shape_predictor reference;
    {
        std::istringstream in(bytes, std::ios::binary);
        dlib::deserialize(reference, in);
    }
    for (const cv::Mat& img : verification_images()) {
        ++report.images_checked;
        for (const auto& box : verification_boxes(img)) {
            ++report.shapes_checked;
            if (!same_shape(mapped->predict(img, box), reference(dlib::cv_image<dlib::bgr_pixel>(img), box)))
                reject("landmarks differ from dlib's on a generated picture");
        }
    }
    return report;
}

}  // namespace facepipe
