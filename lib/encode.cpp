#include "encode.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "dataset.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "threads.h"
#include "version.h"

namespace facepipe {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

// The rates both reports print: per image encoded this run (at least 1, so a run
// that encoded nothing shows 0), and images encoded per wall-clock second.
struct PerEncodedImage {
    double images_per_second, load_ms, detect_ms, landmarks_ms, descriptor_ms;
};

PerEncodedImage per_encoded_image(const EncodeSummary& s) {
    const double n = std::max(1, s.encoded);
    return {s.seconds > 0 ? s.encoded / s.seconds : 0.0, s.load_ms / n, s.times.detect_ms / n,
            s.times.landmarks_ms / n, s.times.descriptor_ms / n};
}

// The records of the previous run, or none; refuses to mix models or drop a file it can't read.
// Records whose face another detector found are dropped (so re-encoded), but
// for unreadable ones, which no detector saw.
std::map<std::string, EncodingRecord> previous_records(const EncodeOptions& o, const std::string& model_id) {
    std::map<std::string, EncodingRecord> by_path;
    std::error_code ec;
    if (o.rebuild || !fs::exists(o.output, ec)) return by_path;
    EncodingsFile old;
    try {
        old = read_encodings(o.output.string());
        require_same_model(o.output.string(), old.model_id, model_id);
    } catch (const Error& e) {
        throw Error(e.subject(), e.cause() + " (use --rebuild to replace it)");
    }
    const DetectorKind detector = o.analyzer.detector.kind;
    int dropped = 0;
    for (auto& r : old.records) {
        if (old.detector != detector && r.status != EncodeStatus::unreadable) {
            ++dropped;
            continue;
        }
        by_path.emplace(r.path, std::move(r));
    }
    if (dropped > 0)
        spdlog::info("{}: made with the {} detector; re-encoding its {} images with {}", o.output.string(),
                     to_string(old.detector), dropped, to_string(detector));
    return by_path;
}

EncodingRecord skeleton(const DatasetImage& img) {
    EncodingRecord r;
    r.person = img.person;
    r.path = img.rel_path;
    r.source = img.source;
    r.augmentation = img.augmentation;
    return r;
}

// Worker-side: one image to one record. Never throws for bad input.
struct Worker {
    FaceAnalyzer analyzer;
    const ImageLimits& limits;
    FaceChoice choice;
    double load_ms = 0;

    EncodingRecord encode(const DatasetImage& img, const std::string& content_hash, const std::string& bytes) {
        EncodingRecord r = skeleton(img);
        r.content_hash = content_hash;
        LoadedImage loaded;
        const auto t0 = Clock::now();
        try {
            loaded = decode_image(bytes, img.abs.string(), limits, content_hash);  // hashed once, by the caller
        } catch (const Error& e) {
            r.status = EncodeStatus::unreadable;
            r.note = e.cause();
            return r;
        }
        load_ms += std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        const auto faces = analyzer.analyze(loaded, 1, &r.faces_found);
        if (faces.empty()) {
            r.status = EncodeStatus::no_face;
            r.note = "no face found";
            return r;
        }
        r.box = faces.front().box;
        r.descriptor = faces.front().descriptor;
        if (r.faces_found > 1) {
            r.face_choice = choice;
            r.note = multi_face_note(r.faces_found, choice);
        }
        return r;
    }
};

struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<EncodingRecord> done;  // produced, not yet merged
    int finished_workers = 0;
    std::atomic<size_t> next{0};
};

void write_store(const EncodeOptions& o, const std::string& model_id,
                 const std::map<std::string, EncodingRecord>& recs) {
    EncodingsFile f;
    f.model_id = model_id;
    f.detector = o.analyzer.detector.kind;
    f.records.reserve(recs.size());
    for (const auto& [path, r] : recs) f.records.push_back(r);
    write_encodings(o.output.string(), f);
}

// A write failed mid-run (the disk is full, say): the records the journal
// holds are kept for the next run, which recovers them; an empty journal goes.
Error failed_write(EncodingsJournal& journal, const Error& e) {
    if (journal.records() == 0) {
        journal.remove();
        return e;
    }
    return Error(e.subject(), e.cause() + "; the " + std::to_string(journal.records()) +
                                  " images done are kept in " + journal.path() + " for the next run");
}

