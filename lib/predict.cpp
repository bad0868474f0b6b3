#include "predict.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>  // the IMWRITE_ flags
#include <set>

#include "annotate.h"
#include "encodings.h"
#include "error.h"
#include "fsutil.h"
#include "media.h"
#include "threads.h"
#include "unknown_collect.h"
#include "version.h"
#include "walk.h"

namespace facepipe {
namespace fs = std::filesystem;

std::vector<std::string> expand_inputs(const std::vector<std::string>& args, std::istream& in,
                                       std::vector<ImageLabels>* left_out) {
    std::vector<std::string> out;
    auto leave_out = [&](const std::string& p, const std::string& cause) {
        if (!left_out) return;
        ImageLabels r;
        r.input = p;
        r.error = cause;
        left_out->push_back(std::move(r));
    };
    auto add = [&](const std::string& p) {
        const PathInfo info = inspect_path(p);
        if (info.kind == FileKind::folder) {
            try {
                TreeWalk walk = walk_tree(p, [](const fs::path& f) { return looks_like_image_path(f); });
                out.insert(out.end(), walk.files.begin(), walk.files.end());
                for (const auto& [path, cause] : walk.left_out) leave_out(path, cause);
            } catch (const Error& e) {
                leave_out(p, e.cause());
            }
        } else if (info.kind == FileKind::regular || (info.kind == FileKind::unreadable && !info.is_folder)) {
            out.push_back(p);  // an unreadable file is reported by label_image, as when it fails to read
        } else {
            // Missing, or what can never be read as an image: a FIFO (reading it would
            // wait for a writer), a socket, a device, a symlink loop or dangling link.
            leave_out(p, info.cause);
        }
    };
    for (const auto& a : args) {
        if (a != "-") {
            add(a);
            continue;
        }
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) add(line);
    }
    return out;
}

namespace {

// Refuses a classifier trained on other models than those loaded: nothing can be labelled with it.
void check_model(const LoadedModels& models, const Classifier& classifier, const std::string& model_path) {
    try {
        require_same_model(model_path, classifier.model_id(), models.files().model_id());
    } catch (const Error& e) {
        throw ModelError(e.subject(), e.cause());
    }
}

// The annotated copy of an image: boxes and names drawn on it, as JPEG bytes.
std::string render_annotated(const LoadedImage& img, const ImageLabels& labels) {
    cv::Mat canvas = img.bgr.clone();
    for (const auto& f : labels.faces) {
        Box b = f.box;  // full-image coordinates; the canvas may be the reduced decode
        b = Box{static_cast<int>(b.x / img.scale), static_cast<int>(b.y / img.scale),
                static_cast<int>(b.width / img.scale), static_cast<int>(b.height / img.scale)};
        draw_face(canvas, b, f.prediction.name, f.prediction.distance, f.prediction.label >= 0);
    }
    std::vector<unsigned char> bytes;
    media::imencode(".jpg", canvas, bytes, {cv::IMWRITE_JPEG_QUALITY, 92});
    return std::string(bytes.begin(), bytes.end());
}

// Writes an annotated copy into `dir` under the input's name as JPEG; a second
// input of the same name (a/x.jpg, b/x.jpg, x.png) gets a numbered name rather
// than overwriting the first. `taken`: the names written so far this run.
void save_annotated(const fs::path& dir, std::set<std::string>& taken, const std::string& input,
                    const std::string& jpeg) {
    const std::string stem = fs::path(input).stem().string();
    std::string name = stem + ".jpg";
    for (int i = 1; !taken.insert(name).second; ++i) name = stem + "-" + std::to_string(i) + ".jpg";
    try {
        write_file_atomic((dir / name).string(), jpeg);
    } catch (const Error& e) {
        spdlog::error("{}", e.what());
    }
}

}  // namespace

struct Predictor::Labelled {
    ImageLabels labels;
    std::optional<std::string> annotated;  // the annotated copy's JPEG bytes, when one is to be written
    cv::Mat pixels;      // the decoded image, kept for options.collect only
    double scale = 1.0;  // its LoadedImage::scale
    std::string sha256;  // its LoadedImage::sha256
};

namespace {
void offer_unknown(const PredictOptions& o, const ImageLabels& r, const cv::Mat& pixels, double scale,
                   const std::string& sha256, const Classifier& classifier) {
    if (o.collect) o.collect->collect_photo(r, pixels, scale, sha256, classifier);
}
}  // namespace

