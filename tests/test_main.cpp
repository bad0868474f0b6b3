// The doctest runner for facepipe's library tests. Each lib/ module has its own
// tests/test_<module>.cpp; tests/test_e2e_*.cpp run the real binary.
//
// A run in which a test skipped (testutil.h skip_test) and nothing failed ends
// with kSkipExitCode, not 0: ctest then lists the test as skipped.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <iostream>

#include "testutil.h"

int main(int argc, char** argv) {
    doctest::Context context(argc, argv);
    const int failed = context.run();
    if (context.shouldExit() || failed != 0) return failed;
    const auto& skipped = facepipe::test::skipped_tests();
    if (skipped.empty()) return 0;
    std::cerr << "[facepipe] " << skipped.size() << " test(s) skipped, not passed:\n";
    for (const auto& s : skipped) std::cerr << "  SKIPPED: " << s << "\n";
    return facepipe::test::kSkipExitCode;
}
