// predict.h — `facepipe predict`: name every face in a list of images.
//
// Each image goes through the same FaceAnalyzer as encode, then each face's
// descriptor through the trained Classifier. One bad image never stops a batch:
// its error is recorded on its result.
#pragma once
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <set>
#include <string>
#include <vector>

#include "classifier.h"
#include "image.h"
#include "recognizer.h"

namespace facepipe {

class UnknownCollector;

struct PredictOptions {
    AnalyzerOptions analyzer;
    ImageLimits limits;
    float tolerance = -1.f;                 // > 0 overrides the model's threshold
    std::filesystem::path annotate_dir;     // when set, annotated copies are written here
    // When set (--collect-unknown), each labelled image's unknown faces are offered
    // to it (unknown_collect.h) before the result is returned or emitted: in input
    // order in BatchPredictor::run. Unset, nothing is kept and nothing is copied.
    std::shared_ptr<UnknownCollector> collect;
};

struct FaceLabel {
    Box box;
    Prediction prediction;
    double score = 0;         // the detector's confidence (Face::score)
    Descriptor descriptor{};  // what the prediction was made from (serve's CompreFace API ranks people on it)
};

struct ImageLabels {
    std::string input;              // as given
    int width = 0, height = 0;
    std::vector<FaceLabel> faces;   // largest first
    std::string error;              // one-line cause when the image could not be processed
    bool over_limit = false;        // the error is a LimitError: the input is over PredictOptions::limits
    bool ok() const { return error.empty(); }
};

// Expands the command line's inputs: files as given, folders recursively (image
// files only, sorted; walk.h walk_tree, which follows symlinks to folders but
// not into a loop), and "-" as one path per line from `in`. Nothing is opened.
// Inputs that cannot be read as files are returned in *left_out (when given) as
// results with their one-line error rather than dropped: a missing path ("no
// such file or folder"), and, given or found in a folder (with an image name),
// a FIFO, socket or device ("is a FIFO, not a regular file"...), a symlink loop,
// a dangling symlink, a folder that cannot be listed.
std::vector<std::string> expand_inputs(const std::vector<std::string>& args, std::istream& in,
                                       std::vector<ImageLabels>* left_out);

// Refuses (throws ModelError) when the classifier was trained on descriptors
// from other models than those loaded. Not thread-safe (it owns a
// FaceAnalyzer): one Predictor per thread, sharing the models and classifier
// (BatchPredictor does that).
class Predictor {
public:
    Predictor(std::shared_ptr<const LoadedModels> models, std::shared_ptr<const Classifier> classifier,
              PredictOptions options, const std::string& model_path);

    // label_bytes(bytes, name)
    //   requires: nothing: any bytes are acceptable input.
    //   ensures:  the faces in the image `bytes` decode to (decode_image with
    //             options.limits), largest first, each named by the classifier;
    //             input = name. An image that cannot be used (not an image,
    //             truncated, over the limits) gives a result with its one-line
    //             error and no faces: never throws for bad input.
    //             With options.annotate_dir, the annotated copy is named after `name`
    //             and written 0600 (it is a photo of people).
    ImageLabels label_bytes(const std::string& bytes, const std::string& name);
    // label_image(path): reads the file (at most options.limits.max_file_bytes),
    //   then label_bytes(bytes, path); a file that cannot be read is an error on
    //   the result, as for bad bytes.
    ImageLabels label_image(const std::string& path);
    const StageTimes& times() const { return analyzer_.times(); }

private:
    friend class BatchPredictor;
    struct Labelled;
    // label_image's (label_bytes') work without writing the annotated copy:
    // its JPEG bytes come back instead, for BatchPredictor to name and write in
    // input order.
    Labelled label_file(const std::string& path);
    Labelled label(const std::string& bytes, const std::string& name);

    std::shared_ptr<const Classifier> classifier_;
    PredictOptions options_;
    std::set<std::string> annotated_names_;  // written this run, so same-named inputs don't overwrite
    FaceAnalyzer analyzer_;
};

// `facepipe predict`'s loop: label_image over many files on several threads.
// The constructor refuses a mismatched model as Predictor does (ModelError).
class BatchPredictor {
public:
    // threads: images labelled at once (0 = all cores).
    BatchPredictor(std::shared_ptr<const LoadedModels> models, std::shared_ptr<const Classifier> classifier,
                   PredictOptions options, const std::string& model_path, int threads);

    // run(files, emit)
    //   ensures: emit(result) for each file, in the order of `files`, each as
    //            soon as it and every file before it are labelled; the results
    //            (and the annotated copies and their names) are those of one
    //            Predictor's label_image called on each file in turn, whatever
    //            the thread count. min(threads, files) Predictors label at once,
    //            at most 2 images each in flight (memory does not grow with the
    //            number of files); when there are fewer files than threads, each
    //            image's detection gets the spare cores (DetectorOptions::threads;
    //            options.analyzer.detector.threads is overridden).
    //            BLAS runs on one thread (set_blas_threads(1), as in encode and
    //            serve): OpenBLAS's split changes a descriptor's last bits, so
    //            with more BLAS threads the output would depend on the count.
    //            Throws what label_image throws (a ModelError of the models
    //            loading in the background) after emitting the results before it.
    void run(const std::vector<std::string>& files, const std::function<void(const ImageLabels&)>& emit);

private:
    std::shared_ptr<const LoadedModels> models_;
    std::shared_ptr<const Classifier> classifier_;
    PredictOptions options_;
    std::string model_path_;
    int threads_;
};

// The object `predict --format jsonl` prints for one image (one line each):
//   {"file": input, "status": "ok"|"no_face"|"error", "width", "height",
//    "faces": [{"box": {"x","y","width","height"}, "label", "known",
//               "distance" (rounded to 4 decimals)}...],
//    "error": null | the one-line cause}
// Dump it with error_handler_t::replace: a file name need not be UTF-8.
nlohmann::json image_labels_json(const ImageLabels& r);

enum class OutputFormat { table, csv, jsonl };
OutputFormat parse_output_format(const std::string& text);

// Streams results as they come: a header first (table, csv), then one image at a time.
class ResultWriter {
public:
    ResultWriter(std::ostream& out, OutputFormat format);
    void write(const ImageLabels& r);

private:
    std::ostream& out_;
    OutputFormat format_;
};

}  // namespace facepipe
