// Tests of lib/threads.h: ordered_parallel hands results on in input order,
// never runs more than its window ahead, and stops like a serial loop on an
// exception.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "threads.h"

using namespace facepipe;

namespace {

struct Counter {
    int jobs = 0;  // jobs this worker ran
};

// Later jobs finish first more often than not: job i sleeps longer the smaller i is.
void uneven_delay(std::size_t i) { std::this_thread::sleep_for(std::chrono::microseconds(200 * ((i * 7) % 5))); }

}  // namespace

TEST_CASE("resolve_threads: a positive count as given, 0 for all cores") {
    CHECK(resolve_threads(3) == 3);
    CHECK(resolve_threads(1) == 1);
    CHECK(resolve_threads(0) >= 1);
    CHECK(resolve_threads(0) == static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

TEST_CASE("ordered_parallel emits every result once, in input order, whatever the thread count") {
    for (int threads : {1, 2, 3, 8}) {
        CAPTURE(threads);
        std::vector<Counter> state(threads);
        std::vector<Counter*> workers;
        for (auto& c : state) workers.push_back(&c);
        const std::size_t n = 60, window = 2 * threads;
        std::atomic<int> running{0}, most_running{0};
        std::vector<std::size_t> emitted;
        std::size_t most_ahead = 0;  // jobs started beyond the next to emit, at most
        std::atomic<std::size_t> started{0};
        ordered_parallel<Counter, std::size_t>(
            n, workers, window,
            [&](Counter& c, std::size_t i) {
                ++started;
                const int now = ++running;
                for (int seen = most_running; now > seen && !most_running.compare_exchange_weak(seen, now);) {}
                uneven_delay(i);
                ++c.jobs;
                --running;
                return i * i;
            },
            [&](std::size_t i, std::size_t&& r) {
                CHECK(r == i * i);
                most_ahead = std::max(most_ahead, started.load() - emitted.size());
                emitted.push_back(i);
            });
        REQUIRE(emitted.size() == n);
        for (std::size_t i = 0; i < n; ++i) CHECK(emitted[i] == i);
        int total = 0;
        for (const auto& c : state) total += c.jobs;
        CHECK(total == static_cast<int>(n));
        CHECK(most_running <= threads);
        CHECK(most_ahead <= window);
    }
}

TEST_CASE("ordered_parallel stops at a job that throws: the jobs before it are emitted, then the exception") {
    for (int threads : {1, 2, 4}) {
        CAPTURE(threads);
        std::vector<Counter> state(threads);
        std::vector<Counter*> workers;
        for (auto& c : state) workers.push_back(&c);
        std::vector<std::size_t> emitted;
        auto run = [&] {
            ordered_parallel<Counter, std::size_t>(
                1000, workers, 2 * threads,
                [&](Counter&, std::size_t i) {
                    uneven_delay(i);
                    if (i == 13 || i == 17) throw std::runtime_error("job " + std::to_string(i));
                    return i;
                },
                [&](std::size_t i, std::size_t&&) { emitted.push_back(i); });
        };
        CHECK_THROWS_WITH_AS(run(), "job 13", std::runtime_error);
        REQUIRE(emitted.size() == 13);
        for (std::size_t i = 0; i < emitted.size(); ++i) CHECK(emitted[i] == i);
    }
}

TEST_CASE("ordered_parallel: an exception from emit stops the run and comes out") {
    std::vector<Counter> state(2);
    std::vector<Counter*> workers{&state[0], &state[1]};
    int emitted = 0;
    auto run = [&] {
        ordered_parallel<Counter, int>(
            100, workers, 4, [](Counter&, std::size_t i) { return static_cast<int>(i); },
            [&](std::size_t i, int&&) {
                if (i == 5) throw std::runtime_error("stdout closed");
                ++emitted;
            });
    };
    CHECK_THROWS_WITH_AS(run(), "stdout closed", std::runtime_error);
    CHECK(emitted == 5);
}
