#include "ssd_detector.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <opencv2/dnn.hpp>
#include <stdexcept>

#include "error.h"
#include "ssd_model.h"

namespace facepipe {
namespace {

// face-api's mobileNetV1.ts: the batch norm epsilon (float32 0.001).
constexpr float kBatchNormEpsilon = 0.0010000000474974513f;
constexpr int kPredictors = 6;
constexpr int kAnchorsPerCell[kPredictors] = {3, 6, 6, 6, 6, 6};
constexpr int kAnchors = 5118;

// The model's parameters as OpenCV blobs, shared (read-only) by copies of a detector.
struct Weights {
    std::map<std::string, std::vector<cv::Mat>> conv;  // layer name -> {filters [out][in/group][r][c], bias [1][out]}
    std::vector<cv::Vec4f> anchors;                     // ymin, xmin, ymax, xmax (relative)
};

const Tensor& tensor(const std::vector<Tensor>& ts, const std::string& name) {
    for (const Tensor& t : ts)
        if (t.name == name) return t;
    throw std::logic_error("ssd: tensor " + name + " missing after the model was checked");
}

cv::Mat bias_blob(const std::vector<float>& v) {
    cv::Mat b(1, static_cast<int>(v.size()), CV_32F);
    std::copy(v.begin(), v.end(), b.ptr<float>());
    return b;
}

// TF.js filters [rows][cols][in][out] -> OpenCV's [out][in][rows][cols].
cv::Mat filter_blob(const Tensor& f) {
    const int r = f.shape[0], c = f.shape[1], in = f.shape[2], out = f.shape[3];
    const int sizes[4] = {out, in, r, c};
    cv::Mat w(4, sizes, CV_32F);
    float* p = w.ptr<float>();
    for (int o = 0; o < out; ++o)
        for (int i = 0; i < in; ++i)
            for (int y = 0; y < r; ++y)
                for (int x = 0; x < c; ++x)
                    p[((o * in + i) * r + y) * c + x] = f.values[((y * c + x) * in + i) * out + o];
    return w;
}

// A depthwise filter [3][3][C][1] with its batch norm folded in:
// (conv(x) - mean) * gamma / sqrt(var + eps) + beta = conv'(x) + b'.
std::vector<cv::Mat> depthwise_blobs(const std::vector<Tensor>& ts, const std::string& prefix) {
    const Tensor& f = tensor(ts, prefix + "/depthwise_weights");
    const auto& gamma = tensor(ts, prefix + "/BatchNorm/gamma").values;
    const auto& beta = tensor(ts, prefix + "/BatchNorm/beta").values;
    const auto& mean = tensor(ts, prefix + "/BatchNorm/moving_mean").values;
    const auto& var = tensor(ts, prefix + "/BatchNorm/moving_variance").values;
    const int r = f.shape[0], c = f.shape[1], ch = f.shape[2];
    const int sizes[4] = {ch, 1, r, c};
    cv::Mat w(4, sizes, CV_32F);
    std::vector<float> bias(ch);
    float* p = w.ptr<float>();
    for (int k = 0; k < ch; ++k) {
        const float scale = gamma[k] / std::sqrt(var[k] + kBatchNormEpsilon);
        for (int y = 0; y < r; ++y)
            for (int x = 0; x < c; ++x) p[(k * r + y) * c + x] = f.values[(y * c + x) * ch + k] * scale;
        bias[k] = beta[k] - mean[k] * scale;
    }
    return {w, bias_blob(bias)};
}

std::shared_ptr<const Weights> load_weights(const std::filesystem::path& file) {
    const std::vector<Tensor> ts = read_ssd_model(file.string());  // ModelError naming the file
    auto w = std::make_shared<Weights>();
    auto pointwise = [&](const std::string& prefix, const char* bias) {
        w->conv[prefix] = {filter_blob(tensor(ts, prefix + "/weights")),
                           bias_blob(tensor(ts, prefix + "/" + bias).values)};
    };
    pointwise("MobilenetV1/Conv2d_0_pointwise", "convolution_bn_offset");
    for (int i = 1; i <= 13; ++i) {
        const std::string n = "MobilenetV1/Conv2d_" + std::to_string(i);
        w->conv[n + "_depthwise"] = depthwise_blobs(ts, n + "_depthwise");
        pointwise(n + "_pointwise", "convolution_bn_offset");
    }
    for (int i = 0; i < 8; ++i) pointwise("Prediction/Conv2d_" + std::to_string(i) + "_pointwise", "convolution_bn_offset");
    for (int i = 0; i < kPredictors; ++i) {
        const std::string p = "Prediction/BoxPredictor_" + std::to_string(i);
        pointwise(p + "/BoxEncodingPredictor", "biases");
        pointwise(p + "/ClassPredictor", "biases");
    }
    const auto& a = tensor(ts, "Output/extra_dim").values;
    for (int i = 0; i < kAnchors; ++i) w->anchors.emplace_back(a[4 * i], a[4 * i + 1], a[4 * i + 2], a[4 * i + 3]);
    return w;
}

// The graph of face-api's SsdMobilenetv1.forwardInput, up to the predictors' raw outputs.
class GraphBuilder {
public:
    explicit GraphBuilder(const Weights& w) : w_(w) { net_.setInputsNames({"input"}); }

