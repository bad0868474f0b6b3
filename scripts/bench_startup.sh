#!/usr/bin/env bash
# Benchmark facepipe's start-up and print a markdown section (stdout; progress
# on stderr): what a cron job or a shell loop pays per process.
#
#   predict   one 1080p photo (bench/obama-1080p.jpg) per process, model loading
#             included, against a 2-person gallery
#   load      `facepipe models show --load`: find, checksum and load both models
#   --version, --help
#
# predict and load run twice, interleaved so machine noise hits both alike:
# with the landmark cache (lib/landmark_cache.h, the default when the models
# folder holds one) and with FACEPIPE_NO_LANDMARK_CACHE=1 (dlib's deserialisation
# of the .dat, the load path before the cache): the ratio is the figure to
# compare across runs. The machine's load average is printed with the figures.
#
# Usage: scripts/bench_startup.sh   Environment: FACEPIPE_BIN (binary), RUNS (9),
#        FACEPIPE_MODELS (default: the build's models), FACEPIPE_SHARED_DATA;
#        FACEPIPE_BASELINE_BIN  another build (e.g. of an older commit) measured
#        alongside on the same commands, as a further baseline; FACEPIPE_BASELINE_NAME
#        names it in the report (default: its path).
# scripts/bench.sh runs it for the report's start-up section (`--only startup`
# re-measures that section alone).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
F="${FACEPIPE_BIN:-$REPO/build/facepipe}"
SHARED="${FACEPIPE_SHARED_DATA:-$REPO/../shared/data}"
RUNS="${RUNS:-9}"
PHOTO="$SHARED/bench/obama-1080p.jpg"
export FACEPIPE_MODELS="${FACEPIPE_MODELS:-$(dirname "$F")/models}"
log() { echo "bench_startup: $*" >&2; }
for f in "$F" "$PHOTO" "$SHARED/faces/obama" "$SHARED/faces/biden"; do
  [ -e "$f" ] || { echo "bench_startup: $f is missing (run scripts/setup.sh; shared data beside the repo)" >&2; exit 1; }