Predictor::Predictor(std::shared_ptr<const LoadedModels> models, std::shared_ptr<const Classifier> classifier,
                     PredictOptions options, const std::string& model_path)
    : classifier_(std::move(classifier)), options_(std::move(options)), analyzer_(models, options_.analyzer) {
    check_model(*models, *classifier_, model_path);
    if (!options_.annotate_dir.empty()) fs::create_directories(options_.annotate_dir);
}

ImageLabels Predictor::label_image(const std::string& path) {
    Labelled l = label_file(path);
    offer_unknown(options_, l.labels, l.pixels, l.scale, l.sha256, *classifier_);
    if (l.annotated) save_annotated(options_.annotate_dir, annotated_names_, l.labels.input, *l.annotated);
    return std::move(l.labels);
}

ImageLabels Predictor::label_bytes(const std::string& bytes, const std::string& name) {
    Labelled l = label(bytes, name);
    offer_unknown(options_, l.labels, l.pixels, l.scale, l.sha256, *classifier_);
    if (l.annotated) save_annotated(options_.annotate_dir, annotated_names_, l.labels.input, *l.annotated);
    return std::move(l.labels);
}

Predictor::Labelled Predictor::label_file(const std::string& path) {
    std::string bytes;
    try {
        bytes = read_file(path, options_.limits.max_file_bytes);
    } catch (const Error& e) {
        Labelled l;
        l.labels.input = path;
        l.labels.error = e.cause();
        l.labels.over_limit = dynamic_cast<const LimitError*>(&e) != nullptr;
        return l;
    }
    return label(bytes, path);
}

Predictor::Labelled Predictor::label(const std::string& bytes, const std::string& name) {
    Labelled l;
    ImageLabels& r = l.labels;
    r.input = name;
    LoadedImage img;
    try {
        img = decode_image(bytes, name, options_.limits);
    } catch (const Error& e) {
        r.error = e.cause();
        r.over_limit = dynamic_cast<const LimitError*>(&e) != nullptr;
        return l;
    }
    r.width = img.width;
    r.height = img.height;
    const StageTimes before = analyzer_.times();
    for (const Face& f : analyzer_.analyze(img))
        r.faces.push_back(FaceLabel{f.box, classifier_->predict(f.descriptor, options_.tolerance), f.score, f.descriptor});
    const StageTimes& t = analyzer_.times();
    spdlog::debug("{}: detect {:.0f} ms, landmarks {:.0f} ms, descriptors {:.0f} ms", printable(name),
                  t.detect_ms - before.detect_ms, t.landmarks_ms - before.landmarks_ms,
                  t.descriptor_ms - before.descriptor_ms);
    if (!options_.annotate_dir.empty()) l.annotated = render_annotated(img, r);
    if (options_.collect) {
        l.pixels = img.bgr;
        l.scale = img.scale;
        l.sha256 = img.sha256;
    }
    return l;
}

BatchPredictor::BatchPredictor(std::shared_ptr<const LoadedModels> models, std::shared_ptr<const Classifier> classifier,
                               PredictOptions options, const std::string& model_path, int threads)
    : models_(std::move(models)),
      classifier_(std::move(classifier)),
      options_(std::move(options)),
      model_path_(model_path),
      threads_(resolve_threads(threads)) {
    check_model(*models_, *classifier_, model_path_);
    const std::string w = detector_mismatch(classifier_->model().detector, options_.analyzer.detector.kind);
    if (!w.empty()) spdlog::warn("{}: {}", model_path_, w);
    if (!options_.annotate_dir.empty()) fs::create_directories(options_.annotate_dir);
}