    // A convolution with TF's "same" padding (the extra pixel right and bottom), then ReLU6 if relu6.
    int conv(const std::string& name, int input, int stride, bool depthwise, bool relu6) {
        const auto& blobs = w_.conv.at(name);
        cv::dnn::LayerParams lp;
        lp.name = name;
        lp.type = "Convolution";
        const int out = blobs[0].size[0], k = blobs[0].size[2];
        lp.set("kernel_h", k);
        lp.set("kernel_w", k);
        lp.set("stride_h", stride);
        lp.set("stride_w", stride);
        lp.set("pad_mode", "SAME");
        lp.set("num_output", out);
        lp.set("group", depthwise ? out : 1);
        lp.set("bias_term", true);
        lp.blobs = {blobs[0].clone(), blobs[1].clone()};  // OpenCV may fuse into its blobs: one copy per net
        int id = net_.addLayer(name, lp.type, lp);
        net_.connect(input, 0, id, 0);
        if (!relu6) return id;
        cv::dnn::LayerParams r;
        r.name = name + "/relu6";
        r.type = "ReLU6";
        r.set("min_value", 0.0f);
        r.set("max_value", 6.0f);
        const int rid = net_.addLayer(r.name, r.type, r);
        net_.connect(id, 0, rid, 0);
        return rid;
    }

    cv::dnn::Net build(std::vector<std::string>& outputs) {
        int x = conv("MobilenetV1/Conv2d_0_pointwise", 0, 2, false, true);
        int conv11 = -1;
        for (int i = 1; i <= 13; ++i) {
            const std::string n = "MobilenetV1/Conv2d_" + std::to_string(i);
            const int stride = (i == 2 || i == 4 || i == 6 || i == 12) ? 2 : 1;
            x = conv(n + "_depthwise", x, stride, true, true);
            x = conv(n + "_pointwise", x, 1, false, true);
            if (i == 11) conv11 = x;
        }
        int features[kPredictors] = {conv11, x, 0, 0, 0, 0};
        int y = x;
        for (int i = 0; i < 8; ++i) {
            y = conv("Prediction/Conv2d_" + std::to_string(i) + "_pointwise", y, i % 2 ? 2 : 1, false, true);
            if (i % 2) features[2 + i / 2] = y;
        }
        for (int i = 0; i < kPredictors; ++i) {
            const std::string p = "Prediction/BoxPredictor_" + std::to_string(i);
            conv(p + "/BoxEncodingPredictor", features[i], 1, false, false);
            conv(p + "/ClassPredictor", features[i], 1, false, false);
            outputs.push_back(p + "/BoxEncodingPredictor");
            outputs.push_back(p + "/ClassPredictor");
        }
        net_.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
        net_.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
        return net_;
    }

private:
    const Weights& w_;
    cv::dnn::Net net_;
};

// The network's input: face-api's NetInput.toBatchTensor(512, false) then x / 127.5 - 1.
// The image (RGB) padded with zeros at the right or bottom to a square of side
// S = max(w, h), resized to 512 with TF's legacy bilinear resize (source = dest *
// S / 512, no half-pixel offset), as an NCHW float blob.
cv::Mat input_blob(const cv::Mat& bgr) {
    const int h = bgr.rows, w = bgr.cols, side = std::max(h, w), n = kSsdInputSize;
    const double ratio = static_cast<double>(side) / n;
    auto pixel = [&](int y, int x, int ch) -> double {  // ch: 0 R, 1 G, 2 B; zero in the padding
        if (y >= h || x >= w) return 0.0;
        return bgr.ptr<cv::Vec3b>(y)[x][2 - ch];
    };
    std::vector<int> y0(n), y1(n), x0(n), x1(n);
    std::vector<double> fy(n), fx(n);
    for (int i = 0; i < n; ++i) {
        const double s = ratio * i;  // as tfjs's cpu backend, in double
        y0[i] = x0[i] = static_cast<int>(std::floor(s));
        y1[i] = x1[i] = std::min(side - 1, static_cast<int>(std::ceil(s)));
        fy[i] = fx[i] = s - std::floor(s);
    }
    const int sizes[4] = {1, 3, n, n};
    cv::Mat blob(4, sizes, CV_32F);
    float* out = blob.ptr<float>();
    for (int ch = 0; ch < 3; ++ch)
        for (int r = 0; r < n; ++r)
            for (int c = 0; c < n; ++c) {
                double v;
                if (side == n) {
                    v = pixel(r, c, ch);
                } else {
                    const double tl = pixel(y0[r], x0[c], ch), tr = pixel(y0[r], x1[c], ch);
                    const double bl = pixel(y1[r], x0[c], ch), br = pixel(y1[r], x1[c], ch);
                    const double top = tl + (tr - tl) * fx[c], bottom = bl + (br - bl) * fx[c];
                    v = top + (bottom - top) * fy[r];
                }
                // tf.sub(tf.div(x, 127.5), 1) on float32 tensors
                const float resized = static_cast<float>(v);
                out[(ch * n + r) * n + c] = resized / 127.5f - 1.0f;
            }
    return blob;
}

float sigmoid(float x) { return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(x)))); }

