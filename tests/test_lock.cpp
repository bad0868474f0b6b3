// Tests of lib/lock.h: the lock enroll, retrain.sh and sync.sh share.
#include <doctest/doctest.h>

#include <atomic>
#include <optional>
#include <thread>

#include "error.h"
#include "lock.h"
#include "testutil.h"

using namespace facepipe;
using namespace facepipe::test;

TEST_CASE("default_lock_path is facepipe.lock beside the model") {
    CHECK(default_lock_path("models/model.bin") == std::filesystem::path("models/facepipe.lock"));
    CHECK(default_lock_path("model.bin") == std::filesystem::path("facepipe.lock"));
}

TEST_CASE("a held FileLock makes a second one wait, or fail when it may not wait") {
    TempDir d;
    const auto path = d / "facepipe.lock";
    std::optional<FileLock> first(std::in_place, path, false);
    std::atomic<int> busy_calls{0};
    try {
        FileLock second(path, false, [&] { ++busy_calls; });
        FAIL("a second lock was granted while the first is held");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("locked by another facepipe run") != std::string::npos);
    }
    CHECK(busy_calls == 1);

    // A waiting lock is granted once the holder lets go, not before. The holder
    // lets go on an event: when the waiter has said it is busy (the limit is
    // only a safety net, after which busy_calls == 2 fails below).
    std::atomic<bool> released{false};
    std::thread holder([&] {
        eventually([&] { return busy_calls == 2; }, 120);
        released = true;
        first.reset();
    });
    FileLock third(path, true, [&] { ++busy_calls; });
    CHECK(released);
    CHECK(busy_calls == 2);
    holder.join();
    CHECK(std::filesystem::exists(path));  // never deleted: see lock.h
}
