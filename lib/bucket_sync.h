// bucket_sync.h — after `facepipe serve` changes the dataset and the model
// (an enrolment or a removal), push them to the bucket in the background with
// the same script the CLI side uses (scripts/sync.sh push, docs/sync.md).
//
// One push runs at a time; changes made while one runs are coalesced into one
// more push after it. A failure is logged (one line with the exit status and
// the last line the script wrote on stderr) and never affects the request that
// caused it. The script takes the same lock as enrolment, so a push never
// reads a half-written model.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace facepipe {

class BucketSync {
public:
    // command: the sync script ("" = a no-op: request() does nothing).
    // env: variables set for it on top of this process's environment (the
    // dataset, artifacts and lock the server uses, the binary).
    BucketSync(std::string command, std::map<std::string, std::string> env);
    ~BucketSync();  // waits for a push in progress; drops one not yet started
    BucketSync(const BucketSync&) = delete;
    BucketSync& operator=(const BucketSync&) = delete;

    bool enabled() const { return !command_.empty(); }
    // Asks for `command push` (with --delete after a removal, so that removed
    // photos go from the bucket too). Returns at once.
    void request(bool with_delete);
    // Blocks until no push is pending or running (tests), at most `seconds`.
    bool wait_idle(double seconds);

    std::uint64_t runs() const;
    std::uint64_t failures() const;

private:
    void run();
    int push(bool with_delete, std::string& last_err_line);

    std::string command_;
    std::map<std::string, std::string> env_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    bool pending_ = false, pending_delete_ = false, busy_ = false, stopping_ = false;
    std::uint64_t runs_ = 0, failures_ = 0;
    std::thread thread_;
};

}  // namespace facepipe
