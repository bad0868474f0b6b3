// Tests of BucketSync (lib/bucket_sync.h): the push after a change, run in the
// background with the server's paths, one at a time, coalesced, failures counted.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include "bucket_sync.h"
#include "e2e.h"
#include "fsutil.h"
#include "testutil.h"

using namespace facepipe;
using facepipe::test::TempDir;

namespace {

// A stand-in for scripts/sync.sh that appends "<args> <FACEPIPE_DATASET>" to
// a log, then exits with the code in the file `rc` (0 when absent).
std::string fake_sync(const TempDir& dir) {
    const std::string script = (dir / "sync.sh").string();
    write_file_atomic(script,
                      "#!/bin/sh\necho \"$* $FACEPIPE_DATASET\" >> '" + (dir / "log").string() + "'\n"
                      "echo 'gsutil: bucket unreachable' >&2\n"
                      "exit $(cat '" + (dir / "rc").string() + "' 2>/dev/null || echo 0)\n",
                      0700);
    return script;
}

}  // namespace

TEST_CASE("BucketSync runs the script with the server's paths, --delete after a removal, and counts failures") {
    TempDir dir;
    BucketSync sync(fake_sync(dir), {{"FACEPIPE_DATASET", "/srv/data set"}});
    REQUIRE(sync.enabled());
    sync.request(false);
    REQUIRE(sync.wait_idle(30));
    CHECK(sync.runs() == 1);
    CHECK(sync.failures() == 0);
    CHECK(facepipe::test::slurp(dir / "log") == "push /srv/data set\n");

    write_file_atomic((dir / "rc").string(), "1");
    sync.request(true);
    REQUIRE(sync.wait_idle(30));
    CHECK(sync.runs() == 2);
    CHECK(sync.failures() == 1);
    CHECK(facepipe::test::slurp(dir / "log") == "push /srv/data set\npush --delete /srv/data set\n");
}

TEST_CASE("BucketSync coalesces the changes made while a push runs into one more push") {
    TempDir dir;
    BucketSync sync(fake_sync(dir), {});
    for (int i = 0; i < 20; ++i) sync.request(i == 5);  // faster than pushes run
    REQUIRE(sync.wait_idle(60));
    CHECK(sync.runs() >= 1);
    CHECK(sync.runs() <= 2);  // the first, then at most one for everything that came meanwhile
    CHECK(facepipe::test::slurp(dir / "log").find("--delete") != std::string::npos);  // the removal is kept
}

TEST_CASE("BucketSync without a command does nothing, and a missing script is a logged failure") {
    BucketSync off("", {});
    CHECK_FALSE(off.enabled());
    off.request(true);
    CHECK(off.wait_idle(1));
    CHECK(off.runs() == 0);
    BucketSync missing("/nonexistent/sync.sh", {});
    missing.request(false);
    REQUIRE(missing.wait_idle(30));
    CHECK(missing.runs() == 1);
    CHECK(missing.failures() == 1);
}
