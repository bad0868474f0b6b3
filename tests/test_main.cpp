// The doctest runner for facepipe's library tests. Each lib/ module has its own
// tests/test_<module>.cpp; tests/test_e2e_*.cpp run the real binary.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
