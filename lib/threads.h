// threads.h — what a `--threads N` option means, and running a list of jobs on
// several threads while handing their results on in input order.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace facepipe {

// resolve_threads(requested)
//   ensures: requested when > 0; else (0 = "all cores") the number of hardware
//            threads, at least 1.
int resolve_threads(int requested);

// ordered_parallel(n, workers, window, work, emit)
//   requires: workers not empty, window >= 1; work(worker, i) uses only its
//             worker's state (and what is safe to share).
//   ensures:  work(*workers[k], i) runs once for every i in [0, n), each worker
//             on its own thread (with one worker, on the calling thread);
//             emit(i, result) runs on the calling thread for i = 0, 1, ... in
//             order, each as soon as job i and every job before it are done.
//             At most `window` jobs are started ahead of the next to emit, so
//             memory stays bounded however large n is.
//             If work throws for job i, the jobs before i are emitted, the rest
//             are dropped, and the exception is rethrown (after every thread
//             has stopped), as a serial loop would; the same if emit throws.
template <class Worker, class Result>
void ordered_parallel(std::size_t n, const std::vector<Worker*>& workers, std::size_t window,
                      const std::function<Result(Worker&, std::size_t)>& work,
                      const std::function<void(std::size_t, Result&&)>& emit) {
    if (workers.size() == 1) {
        for (std::size_t i = 0; i < n; ++i) emit(i, work(*workers[0], i));
        return;
    }
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::optional<Result>> slots(window);  // job i's result waits in slots[i % window]
    std::size_t next_job = 0, next_emit = 0;
    std::size_t failed_job = n;  // the first job that threw (n: none)
    std::exception_ptr failure;
    bool stop = false;

    auto run = [&](Worker& w) {
        for (;;) {
            std::size_t i;
            {
                std::unique_lock lock(mu);
                cv.wait(lock, [&] { return stop || next_job >= n || next_job < next_emit + window; });
                if (stop || next_job >= n) return;
                i = next_job++;
            }
            std::optional<Result> r;
            std::exception_ptr e;
            try {
                r.emplace(work(w, i));
            } catch (...) {
                e = std::current_exception();
            }
            std::lock_guard lock(mu);
            if (e) {
                if (i < failed_job) failed_job = i, failure = e;
            } else {
                slots[i % window] = std::move(r);
            }
            cv.notify_all();
        }
    };
    std::vector<std::thread> pool;
    for (Worker* w : workers) pool.emplace_back(run, std::ref(*w));

    std::exception_ptr emit_failure;
    while (next_emit < n) {
        std::optional<Result> r;
        {
            std::unique_lock lock(mu);
            cv.wait(lock, [&] { return slots[next_emit % window].has_value() || failed_job == next_emit; });
            if (failed_job == next_emit) break;
            r.emplace(std::move(*slots[next_emit % window]));
            slots[next_emit % window].reset();
        }
        try {
            emit(next_emit, std::move(*r));
        } catch (...) {
            emit_failure = std::current_exception();
            break;
        }
        std::lock_guard lock(mu);
        ++next_emit;
        cv.notify_all();
    }
    {
        std::lock_guard lock(mu);
        stop = true;
        cv.notify_all();
    }
    for (auto& t : pool) t.join();
    if (emit_failure) std::rethrow_exception(emit_failure);
    if (failure && next_emit < n) std::rethrow_exception(failure);
}

}  // namespace facepipe
