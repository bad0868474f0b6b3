// metrics.h — the figures `facepipe serve` exports at GET /metrics, in the
// Prometheus text exposition format (version 0.0.4).
//
// Requests are counted per endpoint (a route's name, never a raw path, so the
// set of label values stays small and a client cannot grow it), method and
// status code, with a latency histogram per endpoint. Everything else (the
// model, connections, sessions) is read from its owner when the page is made
// and passed to render() as gauges and counters.
#pragma once
#include <array>
#include <tuple>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace facepipe {

// One sample the caller owns: `kind` is "counter" or "gauge"; samples with
// the same name must be adjacent and share help and kind.
struct MetricSample {
    std::string name, help, kind;
    std::vector<std::pair<std::string, std::string>> labels;
    double value = 0;
};

class Metrics {
public:
    // Upper bounds of the latency histogram, in seconds (+Inf is implied).
    static constexpr std::array<double, 12> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                         0.5,   1,    2.5,   5,    10,  30};

    // Thread-safe. `seconds` < 0 counts as 0.
    void observe(std::string_view endpoint, std::string_view method, int status, double seconds);
    void add_faces(std::uint64_t n);

    // The whole page: facepipe_http_requests_total, facepipe_http_request_duration_seconds,
    // facepipe_faces_seen_total, then `extra` in its order. Label values are escaped.
    std::string render(const std::vector<MetricSample>& extra = {}) const;

private:
    struct Histogram {
        std::array<std::uint64_t, kBuckets.size()> buckets{};  // cumulative when rendered
        std::uint64_t count = 0;
        double sum = 0;
    };
    mutable std::mutex mu_;
    std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
    std::map<std::string, Histogram> latency_;
    std::uint64_t faces_ = 0;
};

// A label value escaped for the text format (\\, \", \n).
std::string prometheus_escape(std::string_view value);

}  // namespace facepipe