done
CACHE="$FACEPIPE_MODELS/shape_predictor_68_face_landmarks.fpcache"
[ -f "$CACHE" ] || { echo "bench_startup: no landmark cache $CACHE (run facepipe models import)" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
mkdir -p dataset
cp -r "$SHARED/faces/obama" "$SHARED/faces/biden" dataset/
log "a 2-person gallery"
"$F" -q encode >/dev/null
"$F" -q train >/dev/null 2>&1

# One run of a command (output discarded; it must succeed): "WALL_MS CPU_MS", the
# CPU time being user + system of the process and its threads (GNU time). On a
# loaded machine the wall time mostly measures waiting for a core; the CPU time
# what the command costs.
ms() {
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -f "%U %S" -o "$WORK/cpu" "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
  t1=$(date +%s%N)
  echo "$(((t1 - t0) / 1000000)) $(awk '{printf "%d", 1000 * ($1 + $2)}' "$WORK/cpu")"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
nocache() { env FACEPIPE_NO_LANDMARK_CACHE=1 "$@"; }
B="${FACEPIPE_BASELINE_BIN:-}"
[ -z "$B" ] || [ -x "$B" ] || { echo "bench_startup: FACEPIPE_BASELINE_BIN $B is not a program" >&2; exit 1; }

# The result must not depend on the load path.
expected="$("$F" -q predict "$PHOTO")"
[ "$expected" = "$(nocache "$F" -q predict "$PHOTO")" ] ||
  { echo "bench_startup: predict's output differs with and without the landmark cache" >&2; exit 1; }
[ -z "$B" ] || [ "$expected" = "$("$B" -q predict "$PHOTO")" ] ||
  { echo "bench_startup: predict's output differs from the baseline build's" >&2; exit 1; }

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
log "$RUNS runs of each, interleaved (load average $LOAD_BEFORE)"
"$F" -q predict "$PHOTO" >/dev/null  # the page cache warm for both
for name in predict_c predict_d load_c load_d version help true predict_b load_b version_b help_b; do : > "$WORK/$name"; done
for _ in $(seq "$RUNS"); do
  ms env "$F" -q predict "$PHOTO" >> "$WORK/predict_c"
  ms env FACEPIPE_NO_LANDMARK_CACHE=1 "$F" -q predict "$PHOTO" >> "$WORK/predict_d"
  ms env "$F" -q models show --load >> "$WORK/load_c"
  ms env FACEPIPE_NO_LANDMARK_CACHE=1 "$F" -q models show --load >> "$WORK/load_d"
  ms "$F" --version >> "$WORK/version"
  ms "$F" --help >> "$WORK/help"
  ms /bin/true >> "$WORK/true"
  if [ -n "$B" ]; then
    ms "$B" -q predict "$PHOTO" >> "$WORK/predict_b"
    ms "$B" -q models show --load >> "$WORK/load_b"
    ms "$B" --version >> "$WORK/version_b"
    ms "$B" --help >> "$WORK/help_b"
  fi
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"
m() { awk '{print $1}' "$WORK/$1" | median; }     # wall ms
cpu() { awk '{print $2}' "$WORK/$1" | median; }  # CPU ms
# GNU time counts CPU time in steps of 10 ms: a median of 0 shows as "<10", and a
# ratio with it as "-".
AWK_FMT='function ms(x) { return x > 0 ? sprintf("%d", x) : "<10" }
         function ratio(a, b) { return a > 0 && b > 0 ? sprintf("%.1fx", a / b) : "-" }'
cpu_ms() { awk -v x="$(cpu "$1")" "$AWK_FMT"' BEGIN { print ms(x) }'; }

echo "## start-up (scripts/bench_startup.sh: one process per command; median of $RUNS runs, interleaved)"
echo
echo "With the landmark cache (\`$(basename "$CACHE")\`, the default) and without it"
echo "(\`FACEPIPE_NO_LANDMARK_CACHE=1\`: dlib deserialises the .dat, as before the cache; the rest is this build's)."
echo "Wall time, and in brackets CPU time (user + system, all threads): on a loaded machine the wall time"
echo "mostly measures the wait for a core. CPU time is counted in steps of 10 ms (GNU time): <10 is under one."
echo "Load average (1, 5, 15 min) $LOAD_BEFORE before, $LOAD_AFTER after; $(nproc) cores."
echo
echo "| command | with cache: wall ms (CPU ms) | without | without / with, wall (CPU) | target (wall) |"
echo "| --- | ---: | ---: | ---: | --- |"
row() {  # label, with-cache file, without file, target
  awk -v l="$1" -v c="$(m "$2")" -v cc="$(cpu "$2")" -v d="$(m "$3")" -v dc="$(cpu "$3")" -v t="$4" \
    "$AWK_FMT"' BEGIN { printf "| %s | %d (%s) | %d (%s) | %.1fx (%s) | %s |\n", l, c, ms(cc), d, ms(dc), d / c, ratio(dc, cc), t }'
}
row "predict obama-1080p.jpg" predict_c predict_d "< 300 ms"
row "models show --load" load_c load_d "-"
echo "| --version | $(m version) ($(cpu_ms version)) | - | - | < 50 ms |"
echo "| --help | $(m help) ($(cpu_ms help)) | - | - | < 50 ms |"
echo "| /bin/true (starting a process here) | $(m true) ($(cpu_ms true)) | - | - | - |"
if [ -n "$B" ]; then
  echo
  echo "Against a baseline, ${FACEPIPE_BASELINE_NAME:-the build \`$B\`}, on the same commands in the same run:"
  echo
  echo "| command | baseline: wall ms (CPU ms) | this build, with cache | baseline / this, wall (CPU) |"
  echo "| --- | ---: | ---: | ---: |"
  brow() {
    awk -v l="$1" -v b="$(m "$2")" -v bc="$(cpu "$2")" -v c="$(m "$3")" -v cc="$(cpu "$3")" \
      "$AWK_FMT"' BEGIN { printf "| %s | %d (%s) | %d (%s) | %.1fx (%s) |\n", l, b, ms(bc), c, ms(cc), b / c, ratio(bc, cc) }'
  }
  brow "predict obama-1080p.jpg" predict_b predict_c
  brow "models show --load" load_b load_c
  brow "--version" version_b version
  brow "--help" help_b help
fi
echo
echo "predict's output is identical both ways (checked before timing)."