void tally(EncodeSummary& s, const std::map<std::string, EncodingRecord>& recs) {
    std::set<std::string> people;
    for (const auto& [path, r] : recs) {
        if (r.status == EncodeStatus::ok) ++s.ok, people.insert(r.person);
        if (r.status == EncodeStatus::no_face) ++s.no_face;
        if (r.status == EncodeStatus::unreadable) ++s.unreadable;
        if (r.faces_found > 1) ++s.multi_face;
        if (r.status != EncodeStatus::ok || r.faces_found > 1) s.problems.push_back(r.path + ": " + r.note);
    }
    s.people = static_cast<int>(people.size());
}

}  // namespace

fs::path journal_path(const fs::path& output) { return output.string() + ".journal"; }

bool reusable(const EncodingRecord& previous, const std::string& content_hash, FaceChoice choice) {
    return previous.content_hash == content_hash && (previous.faces_found <= 1 || previous.face_choice == choice);
}

EncodeSummary encode_dataset(const EncodeOptions& o, std::shared_ptr<const LoadedModels> models,
                             const ProgressCallback& progress) {
    const auto start = Clock::now();
    const std::string model_id = models->files().model_id();
    DatasetScan scan = scan_dataset(o.dataset, o.include_augmented);
    for (const auto& w : scan.warnings) spdlog::warn("{}", w);
    if (scan.images.empty())
        throw Error(o.dataset.string(), "no photos found (expected one folder of photos per person)");
    // Everything below (reuse, pruning, the journal) then works on this shard's share alone.
    auto& imgs = scan.images;
    imgs.erase(std::remove_if(imgs.begin(), imgs.end(),
                              [&](const DatasetImage& img) { return !in_shard(img.rel_path, o.shard); }),
               imgs.end());
    auto records = previous_records(o, model_id);

    EncodeSummary s;
    s.images = static_cast<int>(scan.images.size());
    s.left_out = scan.left_out;
    std::set<std::string> present;
    for (const auto& img : scan.images) present.insert(img.rel_path);
    for (auto it = records.begin(); it != records.end();)
        it = present.count(it->first) ? std::next(it) : (++s.pruned, records.erase(it));

    // Records a previous run finished but never saved (it crashed or was killed).
    const std::string journal_file = journal_path(o.output).string();
    int recovered = 0;
    const DetectorKind detector = o.analyzer.detector.kind;
    for (auto& r : EncodingsJournal::recover(journal_file, model_id, detector))
        if (present.count(r.path)) records[r.path] = std::move(r), ++recovered;
    if (recovered > 0) {
        spdlog::info("{}: recovered {} records of an interrupted run", journal_file, recovered);
        write_store(o, model_id, records);  // saved before the journal is started afresh
    }
    EncodingsJournal journal(journal_file, model_id, detector);

    const int threads = resolve_threads(o.threads);
    // One BLAS thread always: images are processed in parallel (nested BLAS threads
    // would only contend), and OpenBLAS splits work differently with more threads,
    // which changes a descriptor's last bits. With one, a descriptor does not depend
    // on --threads, so shards run with any core count merge into the very bytes of a
    // single encode (shard.h).
    set_blas_threads(1);
    Shared sh;
    std::vector<std::unique_ptr<Worker>> workers;
    for (int i = 0; i < threads; ++i)
        workers.push_back(std::make_unique<Worker>(Worker{FaceAnalyzer(models, o.analyzer), o.limits, o.analyzer.choice}));
    std::atomic<int> reused{0};
    auto run = [&](Worker& w) {
        for (size_t i; (i = sh.next++) < scan.images.size();) {
            const DatasetImage& img = scan.images[i];
            EncodingRecord r;
            try {
                const std::string bytes = read_file(img.abs.string(), o.limits.max_file_bytes);
                const std::string hash = sha256_hex(bytes);
                const auto old = records.find(img.rel_path);  // read-only while workers run
                if (old != records.end() && reusable(old->second, hash, o.analyzer.choice)) {
                    r = old->second;
                    ++reused;
                } else {
                    r = w.encode(img, hash, bytes);
                }
            } catch (const Error& e) {
                r = skeleton(img);
                r.status = EncodeStatus::unreadable;
                r.note = e.cause();
            }
            std::lock_guard lock(sh.mu);
            sh.done.push_back(std::move(r));
            sh.cv.notify_one();
        }
        std::lock_guard lock(sh.mu);
        ++sh.finished_workers;
        sh.cv.notify_one();
    };
    std::vector<std::thread> pool;
    for (auto& w : workers) pool.emplace_back(run, std::ref(*w));

    // Merge results on this thread only; journal each one so a crash loses none.
    std::map<std::string, EncodingRecord> merged;
    size_t received = 0;
    try {
        for (bool finished = false; !finished;) {
            std::vector<EncodingRecord> batch;
            {
                std::unique_lock lock(sh.mu);
                sh.cv.wait_for(lock, std::chrono::milliseconds(500),
                               [&] { return !sh.done.empty() || sh.finished_workers == threads; });
                batch.swap(sh.done);
                finished = sh.finished_workers == threads && batch.empty();
            }
            for (auto& r : batch) {
                journal.append(r);
                merged[r.path] = std::move(r);
            }
            received += batch.size();
            if (progress && !batch.empty()) progress(received, scan.images.size());
        }
    } catch (const Error& e) {
        sh.next = scan.images.size();  // hand out no more images, let the workers finish theirs
        for (auto& t : pool) t.join();
        throw failed_write(journal, e);
    }
    for (auto& t : pool) t.join();

    s.reused = reused;
    s.encoded = static_cast<int>(merged.size()) - s.reused;
    for (const auto& w : workers) {
        s.load_ms += w->load_ms;
        s.times += w->analyzer.times();
    }
    tally(s, merged);
    try {
        write_store(o, model_id, merged);
    } catch (const Error& e) {
        throw failed_write(journal, e);
    }
    journal.remove();
    s.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return s;
}

