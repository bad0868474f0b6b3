#include "model_import.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "align.h"
#include "error.h"
#include "face_net.h"
#include "fsutil.h"
#include "hash.h"
#include "models.h"
#include "ssd_detector.h"
#include "ssd_model.h"
#include "tfjs_weights.h"
#include "version.h"

namespace facepipe {
namespace fs = std::filesystem;
namespace {

constexpr const char* kManifestName = "face_recognition_model-weights_manifest.json";
constexpr const char* kWeightsName = "face_recognition_model.bin";

// face-api's conv layer prefixes in forward (input to output) order.
std::vector<std::string> conv_prefixes() {
    std::vector<std::string> p{"conv32_down"};
    auto blocks = [&](const std::string& name) {
        p.push_back(name + "/conv1");
        p.push_back(name + "/conv2");
    };
    for (const char* b : {"conv32_1", "conv32_2", "conv32_3", "conv64_down", "conv64_1", "conv64_2",
                          "conv64_3", "conv128_down", "conv128_1", "conv128_2", "conv256_down",
                          "conv256_1", "conv256_2", "conv256_down_out"})
        blocks(b);
    return p;
}

const Tensor& find(const std::vector<Tensor>& ts, const std::string& name, const std::string& where) {
    for (const auto& t : ts)
        if (t.name == name) return t;
    throw Error(where, "tensor " + name + " is missing");
}

// The trainable layers of a net, in forward order.
struct Layers {
    std::vector<dlib::tensor*> conv_params;
    std::vector<std::array<long, 4>> conv_shape;  // out, in, rows, cols
    std::vector<dlib::affine_*> affine;
    dlib::tensor* fc = nullptr;
};

template <typename T> struct is_con : std::false_type {};
template <long F, long R, long C, int SY, int SX, int PY, int PX>
struct is_con<dlib::con_<F, R, C, SY, SX, PY, PX>> : std::true_type {};

template <long F, long R, long C, int SY, int SX, int PY, int PX>
void add_conv(Layers& l, dlib::con_<F, R, C, SY, SX, PY, PX>& c) {
    l.conv_params.push_back(&c.get_layer_params());
    const long in = (static_cast<long>(c.get_layer_params().size()) - F) / (F * R * C);  // params = filters + F biases
    l.conv_shape.push_back({F, in, R, C});
}

Layers collect_layers(net::anet_type& n) {
    Layers l;
    dlib::visit_computational_layers(n, [&](auto& layer) {
        using T = std::decay_t<decltype(layer)>;
        if constexpr (std::is_same_v<T, dlib::affine_>) l.affine.push_back(&layer);
        else if constexpr (std::is_same_v<T, dlib::fc_<128, dlib::FC_NO_BIAS>>) l.fc = &layer.get_layer_params();
        else if constexpr (is_con<T>::value)
            add_conv(l, layer);
    });
    // The visitor walks from the loss layer down to the input; we want forward order.
    std::reverse(l.conv_params.begin(), l.conv_params.end());
    std::reverse(l.conv_shape.begin(), l.conv_shape.end());
    std::reverse(l.affine.begin(), l.affine.end());
    return l;
}

void fill_conv(dlib::tensor& params, const std::array<long, 4>& s, const Tensor& filters,
               const Tensor& bias, const std::string& where) {
    const long out = s[0], in = s[1], rows = s[2], cols = s[3];
    const std::vector<long> want{rows, cols, in, out};
    if (filters.shape != want || bias.shape != std::vector<long>{out} ||
        static_cast<long>(params.size()) != out * in * rows * cols + out)
        throw Error(where, filters.name + " does not fit dlib's layer of " + std::to_string(out) + "x" +
                               std::to_string(in) + "x" + std::to_string(rows) + "x" + std::to_string(cols));
    float* p = params.host();
    for (long o = 0; o < out; ++o)
        for (long i = 0; i < in; ++i)
            for (long y = 0; y < rows; ++y)
                for (long x = 0; x < cols; ++x)
                    p[((o * in + i) * rows + y) * cols + x] = filters.values[((y * cols + x) * in + i) * out + o];
    std::copy(bias.values.begin(), bias.values.end(), p + out * in * rows * cols);
}

void fill_affine(dlib::affine_& a, const Tensor& weights, const Tensor& biases, const std::string& where) {
    auto gamma = a.get_gamma();
    auto beta = a.get_beta();
    if (weights.values.size() != gamma.size() || biases.values.size() != beta.size())
        throw Error(where, weights.name + " does not fit dlib's affine layer");
    std::copy(weights.values.begin(), weights.values.end(), gamma.host());
    std::copy(biases.values.begin(), biases.values.end(), beta.host());
}

// A deterministic, face-sized test input for comparing two nets.
dlib::matrix<dlib::rgb_pixel> probe_image() {
    dlib::matrix<dlib::rgb_pixel> img(kChipSize, kChipSize);
    for (long r = 0; r < img.nr(); ++r)
        for (long c = 0; c < img.nc(); ++c)
            img(r, c) = dlib::rgb_pixel((r * 7 + c * 3) % 256, (r * c) % 256, (255 - r + c) % 256);
    return img;
}

void build_net(net::anet_type& n, const std::vector<Tensor>& tensors, const std::string& where) {
    // affine_ defaults to FC_MODE (one gamma per activation); face-api's scale layer
    // is per channel, as in dlib's trained model. Set the mode before setup runs.
    dlib::visit_computational_layers(n, [](auto& layer) {
        if constexpr (std::is_same_v<std::decay_t<decltype(layer)>, dlib::affine_>) layer = dlib::affine_(dlib::CONV_MODE);
    });
    n(probe_image());  // parameters are only allocated by a first forward pass
    Layers l = collect_layers(n);
    const auto prefixes = conv_prefixes();
    if (l.conv_params.size() != prefixes.size() || l.affine.size() != prefixes.size() || !l.fc)
        throw Error(where, "internal: unexpected dlib layer count");
    for (size_t i = 0; i < prefixes.size(); ++i) {
        const std::string& p = prefixes[i];
        fill_conv(*l.conv_params[i], l.conv_shape[i], find(tensors, p + "/conv/filters", where),
                  find(tensors, p + "/conv/bias", where), where);
        fill_affine(*l.affine[i], find(tensors, p + "/scale/weights", where),
                    find(tensors, p + "/scale/biases", where), where);
    }
    const Tensor& fc = find(tensors, "fc", where);
    if (fc.shape != std::vector<long>{256, 128} || l.fc->size() != fc.values.size())
        throw Error(where, "fc does not fit dlib's fc_no_bias<128> layer");
    std::copy(fc.values.begin(), fc.values.end(), l.fc->host());
    n.clean();  // drop forward-pass buffers so the file holds parameters only
}

std::string checked_sha256(const fs::path& path, const char* pinned, bool allow_unknown) {
    const std::string sha = sha256_file(path.string());
    if (!allow_unknown && sha != pinned)
        throw Error(path.string(), "checksum " + sha + " is not the tested " + std::string(kFaceApiPackage) +
                                       " file (use --allow-unknown to convert anyway)");
    return sha;
}

// Writes <model>.provenance.json beside the converted model (models.h reads it back).
fs::path write_provenance(const fs::path& output_dir, const std::string& model, const std::string& sha,
                          const nlohmann::json& inputs) {
    const nlohmann::json prov = {
        {"model", model},
        {"sha256", sha},
        {"origin", std::string("converted from npm ") + kFaceApiPackage},
        {"inputs", inputs},
        {"converter", "facepipe models import " + facepipe_version()},
    };
    const fs::path path = output_dir / (model + kProvenanceSuffix);
    write_file_atomic(path.string(), prov.dump(2) + "\n", 0644);
    return path;
}

}  // namespace

ImportResult import_face_api_model(const fs::path& dir, const fs::path& output_dir, bool allow_unknown) {
    const fs::path manifest_path = dir / kManifestName, weights_path = dir / kWeightsName;
    const std::string manifest_sha = checked_sha256(manifest_path, kFaceApiManifestSha256, allow_unknown);
    const std::string weights_sha = checked_sha256(weights_path, kFaceApiWeightsSha256, allow_unknown);

    const std::vector<Tensor> tensors = decode_tfjs_weights(read_file(manifest_path.string(), 1 << 20),
                                                            read_file(weights_path.string(), 64 << 20),
                                                            manifest_path.string());
    if (tensors.size() != 117)
        throw Error(manifest_path.string(), "expected 117 tensors, found " + std::to_string(tensors.size()));

    net::anet_type converted;
    build_net(converted, tensors, manifest_path.string());

    std::ostringstream bytes;
    dlib::serialize(converted, bytes);
    fs::create_directories(output_dir);
    ImportResult r;
    r.output = output_dir / kRecognitionModelFile;
    r.tensors = static_cast<int>(tensors.size());
    write_file_atomic(r.output.string(), bytes.str(), 0644);
    r.output_sha256 = sha256_hex(bytes.str());

    // Re-load the file as a user would and check it computes what we built.
    net::anet_type reloaded;
    dlib::deserialize(r.output.string()) >> reloaded;
    const auto a = converted(probe_image()), b = reloaded(probe_image());
    if (dlib::max(dlib::abs(a - b)) > 1e-6f) throw Error(r.output.string(), "re-loaded model computes differently");

    r.provenance = write_provenance(output_dir, kRecognitionModelFile, r.output_sha256,
                                    {{kManifestName, manifest_sha}, {kWeightsName, weights_sha}});
    spdlog::info("converted {} tensors from {} into {} (sha256 {})", r.tensors, dir.string(), r.output.string(),
                 r.output_sha256);
    return r;
}

ImportResult import_face_api_ssd_model(const fs::path& dir, const fs::path& output_dir, bool allow_unknown) {
    constexpr const char* kSsdManifestName = "ssd_mobilenetv1_model-weights_manifest.json";
    constexpr const char* kSsdWeightsName = "ssd_mobilenetv1_model.bin";
    const fs::path manifest_path = dir / kSsdManifestName, weights_path = dir / kSsdWeightsName;
    const std::string manifest_sha = checked_sha256(manifest_path, kFaceApiSsdManifestSha256, allow_unknown);
    const std::string weights_sha = checked_sha256(weights_path, kFaceApiSsdWeightsSha256, allow_unknown);
    const std::vector<Tensor> tensors = decode_tfjs_weights(read_file(manifest_path.string(), 1 << 20),
                                                            read_file(weights_path.string(), 64 << 20),
                                                            manifest_path.string());
    const std::string bytes = ssd_model_bytes(tensors, manifest_path.string());  // names the missing/misshapen tensor

    fs::create_directories(output_dir);
    ImportResult r;
    r.output = output_dir / kSsdModelFile;
    r.tensors = static_cast<int>(tensors.size());
    write_file_atomic(r.output.string(), bytes, 0644);
    r.output_sha256 = sha256_hex(bytes);

    // Re-read the file as a user would, and run the network once on a probe image.
    SsdFaceDetector reloaded(r.output);
    cv::Mat probe(96, 128, CV_8UC3);
    for (int y = 0; y < probe.rows; ++y)
        for (int x = 0; x < probe.cols; ++x) probe.at<cv::Vec3b>(y, x) = cv::Vec3b((x * 7) % 256, (y * 5) % 256, (x * y) % 256);
    reloaded.detect(probe);

    r.provenance = write_provenance(output_dir, kSsdModelFile, r.output_sha256,
                                    {{kSsdManifestName, manifest_sha}, {kSsdWeightsName, weights_sha}});
    spdlog::info("converted {} of {} tensors from {} into {} (sha256 {})", ssd_tensor_specs().size(), r.tensors,
                 dir.string(), r.output.string(), r.output_sha256);
    return r;
}

}  // namespace facepipe