// face-api's nonMaxSuppression.ts IOU(): boxes as ymin, xmin, ymax, xmax in any corner order.
double iou(const cv::Vec4f& a, const cv::Vec4f& b) {
    const double ay0 = std::min(a[0], a[2]), ax0 = std::min(a[1], a[3]), ay1 = std::max(a[0], a[2]),
                 ax1 = std::max(a[1], a[3]);
    const double by0 = std::min(b[0], b[2]), bx0 = std::min(b[1], b[3]), by1 = std::max(b[0], b[2]),
                 bx1 = std::max(b[1], b[3]);
    const double area_a = (ay1 - ay0) * (ax1 - ax0), area_b = (by1 - by0) * (bx1 - bx0);
    if (area_a <= 0 || area_b <= 0) return 0.0;
    const double inter = std::max(std::min(ay1, by1) - std::max(ay0, by0), 0.0) *
                         std::max(std::min(ax1, bx1) - std::max(ax0, bx0), 0.0);
    return inter / (area_a + area_b - inter);
}

// face-api's nonMaxSuppression(): greedy, in decreasing score (ties in anchor
// order: JS's sort is stable); a candidate overlapping a selected box by more
// than iou_threshold is dropped.
std::vector<int> non_max_suppression(const std::vector<cv::Vec4f>& boxes, const std::vector<float>& scores,
                                     int max_results, double iou_threshold, double min_score) {
    std::vector<int> candidates;
    for (int i = 0; i < static_cast<int>(scores.size()); ++i)
        if (scores[i] > min_score) candidates.push_back(i);
    std::stable_sort(candidates.begin(), candidates.end(), [&](int a, int b) { return scores[a] > scores[b]; });
    const size_t output_size = static_cast<size_t>(std::max(0, std::min<int>(max_results, boxes.size())));
    std::vector<int> selected;
    for (int c : candidates) {
        if (selected.size() >= output_size) break;
        bool keep = true;
        for (int j = static_cast<int>(selected.size()) - 1; j >= 0; --j) {
            const double o = iou(boxes[c], boxes[selected[j]]);
            if (o == 0.0) continue;
            if (o > iou_threshold) {  // face-api: score *= 0, then score <= threshold breaks
                keep = false;
                break;
            }
        }
        if (keep) selected.push_back(c);
    }
    return selected;
}

}  // namespace

struct SsdFaceDetector::Impl {
    std::shared_ptr<const Weights> weights;
    cv::dnn::Net net;
    std::vector<std::string> outputs;

    explicit Impl(std::shared_ptr<const Weights> w) : weights(std::move(w)) {
        net = GraphBuilder(*weights).build(outputs);
    }
};

SsdFaceDetector::SsdFaceDetector(const std::filesystem::path& model_file, SsdOptions options)
    : options_(options), impl_(std::make_unique<Impl>(load_weights(model_file))) {
    if (!(options_.min_score > 0 && options_.min_score < 1))
        throw std::invalid_argument("SsdOptions::min_score must be in (0, 1)");
}

SsdFaceDetector::SsdFaceDetector(const SsdFaceDetector& o)
    : options_(o.options_), impl_(std::make_unique<Impl>(o.impl_->weights)) {}

SsdFaceDetector::~SsdFaceDetector() = default;

