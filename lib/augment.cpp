#include "augment.h"

#include <spdlog/spdlog.h>

#include <opencv2/imgcodecs.hpp>  // the IMREAD_ and IMWRITE_ flags
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "dataset.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "image.h"
#include "media.h"
#include "walk.h"

namespace facepipe {
namespace fs = std::filesystem;
namespace {

// std::uniform_real_distribution and friends differ between standard libraries;
// mt19937_64 itself is fully specified, so we derive every parameter from its
// raw output to keep copies byte-identical everywhere.
double unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }
double uniform(std::mt19937_64& rng, double lo, double hi) { return lo + (hi - lo) * unit(rng); }
double random_sign(std::mt19937_64& rng) { return (rng() & 1) ? 1.0 : -1.0; }

cv::Mat flip(const cv::Mat& src, std::mt19937_64&) {
    cv::Mat out;
    cv::flip(src, out, 1);
    return out;
}

cv::Mat rotate(const cv::Mat& src, std::mt19937_64& rng) {
    // At least 3 degrees, so the copy differs visibly from the original.
    const double angle = random_sign(rng) * uniform(rng, 3.0, 12.0);
    const cv::Point2f centre(src.cols / 2.0f, src.rows / 2.0f);
    cv::Mat out;
    cv::warpAffine(src, out, cv::getRotationMatrix2D(centre, angle, 1.0), src.size(),
                   cv::INTER_LINEAR, cv::BORDER_REFLECT_101);
    return out;
}

cv::Mat brightness_contrast(const cv::Mat& src, std::mt19937_64& rng) {
    const double gain = 1.0 + random_sign(rng) * uniform(rng, 0.10, 0.25);
    const double offset = random_sign(rng) * uniform(rng, 5.0, 30.0);
    cv::Mat out;
    src.convertTo(out, CV_8UC3, gain, offset);
    return out;
}

cv::Mat gamma(const cv::Mat& src, std::mt19937_64& rng) {
    const double g = (rng() & 1) ? uniform(rng, 0.6, 0.85) : uniform(rng, 1.2, 1.6);
    cv::Mat lut(1, 256, CV_8U);
    for (int i = 0; i < 256; ++i)
        lut.at<uchar>(i) = cv::saturate_cast<uchar>(std::lround(255.0 * std::pow(i / 255.0, g)));
    cv::Mat out;
    cv::LUT(src, lut, out);
    return out;
}

cv::Mat blur(const cv::Mat& src, std::mt19937_64& rng) {
    cv::Mat out;
    cv::GaussianBlur(src, out, cv::Size(), uniform(rng, 0.8, 1.6));
    return out;
}

cv::Mat noise(const cv::Mat& src, std::mt19937_64& rng) {
    // cv::RNG is OpenCV's own generator, so the noise is reproducible from its seed.
    cv::RNG cvrng(rng());
    cv::Mat n(src.size(), CV_16SC3), wide;
    cvrng.fill(n, cv::RNG::NORMAL, 0.0, uniform(rng, 4.0, 10.0));
    src.convertTo(wide, CV_16SC3);
    cv::Mat out;
    cv::Mat(wide + n).convertTo(out, CV_8UC3);
    return out;
}

cv::Mat jpeg(const cv::Mat& src, std::mt19937_64& rng) {
    const int quality = 20 + static_cast<int>(rng() % 31);  // 20..50
    std::vector<uchar> buf;
    media::imencode(".jpg", src, buf, {cv::IMWRITE_JPEG_QUALITY, quality});
    return media::imdecode(cv::Mat(buf), cv::IMREAD_COLOR);
}

// Cuts 2..10% off one axis, split at random between its two ends.
std::pair<int, int> crop_span(int length, std::mt19937_64& rng) {
    const double cut = length * uniform(rng, 0.02, 0.10);
    const int first = static_cast<int>(std::lround(cut * unit(rng)));
    const int keep = std::max(1, length - static_cast<int>(std::lround(cut)));
    return {std::min(first, length - keep), keep};
}

cv::Mat scale_crop(const cv::Mat& src, std::mt19937_64& rng) {
    const auto [x, w] = crop_span(src.cols, rng);
    const auto [y, h] = crop_span(src.rows, rng);
    cv::Mat out;
    cv::resize(src(cv::Rect(x, y, w, h)), out, src.size(), 0, 0, cv::INTER_LINEAR);
    return out;
}

cv::Mat grayscale(const cv::Mat& src, std::mt19937_64&) {
    cv::Mat grey, out;
    cv::cvtColor(src, grey, cv::COLOR_BGR2GRAY);
    cv::cvtColor(grey, out, cv::COLOR_GRAY2BGR);
    return out;
}

using OpFn = cv::Mat (*)(const cv::Mat&, std::mt19937_64&);

const std::vector<std::pair<std::string, OpFn>>& op_table() {
    static const std::vector<std::pair<std::string, OpFn>> table = {
        {"flip", flip},   {"rotate", rotate}, {"brightness_contrast", brightness_contrast},
        {"gamma", gamma}, {"blur", blur},     {"noise", noise},
        {"jpeg", jpeg},   {"scale_crop", scale_crop}, {"grayscale", grayscale}};
    return table;
}

// A 64-bit value derived from the label and parts only (the first 16 hex of a SHA-256).
std::uint64_t derive(const std::string& label, std::uint64_t seed, const std::string& sha,
                     int copy = -1) {
    const std::string h = sha256_hex("facepipe-augment-v1|" + label + "|" + std::to_string(seed) +
                                     "|" + sha + "|" + std::to_string(copy));
    return std::stoull(h.substr(0, 16), nullptr, 16);
}

std::vector<std::string> chosen_ops(const std::vector<std::string>& requested) {
    const auto& all = augmentation_ops();
    if (requested.empty()) return all;
    for (const auto& op : requested)
        if (std::find(all.begin(), all.end(), op) == all.end()) {
            std::string known;
            for (const auto& k : all) known += (known.empty() ? "" : ", ") + k;
            throw Error("--ops", "unknown augmentation op '" + op + "' (known: " + known + ")");
        }
    // Canonical order, no repeats: `--ops blur,flip` and `--ops flip,blur` agree.
    std::vector<std::string> out;
    for (const auto& op : all)
        if (std::find(requested.begin(), requested.end(), op) != requested.end()) out.push_back(op);
    return out;
}

struct Job {
    const DatasetImage* original;
    std::vector<std::string> outputs;  // rel paths this original should have
    int created = 0, kept = 0;
    std::vector<std::string> errors;
};

std::string encode_jpeg95(const cv::Mat& img, const std::string& name) {
    std::vector<uchar> buf;
    if (!media::imencode(".jpg", img, buf, {cv::IMWRITE_JPEG_QUALITY, 95}))
        throw Error(name, "JPEG encoding failed");
    return std::string(buf.begin(), buf.end());
}

void make_copy(const cv::Mat& src, const std::string& op, std::uint64_t rng_seed, const fs::path& out) {
    std::mt19937_64 rng(rng_seed);
    write_file_atomic(out.string(), encode_jpeg95(apply_augmentation(src, op, rng), out.string()));
}

void ensure_private_dir(const fs::path& dir) {
    std::error_code ec;
    if (fs::create_directory(dir, ec))  // copies are biometric data: owner-only
        fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    if (!fs::is_directory(dir)) throw Error(dir.string(), "cannot create folder: " + ec.message());
}

void run_job(Job& job, const fs::path& root, const AugmentOptions& o, const std::vector<std::string>& ops) {
    const DatasetImage& orig = *job.original;
    const std::string path = (root / orig.rel_path).string();
    const ImageLimits limits;
    const std::string bytes = read_file(path, limits.max_file_bytes);
    const std::string sha = sha256_hex(bytes);
    const std::uint64_t offset = derive("offset", o.seed, sha) % ops.size();
    const fs::path dir = root / orig.person / kAugmentedDir;
    const std::string filename = fs::path(orig.rel_path).filename().string();
    cv::Mat pixels;  // decoded only when a copy is missing, so re-runs stay cheap
    for (int k = 0; k < o.copies; ++k) {
        const std::string op = ops[(k + offset) % ops.size()];
        const std::string name = augmented_name(filename, copy_tag(sha, o.seed), k, op);
        job.outputs.push_back(orig.person + "/" + kAugmentedDir + "/" + name);
        if (fs::exists(dir / name)) {
            ++job.kept;
            continue;
        }
        if (pixels.empty()) {
            pixels = decode_image(bytes, path, limits, sha).bgr;
            ensure_private_dir(dir);
        }
        make_copy(pixels, op, derive("copy", o.seed, sha, k), dir / name);
        ++job.created;
    }
}

void run_job_safely(Job& job, const fs::path& root, const AugmentOptions& o,
                    const std::vector<std::string>& ops) {
    try {
        run_job(job, root, o, ops);
    } catch (const Error& e) {
        job.errors.push_back(e.what());
    } catch (const std::exception& e) {  // cv::Exception, bad_alloc: still one line
        std::string cause = e.what();
        std::replace(cause.begin(), cause.end(), '\n', ' ');
        job.errors.push_back((root / job.original->rel_path).string() + ": " + cause);
    }
}

void run_jobs(std::vector<Job>& jobs, const fs::path& root, const AugmentOptions& o,
              const std::vector<std::string>& ops, const ProgressCallback& progress) {
    std::atomic<size_t> next{0};
    std::mutex progress_mutex;
    size_t done = 0;
    auto worker = [&] {
        for (size_t i; (i = next++) < jobs.size();) {
            run_job_safely(jobs[i], root, o, ops);
            std::lock_guard<std::mutex> lock(progress_mutex);
            ++done;
            if (progress) progress(done, jobs.size());
        }
    };
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const size_t n = std::min<size_t>(jobs.size(), o.threads > 0 ? size_t(o.threads) : cores);
    std::vector<std::thread> pool;
    for (size_t t = 1; t < n; ++t) pool.emplace_back(worker);
    worker();  // this thread works too
    for (auto& t : pool) t.join();
}

// Removes parseable copies not in `wanted`, except copies of originals that
// failed (their hash is unknown, so we cannot tell whether they are stale).
int prune(const fs::path& root, const std::set<std::string>& wanted,
          const std::set<std::string>& failed_sources, std::vector<std::string>& errors) {
    int removed = 0;
    // Only what scan_dataset lists can be pruned: entries it left out (and warned
    // about) are neither followed nor removed here.
    for (const auto& person : list_folder(root)) {
        const fs::path dir = person.path / kAugmentedDir;
        if (!is_safe_person_name(person.name) || !person.is_folder() || inspect_path(dir.string()).kind != FileKind::folder)
            continue;
        for (const auto& e : try_list_folder(dir)) {  // none when it cannot be listed (the scan warned)
            const std::string& file = e.name;
            const auto parsed = parse_augmented_name(file);
            if (!parsed || !e.is_file() || file[0] == '.') continue;
            const std::string rel = person.name + "/" + kAugmentedDir + "/" + file;
            if (wanted.count(rel) || failed_sources.count(person.name + "/" + parsed->original_filename)) continue;
            std::error_code ec;
            if (fs::remove(e.path, ec)) {
                ++removed;
                spdlog::debug("{}: stale augmented copy removed", rel);
            } else if (ec) {
                errors.push_back(e.path.string() + ": cannot remove stale copy: " + ec.message());
            }
        }
    }
    return removed;
}

}  // namespace