void BatchPredictor::run(const std::vector<std::string>& files, const std::function<void(const ImageLabels&)>& emit) {
    if (files.empty()) return;
    const int workers = static_cast<int>(std::min<std::size_t>(threads_, files.size()));
    PredictOptions o = options_;
    // Cores no image is using go to each image's detection (one photo on every core).
    o.analyzer.detector.threads = std::max(1, threads_ / workers);
    // One BLAS thread, whatever the thread count: OpenBLAS splits a product differently
    // with more threads, which changes a descriptor's last bits (encode.cpp), so
    // the output would depend on --threads; with parallel images nested BLAS
    // threads would only contend anyway. (encode and serve do the same.)
    set_blas_threads(1);
    std::vector<std::unique_ptr<Predictor>> predictors;
    std::vector<Predictor*> pointers;
    for (int i = 0; i < workers; ++i) {
        predictors.push_back(std::make_unique<Predictor>(models_, classifier_, o, model_path_));
        pointers.push_back(predictors.back().get());
    }
    // Copies are named here, in input order, so their names do not depend on which thread finished first.
    std::set<std::string> annotated_names;
    ordered_parallel<Predictor, Predictor::Labelled>(
        files.size(), pointers, 2 * static_cast<std::size_t>(workers),
        [&](Predictor& p, std::size_t i) { return p.label_file(files[i]); },
        [&](std::size_t, Predictor::Labelled&& l) {
            offer_unknown(o, l.labels, l.pixels, l.scale, l.sha256, *classifier_);
            l.pixels.release();
            if (l.annotated) save_annotated(o.annotate_dir, annotated_names, l.labels.input, *l.annotated);
            emit(l.labels);
        });
}

OutputFormat parse_output_format(const std::string& text) {
    if (text == "table") return OutputFormat::table;
    if (text == "csv") return OutputFormat::csv;
    if (text == "jsonl") return OutputFormat::jsonl;
    throw Error("--format", "unknown format '" + text + "' (table, csv, jsonl)");
}

namespace {

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

std::string fixed3(float v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    return buf;
}

const char* status_of(const ImageLabels& r) { return !r.ok() ? "error" : r.faces.empty() ? "no_face" : "ok"; }

}  // namespace

nlohmann::json image_labels_json(const ImageLabels& r) {
    nlohmann::json j = {{"file", r.input}, {"status", status_of(r)}, {"width", r.width}, {"height", r.height}};
    j["faces"] = nlohmann::json::array();
    for (const auto& f : r.faces)
        j["faces"].push_back({{"box", {{"x", f.box.x}, {"y", f.box.y}, {"width", f.box.width}, {"height", f.box.height}}},
                              {"label", f.prediction.name},
                              {"known", f.prediction.label >= 0},
                              {"distance", std::round(f.prediction.distance * 1e4) / 1e4}});
    j["error"] = r.ok() ? nlohmann::json(nullptr) : nlohmann::json(r.error);
    return j;
}

ResultWriter::ResultWriter(std::ostream& out, OutputFormat format) : out_(out), format_(format) {
    if (format_ == OutputFormat::csv) out_ << "file,status,face,x,y,width,height,label,distance,error\n";
    if (format_ == OutputFormat::table) {
        char line[160];
        std::snprintf(line, sizeof line, "%-40s %4s %-22s %-20s %8s\n", "FILE", "FACE", "BOX (x,y,w,h)", "LABEL", "DISTANCE");
        out_ << line;
    }
}

void ResultWriter::write(const ImageLabels& r) {
    switch (format_) {
        case OutputFormat::jsonl:
            out_ << image_labels_json(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
            break;
        case OutputFormat::csv:
            if (r.faces.empty()) out_ << csv_field(r.input) << "," << status_of(r) << ",,,,,,,," << csv_field(r.error) << "\n";
            for (size_t i = 0; i < r.faces.size(); ++i) {
                const auto& f = r.faces[i];
                out_ << csv_field(r.input) << ",ok," << i << "," << f.box.x << "," << f.box.y << "," << f.box.width << ","
                     << f.box.height << "," << csv_field(f.prediction.name) << "," << fixed3(f.prediction.distance) << ",\n";
            }
            break;
        case OutputFormat::table: {
            char line[512];
            if (r.faces.empty()) {
                const std::string file = printable(r.input);  // the table is for terminals
            std::snprintf(line, sizeof line, "%-40s %4s %s\n", file.c_str(), "-",
                              r.ok() ? "(no face found)" : ("error: " + r.error).c_str());
                out_ << line;
            }
            for (size_t i = 0; i < r.faces.size(); ++i) {
                const auto& f = r.faces[i];
                const std::string box = std::to_string(f.box.x) + "," + std::to_string(f.box.y) + "," +
                                        std::to_string(f.box.width) + "," + std::to_string(f.box.height);
                std::snprintf(line, sizeof line, "%-40s %4zu %-22s %-20s %8s\n", printable(r.input).c_str(), i, box.c_str(),
                              f.prediction.name.c_str(), fixed3(f.prediction.distance).c_str());
                out_ << line;
            }
            break;
        }
    }
    out_.flush();
}

}  // namespace facepipe
