#!/usr/bin/env bash
# Set up and run facepipe's whole test suite: unit + end-to-end tests (Release),
# then the Debian package (tests/package/test_deb.sh), then the same suite under
# AddressSanitizer + UndefinedBehaviorSanitizer, then each fuzz harness over its
# seeds and for 15 s (scripts/fuzz.sh --ci, docs/fuzzing.md).
# Tests that need ../shared/data say so and skip when it is absent.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$REPO/scripts/setup.sh" --tests --sanitize --fuzz
cd "$REPO/build"
ctest --output-on-failure -j 2 --timeout 900
# The Debian package: build, apt install, the README's pipeline with /usr/bin/facepipe, purge.
"$REPO/tests/package/test_deb.sh"
cd "$REPO/build-asan"
# dlib's DNN is ~10x slower uninstrumented-to-ASan; the sanitizer pass skips the
# slowest end-to-end runs, which the Release pass above has just covered.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --output-on-failure -j 2 --timeout 900 -E "e2e: pipeline|^slow e2e:"
"$REPO/scripts/fuzz.sh" --ci
