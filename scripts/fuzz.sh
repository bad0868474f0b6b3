#!/usr/bin/env bash
# Build facepipe's libFuzzer harnesses (tests/fuzz/) with clang, ASan and UBSan,
# and run each in turn on a corpus seeded with valid files facepipe writes.
#
# Usage: scripts/fuzz.sh [SECONDS] [HARNESS...]   (default 600 s each, every harness)
#        scripts/fuzz.sh --ci                     (replay the seeds, then 15 s each)
#   SECONDS  the time each harness runs (-max_total_time); a harness also stops
#            after RUNS executions (default 1000000; 0 = no limit).
#   HARNESS  names without the fuzz_ prefix: encodings model labels sync_manifest
#            pairs tfjs_weights ssd_model image video.
# Environment: RUNS, NICE (default 15), JOBS (build, default 2), RSS_MB (default 2048).
# Output under build-fuzz/ (not committed): corpus/<h>/ (kept between runs),
# seeds/<h>/, logs/<h>.log, crashes/<h>/ (crash-*, leak-*, timeout-*, oom-*
# inputs). Prints one line per harness (corpus: the inputs libFuzzer keeps at the end;
# the folder may hold more) and exits 1 if any harness failed.
# docs/fuzzing.md says what each harness covers and what its runs found.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$REPO/build-fuzz"
ALL=(encodings model labels sync_manifest pairs tfjs_weights ssd_model image video)
CI_MODE=0
SECONDS_EACH=600
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0; fi
if [ "${1:-}" = "--ci" ]; then CI_MODE=1; SECONDS_EACH=15; shift
elif [[ "${1:-}" =~ ^[0-9]+$ ]]; then SECONDS_EACH=$1; shift; fi
HARNESSES=("$@")
[ ${#HARNESSES[@]} -eq 0 ] && HARNESSES=("${ALL[@]}")
RUNS="${RUNS:-1000000}"
NICE="${NICE:-15}"
RSS_MB="${RSS_MB:-2048}"
log() { echo "fuzz: $*" >&2; }

# 1. Build (clang from Debian: scripts/setup.sh --fuzz installs it).
command -v clang++ >/dev/null || { log "clang++ is missing: run scripts/setup.sh --fuzz"; exit 2; }
cmake -S "$REPO" -B "$OUT" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug -DFACEPIPE_FUZZ=ON \
      -DBUILD_TESTING=OFF >/dev/null
nice -n "$NICE" cmake --build "$OUT" -j "${JOBS:-2}" --target fuzz >/dev/null

# 2. Seeds: valid files written by facepipe's own writers, renewed every run.
rm -rf "$OUT/seeds"
face_api="$REPO/.cache/npm/face-api/package/model"
"$OUT/fuzz_seeds" "$OUT/seeds" "$([ -d "$face_api" ] && echo "$face_api")"

# 3. Run each harness in turn.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
mkdir -p "$OUT/logs"
failed=0
printf '%-14s %10s %8s %6s %6s %7s  %s\n' harness execs exec/s cov ft corpus result
for h in "${HARNESSES[@]}"; do
  bin="$OUT/fuzz_$h"
  [ -x "$bin" ] || { log "no harness fuzz_$h"; exit 2; }
  corpus="$OUT/corpus/$h" crashes="$OUT/crashes/$h" logf="$OUT/logs/$h.log"
  mkdir -p "$corpus" "$crashes"
  flags=(-rss_limit_mb="$RSS_MB" -timeout=10 -max_total_time="$SECONDS_EACH" -print_final_stats=1
         -artifact_prefix="$crashes/" -dict="$REPO/tests/fuzz/$h.dict")
  [ "$RUNS" -gt 0 ] && flags+=(-runs="$RUNS")
  result=ok
  : >"$logf"
  if [ "$CI_MODE" -eq 1 ]; then
    # Replay: every seed once (no mutation), so a regression on a valid file fails fast.
    nice -n "$NICE" "$bin" -runs=0 -rss_limit_mb="$RSS_MB" -timeout=10 "$OUT/seeds/fuzz_$h" >>"$logf" 2>&1 \
      || result="FAILED on a seed"
  fi
  if [ "$result" = ok ]; then
    nice -n "$NICE" "$bin" "${flags[@]}" "$corpus" "$OUT/seeds/fuzz_$h" >>"$logf" 2>&1 || result="FAILED"
  fi
  [ "$result" = ok ] || failed=1
  execs=$(sed -n 's/^stat::number_of_executed_units: //p' "$logf" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: //p' "$logf" | tail -1)
  last=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED)' "$logf" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  files=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
  [ "$result" = ok ] || result="$result: see $logf and $crashes/"
  printf '%-14s %10s %8s %6s %6s %7s  %s\n' "$h" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${files:-?}" "$result"
done
exit $failed
