#!/usr/bin/env bash
# The gallery-index section of the benchmark report: Classifier::predict with the
# FAISS HNSW index against exact search on synthetic clustered galleries
# (bench/bench_index.cpp), as a markdown table. Exact search is the baseline
# measured in the same run. bench_index is built here, in the build folder.
# Usage: scripts/bench_index.sh [ROWS...]   (default: 10000 100000 1000000)
# Environment: BUILD_DIR (build), QUERIES (200), EF_SEARCH (comma-separated; 0 = the default efSearch), VOTE (per-person),
#   NO_HEADING (set: no "###" heading line; scripts/bench.sh writes its own).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD_DIR:-$REPO/build}"
cmake --build "$BUILD" --target bench_index >/dev/null || { echo "bench_index: cannot build it in $BUILD" >&2; exit 2; }
[ $# -gt 0 ] || set -- 10000 100000 1000000
if [ -z "${NO_HEADING:-}" ]; then
  echo "### gallery index ($(nproc) cores; synthetic: 10 descriptors per identity, 10% stranger queries; one query at a time)"
  echo
fi
echo "Recall@1: the index's nearest row is the true nearest (in brackets: enrolled people's queries only)."
echo "Worst miss: of the queries it missed, the most the index's row is farther than the true nearest (in brackets: enrolled)."
echo "Label / prediction: Classifier::predict's label (unknown included) / label and distance equal exact search's."
echo
echo "| rows | vote | search | build s | index MB | peak RSS MB | median ms | p95 ms | vs exact | recall@1 | worst miss | label | prediction |"
echo "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for rows in "$@"; do "$BUILD/bench_index" "$rows" "${QUERIES:-200}" "${EF_SEARCH:-0}" "${VOTE:-per-person}"; done
