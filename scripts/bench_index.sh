#!/usr/bin/env bash
# The gallery-index section of the benchmark report: exact brute-force search
# against FAISS HNSW and IVF on synthetic clustered galleries (bench/bench_index.cpp),
# as a markdown table. Exact search is the baseline measured in the same run.
# Usage: scripts/bench_index.sh [ROWS...]   (default: 10000 100000 1000000)
# Environment: BUILD_DIR (build), QUERIES (300), KINDS (hnsw,ivf).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${BUILD_DIR:-$REPO/build}/bench_index"
[ -x "$bin" ] || { echo "bench_index: $bin not built (install libfaiss-dev and re-run cmake)" >&2; exit 2; }
[ $# -gt 0 ] || set -- 10000 100000 1000000
echo "### gallery index ($(nproc) cores; synthetic: 10 descriptors per identity, 10% stranger queries; single-thread queries)"
echo
echo "| rows | search | build s | index MB | peak RSS MB | median ms | p95 ms | vs exact | recall@1 vs exact |"
echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for rows in "$@"; do "$bin" "$rows" "${QUERIES:-300}" "${KINDS:-hnsw,ivf}"; done