std::vector<SsdFaceDetector::Face> SsdFaceDetector::detect_relative(const cv::Mat& bgr) {
    if (bgr.empty() || bgr.type() != CV_8UC3) throw std::invalid_argument("SsdFaceDetector::detect: needs a BGR CV_8UC3 image");
    const int want_threads = options_.threads > 0 ? options_.threads : cv::getNumberOfCPUs();
    if (cv::getNumThreads() != want_threads) cv::setNumThreads(options_.threads > 0 ? options_.threads : -1);

    impl_->net.setInput(input_blob(bgr), "input");
    std::vector<cv::Mat> outs;
    impl_->net.forward(outs, impl_->outputs);

    // Predictor p's outputs are NCHW [1][anchors*4 or *3][H][W]; TF's reshape of
    // the NHWC tensor numbers anchors cell by cell (row-major), then anchor.
    std::vector<cv::Vec4f> boxes;
    std::vector<float> scores;
    boxes.reserve(kAnchors);
    scores.reserve(kAnchors);
    const auto& anchors = impl_->weights->anchors;
    for (int p = 0; p < kPredictors; ++p) {
        const cv::Mat& enc = outs[2 * p];
        const cv::Mat& cls = outs[2 * p + 1];
        const int h = enc.size[2], w = enc.size[3], plane = h * w, na = kAnchorsPerCell[p];
        const float* e = enc.ptr<float>();
        const float* s = cls.ptr<float>();
        for (int cell = 0; cell < plane; ++cell)
            for (int a = 0; a < na; ++a) {
                const size_t i = boxes.size();
                if (i >= anchors.size()) throw std::logic_error("ssd: more predictions than anchors");
                const cv::Vec4f& an = anchors[i];
                // outputLayer.ts decodeBoxesLayer, in float32 as tfjs computes it
                const float ah = an[2] - an[0], aw = an[3] - an[1];
                const float cy = an[0] + ah / 2, cx = an[1] + aw / 2;
                const float ty = e[(4 * a + 0) * plane + cell], tx = e[(4 * a + 1) * plane + cell];
                const float th = e[(4 * a + 2) * plane + cell], tw = e[(4 * a + 3) * plane + cell];
                const float half_h = std::exp(th / 5) * ah / 2, half_w = std::exp(tw / 5) * aw / 2;
                const float y = ty / 10 * ah + cy, x = tx / 10 * aw + cx;
                boxes.emplace_back(y - half_h, x - half_w, y + half_h, x + half_w);
                scores.push_back(sigmoid(s[(3 * a + 1) * plane + cell]));
            }
    }
    if (boxes.size() != anchors.size()) throw std::logic_error("ssd: fewer predictions than anchors");

    const std::vector<int> kept =
        non_max_suppression(boxes, scores, options_.max_results, options_.iou_threshold, options_.min_score);
    // SsdMobilenetv1.locateFaces: clip to the padded square, then scale by
    // 512 / the image's side once resized (rounded as JS's Math.round).
    const int side = std::max(bgr.rows, bgr.cols);
    const double scale = static_cast<double>(kSsdInputSize) / side;
    const double pad_x = kSsdInputSize / std::floor(bgr.cols * scale + 0.5);
    const double pad_y = kSsdInputSize / std::floor(bgr.rows * scale + 0.5);
    std::vector<Face> faces;
    for (int i : kept) {
        const cv::Vec4f& b = boxes[i];
        const double top = std::max(0.0f, b[0]) * pad_y, bottom = std::min(1.0f, b[2]) * pad_y;
        const double left = std::max(0.0f, b[1]) * pad_x, right = std::min(1.0f, b[3]) * pad_x;
        faces.push_back({cv::Rect2d(left, top, right - left, bottom - top), scores[i]});
    }
    return faces;
}

std::vector<Detection> SsdFaceDetector::detect(const cv::Mat& bgr) {
    std::vector<Detection> out;
    for (const Face& f : detect_relative(bgr)) {
        cv::Rect2d r(f.relative.x * bgr.cols, f.relative.y * bgr.rows, f.relative.width * bgr.cols,
                     f.relative.height * bgr.rows);
        if (options_.hog_box_mapping) {
            const BoxMapping& m = kSsdToHog;
            const double cx = r.x + r.width / 2 + m.dx * r.width, cy = r.y + r.height / 2 + m.dy * r.height;
            r.width *= m.sw;
            r.height *= m.sh;
            r.x = cx - r.width / 2;
            r.y = cy - r.height / 2;
        }
        const int x0 = static_cast<int>(std::lround(r.x)), y0 = static_cast<int>(std::lround(r.y));
        const int x1 = static_cast<int>(std::lround(r.x + r.width)), y1 = static_cast<int>(std::lround(r.y + r.height));
        if (x1 <= x0 || y1 <= y0) continue;
        out.push_back({Box{x0, y0, x1 - x0, y1 - y0}, f.score});
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const Detection& a, const Detection& b) { return a.box.area() > b.box.area(); });
    return out;
}

}  // namespace facepipe
