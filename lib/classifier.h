// classifier.h — a trained model ready to name faces: what predict, live,
// enroll and sync load. It asks the model's gallery (gallery.h) with the
// model's vote and threshold; training is train.h, the files model_file.h.
#pragma once
#include <string>

#include "gallery.h"
#include "model_file.h"

namespace facepipe {

class Classifier {
public:
    // requires: model_problem(model) == "" (model_file.h), else throws
    //           Error("model", "invalid: <reason>").
    explicit Classifier(TrainedModel model);

    // load_model (model_file.h): throws ModelError for every failure.
    static Classifier load(const std::string& model_path, const std::string& labels_path);

    // The person q is, or unknown: the model's vote over its gallery, then its
    // threshold (threshold_override > 0 replaces it for this call). `query`
    // may leave rows out or force an exact search (gallery.h).
    Prediction predict(const Descriptor& q, float threshold_override = -1.f, const Query& query = {}) const;

    const std::string& model_id() const { return m_.model_id; }
    const std::string& training_id() const { return m_.training_id; }
    std::size_t size() const { return m_.gallery.size(); }
    const std::vector<std::string>& names() const { return m_.gallery.names(); }
    float threshold() const { return m_.threshold; }
    const std::string& threshold_source() const { return m_.threshold_source; }
    const VoteParams& vote() const { return m_.vote; }
    const Gallery& gallery() const { return m_.gallery; }
    const TrainedModel& model() const { return m_; }
    std::string search() const { return m_.gallery.search_description(); }

private:
    TrainedModel m_;
};

}  // namespace facepipe
