#include "ssd_model.h"

#include <cmath>

#include "container.h"
#include "error.h"

namespace facepipe {
namespace {

constexpr std::size_t kMaxDims = 4;

std::vector<TensorSpec> make_specs() {
    std::vector<TensorSpec> s;
    auto conv = [&](const std::string& prefix, long k, long in, long out, const char* bias) {
        s.push_back({prefix + "/weights", {k, k, in, out}});
        s.push_back({prefix + "/" + bias, {out}});
    };
    // MobileNet v1: conv 0, then 13 depthwise + pointwise pairs (face-api's mobileNetV1.ts).
    conv("MobilenetV1/Conv2d_0_pointwise", 3, 3, 32, "convolution_bn_offset");
    const long channels[14] = {32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024};
    for (int i = 1; i <= 13; ++i) {
        const long in = channels[i - 1], out = channels[i];
        const std::string d = "MobilenetV1/Conv2d_" + std::to_string(i) + "_depthwise";
        s.push_back({d + "/depthwise_weights", {3, 3, in, 1}});
        for (const char* bn : {"gamma", "beta", "moving_mean", "moving_variance"})
            s.push_back({d + "/BatchNorm/" + bn, {in}});
        conv("MobilenetV1/Conv2d_" + std::to_string(i) + "_pointwise", 1, in, out, "convolution_bn_offset");
    }
    // The extra layers (predictionLayer.ts): 1x1 then 3x3 stride 2, four times.
    const long pred[8][3] = {{1, 1024, 256}, {3, 256, 512}, {1, 512, 128}, {3, 128, 256},
                             {1, 256, 128},  {3, 128, 256}, {1, 256, 64},  {3, 64, 128}};
    for (int i = 0; i < 8; ++i)
        conv("Prediction/Conv2d_" + std::to_string(i) + "_pointwise", pred[i][0], pred[i][1], pred[i][2],
             "convolution_bn_offset");
    // The six box predictors: input channels and anchors per cell.
    const long box_in[6] = {512, 1024, 512, 256, 256, 128}, anchors[6] = {3, 6, 6, 6, 6, 6};
    for (int i = 0; i < 6; ++i) {
        const std::string p = "Prediction/BoxPredictor_" + std::to_string(i);
        conv(p + "/BoxEncodingPredictor", 1, box_in[i], 4 * anchors[i], "biases");
        conv(p + "/ClassPredictor", 1, box_in[i], 3 * anchors[i], "biases");
    }
    s.push_back({"Output/extra_dim", {1, 5118, 4}});
    return s;
}

long elements(const std::vector<long>& shape) {
    long n = 1;
    for (long d : shape) n *= d;
    return n;
}

std::string shape_text(const std::vector<long>& shape) {
    std::string t = "[";
    for (size_t i = 0; i < shape.size(); ++i) t += (i ? "," : "") + std::to_string(shape[i]);
    return t + "]";
}

}  // namespace

const std::vector<TensorSpec>& ssd_tensor_specs() {
    static const std::vector<TensorSpec> specs = make_specs();
    return specs;
}

std::string ssd_model_bytes(const std::vector<Tensor>& tensors, const std::string& subject) {
    PayloadWriter w;
    w.count(ssd_tensor_specs().size());
    for (const TensorSpec& spec : ssd_tensor_specs()) {
        const Tensor* t = nullptr;
        for (const Tensor& c : tensors)
            if (c.name == spec.name) t = &c;
        if (!t) throw Error(subject, "tensor " + spec.name + " is missing");
        if (t->shape != spec.shape)
            throw Error(subject, "tensor " + spec.name + " has shape " + shape_text(t->shape) + ", expected " +
                                     shape_text(spec.shape));
        for (float v : t->values)
            if (!std::isfinite(v)) throw Error(subject, "tensor " + spec.name + " holds a non-finite value");
        w.str(t->name);
        w.count(t->shape.size());
        for (long d : t->shape) w.u32(static_cast<std::uint32_t>(d));
        w.floats(t->values.data(), t->values.size());
    }
    return container_bytes(std::string_view(kSsdModelMagic, 8), kSsdModelVersion, w.bytes());
}

std::vector<Tensor> parse_ssd_payload(const std::string& payload, const std::string& subject) {
    PayloadReader r(payload, subject);
    const auto& specs = ssd_tensor_specs();
    const std::size_t n = r.count(1);
    if (n != specs.size())
        r.fail(std::to_string(n) + " tensors, expected " + std::to_string(specs.size()));
    std::vector<Tensor> tensors;
    tensors.reserve(n);
    for (const TensorSpec& spec : specs) {
        Tensor t;
        t.name = r.str();
        if (t.name != spec.name) r.fail("tensor " + printable(t.name) + " where " + spec.name + " was expected");
        const std::size_t dims = r.count(4);
        if (dims != spec.shape.size() || dims > kMaxDims) r.fail("tensor " + spec.name + " has the wrong rank");
        for (std::size_t i = 0; i < dims; ++i) t.shape.push_back(static_cast<long>(r.u32()));
        if (t.shape != spec.shape)
            r.fail("tensor " + spec.name + " has shape " + shape_text(t.shape) + ", expected " + shape_text(spec.shape));
        const long count = elements(t.shape);
        if (r.remaining() < static_cast<std::size_t>(count) * 4) r.fail("tensor " + spec.name + " is cut short");
        t.values.resize(static_cast<std::size_t>(count));
        r.floats(t.values.data(), t.values.size());
        for (float v : t.values)
            if (!std::isfinite(v)) r.fail("tensor " + spec.name + " holds a non-finite value");
        tensors.push_back(std::move(t));
    }
    r.finish();
    return tensors;
}

std::vector<Tensor> read_ssd_model(const std::string& path) {
    try {
        const Container c = read_container(path, std::string_view(kSsdModelMagic, 8), "SSD face detector model",
                                           kSsdModelVersion);
        return parse_ssd_payload(c.payload, path);
    } catch (const ModelError&) {
        throw;
    } catch (const Error& e) {
        std::string cause = e.cause();
        if (cause.rfind("cannot open", 0) == 0) cause += "; run `facepipe models import` (or scripts/setup.sh)";
        else cause += "; re-run `facepipe models import`";
        throw ModelError(path, cause);
    }
}

}  // namespace facepipe
