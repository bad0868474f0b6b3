#include "classifier.h"

#include "error.h"

namespace facepipe {

Classifier::Classifier(TrainedModel model) : m_(std::move(model)) {
    const std::string why = model_problem(m_);
    if (!why.empty()) throw Error("model", "invalid: " + why);
}

Classifier Classifier::load(const std::string& model_path, const std::string& labels_path) {
    return Classifier(load_model(model_path, labels_path));
}

Prediction Classifier::predict(const Descriptor& q, float threshold_override, const Query& query) const {
    const float threshold = threshold_override > 0.f ? threshold_override : m_.threshold;
    return m_.gallery.answer(m_.gallery.match(q.data(), m_.vote, query), threshold);
}

}  // namespace facepipe
