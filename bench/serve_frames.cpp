// serve_frames.cpp — one browser tab of serve's Live page, as the server sees
// it: the frames of a video, scaled to the page's 640-pixel width and JPEG
// encoded as a browser's canvas would, posted one at a time (the page keeps
// one frame in flight) to POST /api/v1/live/frame of a running `facepipe serve`.
//
// Usage: facepipe_bench_serve_frames URL VIDEO [MAX_FRAMES] [SESSION]
//   URL  e.g. http://127.0.0.1:8080 (the key, if any, from $FACEPIPE_API_KEY)
// Prints one JSON line: frames, wall seconds, frames/s of the session, the
// server's own time per frame ("ms" in its answers) and the round trip, each
// as median and p95, and faces per frame. scripts/bench_serve.sh runs it.
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <string>
#include <vector>

namespace {

double quantile(std::vector<double> v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s URL VIDEO [MAX_FRAMES] [SESSION]\n", argv[0]);
        return 2;
    }
    const std::string url = argv[1];
    const int max_frames = argc > 3 ? std::atoi(argv[3]) : 150;
    const std::string session = argc > 4 ? argv[4] : "bench";
    cv::VideoCapture video(argv[2]);
    if (!video.isOpened()) {
        std::fprintf(stderr, "%s: cannot open the video\n", argv[2]);
        return 1;
    }
    // Frames first (decoding is the browser's cost, not the server's).
    std::vector<std::string> jpegs;
    for (cv::Mat frame; static_cast<int>(jpegs.size()) < max_frames && video.read(frame);) {
        cv::Mat scaled;
        cv::resize(frame, scaled, {640, frame.rows * 640 / frame.cols}, 0, 0, cv::INTER_AREA);
        std::vector<uchar> buf;
        cv::imencode(".jpg", scaled, buf, {cv::IMWRITE_JPEG_QUALITY, 80});
        jpegs.emplace_back(buf.begin(), buf.end());
    }
    httplib::Client client(url);
    client.set_read_timeout(60, 0);
    httplib::Headers headers;
    if (const char* key = std::getenv("FACEPIPE_API_KEY")) headers.emplace("x-api-key", key);
    std::vector<double> server_ms, round_trip_ms;
    double faces = 0;
    const auto start = std::chrono::steady_clock::now();
    for (const std::string& jpeg : jpegs) {
        const auto t0 = std::chrono::steady_clock::now();
        auto res = client.Post(("/api/v1/live/frame?session=" + session).c_str(), headers, jpeg, "image/jpeg");
        round_trip_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        if (!res || res->status != 200) {
            std::fprintf(stderr, "frame %zu: %s\n", round_trip_ms.size(), res ? res->body.c_str() : "no answer");
            return 1;
        }
        const auto j = nlohmann::json::parse(res->body);
        server_ms.push_back(j["ms"].get<double>());
        faces += static_cast<double>(j["faces"].size());
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double n = static_cast<double>(jpegs.size());
    std::printf("%s\n", nlohmann::json{{"frames", jpegs.size()},
                                       {"width", 640},
                                       {"seconds", seconds},
                                       {"fps", n / seconds},
                                       {"server_ms_median", quantile(server_ms, 0.5)},
                                       {"server_ms_p95", quantile(server_ms, 0.95)},
                                       {"round_trip_ms_median", quantile(round_trip_ms, 0.5)},
                                       {"round_trip_ms_p95", quantile(round_trip_ms, 0.95)},
                                       {"faces_per_frame", faces / n}}
                                .dump()
                                .c_str());
    return 0;
}