std::string format_summary(const EncodeSummary& s) {
    std::ostringstream out;
    out << s.images << " images (" << s.encoded << " encoded, " << s.reused << " unchanged, " << s.pruned
        << " pruned): " << s.ok << " faces of " << s.people << " people; " << s.no_face << " without a face, "
        << s.unreadable << " unreadable, " << s.multi_face << " with several faces";
    if (s.left_out > 0) out << "; " << s.left_out << " dataset entries left out (not readable files)";
    out << "\n";
    char line[256];
    const PerEncodedImage per = per_encoded_image(s);
    std::snprintf(line, sizeof line,
                  "%.1f s, %.1f images/s encoded; ms per encoded image: load %.1f, detect %.1f, landmarks %.1f, "
                  "descriptor %.1f\n",
                  s.seconds, per.images_per_second, per.load_ms, per.detect_ms, per.landmarks_ms, per.descriptor_ms);
    out << line;
    return out.str();
}

std::string format_summary_json(const EncodeSummary& s) {
    const PerEncodedImage per = per_encoded_image(s);
    const nlohmann::json j = {
        {"images", s.images},
        {"encoded", s.encoded},
        {"reused", s.reused},
        {"pruned", s.pruned},
        {"ok", s.ok},
        {"people", s.people},
        {"no_face", s.no_face},
        {"unreadable", s.unreadable},
        {"multi_face", s.multi_face},
        {"left_out", s.left_out},
        {"seconds", s.seconds},
        {"images_per_second", per.images_per_second},
        {"stage_ms", {{"load", s.load_ms},
                      {"detect", s.times.detect_ms},
                      {"landmarks", s.times.landmarks_ms},
                      {"descriptor", s.times.descriptor_ms}}},
        {"ms_per_encoded_image", {{"load", per.load_ms},
                                  {"detect", per.detect_ms},
                                  {"landmarks", per.landmarks_ms},
                                  {"descriptor", per.descriptor_ms}}},
        {"problems", s.problems},
    };
    // Paths are bytes, not necessarily UTF-8: replace what JSON cannot carry rather than fail.
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace facepipe
