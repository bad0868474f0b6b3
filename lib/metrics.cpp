#include "metrics.h"

#include <cmath>
#include <cstdio>
#include <tuple>

namespace facepipe {
namespace {

std::string number(double v) {
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (std::isnan(v)) return "NaN";
    if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

std::string labels(const std::vector<std::pair<std::string, std::string>>& kv) {
    if (kv.empty()) return "";
    std::string s = "{";
    for (size_t i = 0; i < kv.size(); ++i) {
        if (i) s += ",";
        s += kv[i].first + "=\"" + prometheus_escape(kv[i].second) + "\"";
    }
    return s + "}";
}

void header(std::string& out, const std::string& name, const std::string& help, const std::string& kind) {
    out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + kind + "\n";
}

}  // namespace

std::string prometheus_escape(std::string_view value) {
    std::string s;
    for (char c : value) {
        if (c == '\\') s += "\\\\";
        else if (c == '"') s += "\\\"";
        else if (c == '\n') s += "\\n";
        else s += c;
    }
    return s;
}

void Metrics::observe(std::string_view endpoint, std::string_view method, int status, double seconds) {
    if (!(seconds > 0)) seconds = 0;
    std::lock_guard<std::mutex> lock(mu_);
    ++requests_[{std::string(endpoint), std::string(method), status}];
    Histogram& h = latency_[std::string(endpoint)];
    for (size_t i = 0; i < kBuckets.size(); ++i)
        if (seconds <= kBuckets[i]) {
            ++h.buckets[i];
            break;
        }
    ++h.count;
    h.sum += seconds;
}

void Metrics::add_faces(std::uint64_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    faces_ += n;
}

std::string Metrics::render(const std::vector<MetricSample>& extra) const {
    std::string out;
    {
        std::lock_guard<std::mutex> lock(mu_);
        header(out, "facepipe_http_requests_total", "HTTP requests answered, by endpoint, method and status code.",
               "counter");
        for (const auto& [key, n] : requests_) {
            const auto& [endpoint, method, status] = key;
            out += "facepipe_http_requests_total" +
                   labels({{"endpoint", endpoint}, {"method", method}, {"code", std::to_string(status)}}) + " " +
                   number(static_cast<double>(n)) + "\n";
        }
        header(out, "facepipe_http_request_duration_seconds",
               "Time from a request's first byte to its answer being written, by endpoint.", "histogram");
        for (const auto& [endpoint, h] : latency_) {
            std::uint64_t cumulative = 0;
            for (size_t i = 0; i < kBuckets.size(); ++i) {
                cumulative += h.buckets[i];
                out += "facepipe_http_request_duration_seconds_bucket" +
                       labels({{"endpoint", endpoint}, {"le", number(kBuckets[i])}}) + " " +
                       number(static_cast<double>(cumulative)) + "\n";
            }
            out += "facepipe_http_request_duration_seconds_bucket" + labels({{"endpoint", endpoint}, {"le", "+Inf"}}) +
                   " " + number(static_cast<double>(h.count)) + "\n";
            out += "facepipe_http_request_duration_seconds_sum" + labels({{"endpoint", endpoint}}) + " " +
                   number(h.sum) + "\n";
            out += "facepipe_http_request_duration_seconds_count" + labels({{"endpoint", endpoint}}) + " " +
                   number(static_cast<double>(h.count)) + "\n";
        }
        header(out, "facepipe_faces_seen_total", "Faces found in recognised images and live frames.", "counter");
        out += "facepipe_faces_seen_total " + number(static_cast<double>(faces_)) + "\n";
    }
    std::string last;
    for (const auto& s : extra) {
        if (s.name != last) header(out, s.name, s.help, s.kind);
        last = s.name;
        out += s.name + labels(s.labels) + " " + number(s.value) + "\n";
    }
    return out;
}

}  // namespace facepipe