std::string copy_tag(const std::string& original_sha256, std::uint64_t seed) {
    return sha256_hex("facepipe-augment-v1|tag|" + std::to_string(seed) + "|" + original_sha256);
}

const std::vector<std::string>& augmentation_ops() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v;
        for (const auto& [name, fn] : op_table()) v.push_back(name);
        return v;
    }();
    return names;
}

cv::Mat apply_augmentation(const cv::Mat& bgr, const std::string& op, std::mt19937_64& rng) {
    if (bgr.empty() || bgr.type() != CV_8UC3)
        throw std::invalid_argument("apply_augmentation: need a non-empty CV_8UC3 image");
    for (const auto& [name, fn] : op_table())
        if (name == op) return fn(bgr, rng);
    throw std::invalid_argument("apply_augmentation: unknown op '" + op + "'");
}

AugmentSummary augment_dataset(const fs::path& root, const AugmentOptions& o,
                               const ProgressCallback& progress) {
    if (o.copies < 0 || o.copies > 100) throw Error("--copies", "must be between 0 and 100");
    const std::vector<std::string> ops = chosen_ops(o.ops);
    DatasetScan scan = scan_dataset(root, false);

    std::vector<Job> jobs;
    for (const auto& img : scan.images) jobs.push_back(Job{&img, {}, 0, 0, {}});
    run_jobs(jobs, root, o, ops, progress);

    AugmentSummary s;
    s.originals = static_cast<int>(jobs.size());
    s.warnings = std::move(scan.warnings);
    s.left_out = scan.left_out;
    std::set<std::string> wanted, failed_sources;
    for (const auto& job : jobs) {
        s.created += job.created;
        s.kept += job.kept;
        wanted.insert(job.outputs.begin(), job.outputs.end());
        if (job.errors.empty()) continue;
        ++s.failed;
        failed_sources.insert(job.original->rel_path);
        s.errors.insert(s.errors.end(), job.errors.begin(), job.errors.end());
    }
    if (o.prune) {
        try {
            s.pruned = prune(root, wanted, failed_sources, s.errors);
        } catch (const Error& e) {
            s.errors.push_back(std::string(e.what()) + " (nothing pruned)");
        }
    }
    spdlog::debug("augment {}: {} originals, {} created, {} kept, {} pruned, {} failed",
                  root.string(), s.originals, s.created, s.kept, s.pruned, s.failed);
    return s;
}

}  // namespace facepipe
