#!/usr/bin/env bash
# Benchmark facepipe on this machine and write the report, docs/benchmarks.md:
# the one place facepipe's measured figures live (README.md and docs/ link to it).
# Every figure comes with the baseline it is compared against, measured in the
# same run (these machines are noisy: compare ratios, not seconds, across runs).
#
# Usage: scripts/bench.sh [--output FILE] [--only SECTIONS] [RUNS]
#   --output FILE  the report to write (default: docs/benchmarks.md; - = stdout)
#   --only S,...   run only these sections (names below; train runs encode too, as
#                  it needs its output) and put them in place of the same sections of
#                  the existing report, leaving the others (and the peak-memory
#                  table, which only a full run makes) as they were
#   RUNS           runs per latency figure (default 5)
# The report is written to a temporary file beside FILE and renamed over it when
# the run completes, so a failed or interrupted run leaves the previous report.
# The previous report's part after the "kept by scripts/bench.sh" marker
# (measurements this script does not repeat) is carried over unchanged.
# The report's header says when, where and on which commit it was made, and how
# long the run took (most of it: the gallery index at 1M rows).
# Needs: a build (scripts/setup.sh) and ../shared/data (or $FACEPIPE_SHARED_DATA).
# Sections: encode, train, predict, startup (scripts/bench_startup.sh: one-shot
#   predict and --version/--help, with the landmark cache and without), eval, knn (exact search against gallery size),
#   index (gallery index), train-scale (train at scale), live, serve, threads
#   (predict on 1 thread and all, one photo's detection on 1 and 2, live on 1 and 2),
#   detectors (hog against ssd: faces found, eval, speed; scripts/bench_detectors.sh),
#   and peak memory (full runs only).
# Environment: FACEPIPE_BIN (default build/facepipe), FACEPIPE_SHARED_DATA, FACEPIPE_MODELS;
#   BENCH_INDEX_ROWS  gallery sizes of the index section (default 10000 100000 1000000)
#   QUERIES, EF_SEARCH  the index section's queries and efSearch values (default 1000
#                     and 128,256; see scripts/bench_index.sh)
#   BENCH_TRAIN_ROWS  gallery sizes of the train-at-scale section (default 100000;
#                     1000000 adds a graph build and a leave-one-out over 200,000 photos)
# The benchmark programs (bench/) are built here, in the binary's build folder.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
F="${FACEPIPE_BIN:-$REPO/build/facepipe}"
DATA="${FACEPIPE_SHARED_DATA:-$REPO/../shared/data}"
OUT="$REPO/docs/benchmarks.md"
RUNS=5
ONLY=""
SECTION_NAMES="encode train predict startup eval knn index train-scale live serve threads detectors"
while [ $# -gt 0 ]; do
  case "$1" in
    --output) [ $# -ge 2 ] || { echo "bench: --output needs a file" >&2; exit 2; }; OUT="$2"; shift ;;
    --output=*) OUT="${1#--output=}" ;;
    --only) [ $# -ge 2 ] || { echo "bench: --only needs a list of sections" >&2; exit 2; }; ONLY="$2"; shift ;;
    --only=*) ONLY="${1#--only=}" ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    [0-9]*) RUNS="$1" ;;
    *) echo "bench: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for name in ${ONLY//,/ }; do
  [[ " $SECTION_NAMES " == *" $name "* ]] || { echo "bench: unknown section '$name' (sections: $SECTION_NAMES)" >&2; exit 2; }
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "bench: RUNS must be a positive number, not '$RUNS'" >&2; exit 2; }
[ -x "$F" ] || { echo "bench: $F missing; run scripts/setup.sh" >&2; exit 2; }
[ -d "$DATA/faces" ] || { echo "bench: $DATA/faces missing" >&2; exit 2; }
[ "$OUT" = - ] || [ -d "$(dirname "$OUT")" ] || { echo "bench: no folder for $OUT" >&2; exit 2; }
WORK="$(mktemp -d)"
OUT_TMP=""
trap 'rm -rf "$WORK"; [ -z "$OUT_TMP" ] || rm -f "$OUT_TMP"' EXIT
export FACEPIPE_MODELS="${FACEPIPE_MODELS:-$REPO/build/models}"
BUILD="$(dirname "$F")"
# Marks the start of the part of the report this script carries over (keep in sync
# with docs/benchmarks.md).
KEPT_MARKER="<!-- kept by scripts/bench.sh:"

log() { echo "bench: $*" >&2; }
# want NAME: whether section NAME runs (all of them without --only)
want() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }
# Each section's output starts with this line, so that --only can put a section back in its place.
SECTION_MARKER="<!-- bench section:"
section_marker() { echo "$SECTION_MARKER $1 -->"; }
now() { date +%s.%N; }
# median of numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# wall seconds and peak RSS (MB) of one command: prints "SECONDS MB"
measure() { /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
            awk '{printf "%s %.0f\n", $1, $2/1024}' "$WORK/time"; }

# Where and on what the report was made (read before the run: the tree it measured).
STARTED="$(date -u +%Y-%m-%dT%H:%MZ)"
MACHINE="$(nproc) cores, $(awk '/model name/{$1=$2=$3="";print;exit}' /proc/cpuinfo | sed 's/^ *//'), $(free -g | awk '/Mem:/{print $2}') GiB"
COMMIT="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ "$COMMIT" != unknown ] && [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  COMMIT="$COMMIT with uncommitted changes"
fi

# The sections of the report, on stdout.
sections() {
if want encode || want train; then
# ---- encode: shared faces + 5 augmented copies each, all cores vs one thread ----
section_marker encode
log "encode"
cp -r "$DATA/faces" "$WORK/dataset"; chmod -R u+w "$WORK/dataset"; rm -f "$WORK/dataset/SOURCES.md"
( cd "$WORK" && "$F" augment -q --copies 5 --seed 1 >/dev/null )
read -r t_all mem_enc < <(cd "$WORK" && measure "$F" encode -q --rebuild --output all.bin)
PEAK=("| encode (all cores, $(find "$WORK/dataset" -type f | wc -l) images) | $mem_enc |")
( cd "$WORK" && "$F" encode -q --output all.bin ) > /dev/null  # warms the file cache for the no-op timing
read -r t_noop _ < <(cd "$WORK" && measure "$F" encode -q --output all.bin)
read -r t_one _ < <(cd "$WORK" && measure "$F" encode -q --rebuild --threads 1 --output one.bin)
( cd "$WORK" && "$F" encode -q --rebuild --output stages.bin --format json ) > "$WORK/encode.json"
images=$(jq -r .images "$WORK/encode.json")
echo "## encode ($images images: ../shared/data/faces/ with 5 augmented copies each)"
echo
echo "| run | wall s | images/s | vs --threads 1 |"
echo "| --- | ---: | ---: | ---: |"
awk -v n="$images" -v a="$t_all" -v o="$t_one" -v z="$t_noop" 'BEGIN {
  printf "| default (all cores) | %.1f | %.1f | %.2fx faster |\n", a, n/a, o/a
  printf "| --threads 1 | %.1f | %.1f | 1.00x |\n", o, n/o
  printf "| no-op re-run (nothing changed) | %.2f | - | - |\n", z }'
echo
echo "Per stage, all cores (summed over threads), ms per encoded image: $(jq -r '.ms_per_encoded_image | "load \(.load) detect \(.detect) landmarks \(.landmarks) descriptor \(.descriptor)"' "$WORK/encode.json" | awk '{printf "%s %.1f, %s %.1f, %s %.1f, %s %.1f", $1, $2, $3, $4, $5, $6, $7, $8}')"
echo "Peak memory of encode: ${mem_enc} MB"
echo

fi

if want train; then
# ---- train ----
section_marker train
log "train"
( cd "$WORK" && "$F" train -q --encodings all.bin --format json > train.json )
read -r t_train mem_train < <(cd "$WORK" && measure "$F" train -q --encodings all.bin)
PEAK+=("| train | $mem_train |")
echo "## train"
echo
echo "$t_train s wall, peak ${mem_train} MB. Leave-one-out: $(jq -r '.leave_one_out.per_person | "\(.accuracy) \(.correct) \(.evaluated)"' "$WORK/train.json" | awk '{printf "%.1f%% (%d of %d originals)", 100 * $1, $2, $3}')"
echo

fi

if want predict; then
# ---- predict: one photo per run, model loading included ----
section_marker predict
log "predict"
echo "## predict (one photo per process, model loading included; median of $RUNS runs)"
echo
echo "| input | wall s | vs 240p | peak MB |"
echo "| --- | ---: | ---: | ---: |"
base=""
for res in 240p 480p 720p 1080p; do
  img="$DATA/bench/obama-$res.jpg"
  : > "$WORK/times"
  for _ in $(seq "$RUNS"); do (cd "$WORK" && measure "$F" predict -q "$img") >> "$WORK/times"; done
  t=$(awk '{print $1}' "$WORK/times" | median); m=$(awk '{print $2}' "$WORK/times" | sort -n | tail -1)
  [ -n "$base" ] || base=$t
  awk -v r="$res" -v t="$t" -v b="$base" -v m="$m" 'BEGIN { printf "| obama-%s.jpg | %.2f | %.2fx | %s |\n", r, t, t/b, m }'
  PEAK+=("| predict obama-$res.jpg | $m |")
done
echo
: > "$WORK/times"
for _ in $(seq "$RUNS"); do (cd "$WORK" && measure "$F" models show --load) >> "$WORK/times"; done
echo "Model loading alone (\`facepipe models show --load\`: find, checksum and deserialize both models): $(awk '{print $1}' "$WORK/times" | median) s"
PEAK+=("| models show --load | $(awk '{print $2}' "$WORK/times" | sort -n | tail -1) |")
echo

fi

if want startup; then
# ---- start-up: scripts/bench_startup.sh prints its own section ----
section_marker startup
log "start-up"
FACEPIPE_BIN="$F" FACEPIPE_SHARED_DATA="$DATA" RUNS=$((RUNS * 2 - 1)) "$REPO/scripts/bench_startup.sh" ||
  { echo "## start-up"; echo; echo "scripts/bench_startup.sh failed (exit $?)"; }
echo
fi

if want eval; then
# ---- eval: LFW protocol on pairs made from the shared faces, and identification ----
section_marker eval
log "eval"
( cd "$WORK" && "$F" eval -q --dataset "$DATA/faces" --make-pairs lfw >/dev/null )
eval_args=(eval --pairs lfw/pairs.txt --dataset "$DATA/faces" --cache-dir "$WORK/eval-cache")
read -r t_cold mem_eval < <(cd "$WORK" && measure "$F" "${eval_args[@]}")
read -r t_warm _ < <(cd "$WORK" && measure "$F" "${eval_args[@]}")
PEAK+=("| eval (both protocols, cold cache) | $mem_eval |")
(cd "$WORK" && "$F" -q "${eval_args[@]}" --format json) > "$WORK/eval.json"
echo "## eval (../shared/data/faces/: 10-fold pairs from \`eval --make-pairs\`, and identification)"
echo
echo "| run | wall s | vs cached |"
echo "| --- | ---: | ---: |"
awk -v c="$t_cold" -v w="$t_warm" 'BEGIN {
  printf "| first run (encodes %s) | %.2f | %.2fx |\n", "both folders", c, c/w
  printf "| second run (descriptors from the cache) | %.2f | 1.00x |\n", w }'
echo
echo "Accuracy it reports:"
echo
# Read from eval's JSON (docs/eval.md), one figure per line.
jq -r '.verification as $v | .identification as $i |
  "fold \($v.accuracy_mean) \($v.accuracy_std) \($v.folds)",
  "fixed \($v.fixed_threshold.threshold) \($v.fixed_threshold.accuracy) \($v.fixed_threshold.correct) \($v.fixed_threshold.pairs) \($v.fixed_threshold.tar) \($v.fixed_threshold.far)",
  ($v.roc[] | "roc \(.target_far) \(.tar) \(.threshold) \(.far) \(.impostor_pairs) \(.enough_impostors)"),
  "closed \($i.closed_set.accuracy) \($i.closed_set.correct) \($i.closed_set.evaluated)",
  "recommended \($i.recommended.target_far) \($i.recommended.threshold) \($i.recommended.source)"' "$WORK/eval.json" |
awk '
  $1 == "fold" { printf "    10-fold protocol: %.1f%% +- %.1f%% (mean +- std over %d folds; each fold'"'"'s threshold chosen on the others)\n", 100 * $2, 100 * $3, $4 }
  $1 == "fixed" { printf "    Fixed threshold %.3f: accuracy %.1f%% (%d/%d), TAR %.1f%%, FAR %.1f%%\n", $2, 100 * $3, $4, $5, 100 * $6, 100 * $7 }
  $1 == "roc" { printf "    TAR @ FAR %g%%: %.1f%% (threshold %.3f, measured FAR %.1f%% of %d different-person pairs%s)\n", 100 * $2, 100 * $3, $4, 100 * $5, $6, $7 == "true" ? "" : "; too few to resolve it, so no false accept allowed" }
  $1 == "closed" { printf "    Closed-set leave-one-out top-1: %.1f%% (%d of %d photos whose person has other photos)\n", 100 * $2, $3, $4 }
  $1 == "recommended" { src = $0; sub(/^recommended [^ ]+ [^ ]+ /, "", src); printf "    Recommended for %g%% false accepts: %.3f (%s)\n", 100 * $2, $3, src }'
echo

fi

if want knn; then
# ---- exact search against gallery size (bench/knn.cpp: Classifier::predict itself) ----
section_marker knn
log "exact search against gallery size"
KNN="$BUILD/facepipe_bench_knn"
echo "## exact search: query time against gallery size (bench/knn.cpp: Classifier::predict on galleries without an index; random synthetic 128-d descriptors, 10 per person; median of 15 queries)"
echo
if [ -f "$BUILD/CMakeCache.txt" ] && cmake --build "$BUILD" --target facepipe_bench_knn >/dev/null 2>"$WORK/err"; then
  /usr/bin/time -f "%M" -o "$WORK/time" "$KNN" 1000 10000 100000 1000000
  PEAK+=("| exact search benchmark (1M-row gallery) | $(awk '{printf "%.0f", $1/1024}' "$WORK/time") |")
  echo
  echo "Every query here measures its distance to every gallery row. \`train\` gives galleries of 50,000 rows or more an index instead (next section)."
else
  echo "not measured: could not build facepipe_bench_knn in $BUILD"
  cat "$WORK/err" >&2
fi
echo

fi

if want index; then
# ---- gallery index: scripts/bench_index.sh prints the table (1M rows: most of the run, mostly the graph build) ----
section_marker index
log "gallery index (rows: ${BENCH_INDEX_ROWS:-10000 100000 1000000})"
local queries="${QUERIES:-1000}" ef="${EF_SEARCH:-128,256}"
echo "## gallery index (scripts/bench_index.sh: Classifier::predict with the HNSW index against exact search in the same run; synthetic galleries of 10 descriptors per person around a centre, people ~0.95 apart, photos of one person ~0.4 apart; $queries queries, 10% of them strangers; one query at a time)"
echo
if [ -f "$BUILD/CMakeCache.txt" ]; then
  # shellcheck disable=SC2086  # the rows are a list
  NO_HEADING=1 QUERIES="$queries" EF_SEARCH="$ef" BUILD_DIR="$BUILD" \
    "$REPO/scripts/bench_index.sh" ${BENCH_INDEX_ROWS:-10000 100000 1000000}
  echo
  echo "Peak RSS is the whole benchmark's (gallery, index and a copy rebuilt from its stored layout)."
else
  echo "not measured: no CMake build in $BUILD"
fi
echo

fi

if want train-scale; then
# ---- train at scale: bench_index --train (built by bench_index.sh above) ----
section_marker train-scale
log "train at scale (rows: ${BENCH_TRAIN_ROWS:-100000})"
echo "## train at scale (bench_index --train: the whole train(), index and leave-one-out report; synthetic galleries as above, each person 2 original photos with 4 augmented copies each)"
echo
if [ -f "$BUILD/CMakeCache.txt" ] && cmake --build "$BUILD" --target bench_index >/dev/null 2>"$WORK/err"; then
  echo "| rows | search | train wall (index build) | leave-one-out per-person / knn | threshold | peak RSS MB |"
  echo "| ---: | --- | ---: | ---: | ---: | ---: |"
  for rows in ${BENCH_TRAIN_ROWS:-100000}; do "$BUILD/bench_index" --train "$rows"; done
  echo
  echo "Peak RSS is the process's so far: an exact row's includes the hnsw run before it. Exact search is not run above 200,000 rows: its leave-one-out report scans the whole gallery once per original photo. The knn column mostly measures the automatic k = round(sqrt(rows)) against 10 rows a person, a vote drowned by other people's rows; the default per-person vote is unaffected. Saving the model is not included."
else
  echo "not measured: could not build bench_index in $BUILD"
  cat "$WORK/err" >&2
fi
echo

fi

if want live; then
# ---- live: scripts/bench_live.sh prints its own section ----
section_marker live
log "live"
echo "## live (\`facepipe live\`, scripts/bench_live.sh)"
echo
if [ -x "$REPO/scripts/bench_live.sh" ]; then
  FACEPIPE_BIN="$F" FACEPIPE_SHARED_DATA="$DATA" "$REPO/scripts/bench_live.sh" || echo "scripts/bench_live.sh failed (exit $?)"
else
  echo "not measured: scripts/bench_live.sh not present"
fi
echo

fi

if want serve; then
# ---- serve: scripts/bench_serve.sh prints its own section ----
section_marker serve
log "serve"
echo "## serve (\`facepipe serve\`, scripts/bench_serve.sh)"
echo
if [ -x "$REPO/scripts/bench_serve.sh" ]; then
  FACEPIPE_BIN="$F" FACEPIPE_SHARED_DATA="$DATA" RUNS=$((RUNS * 4)) PREDICT_RUNS="$RUNS" \
    "$REPO/scripts/bench_serve.sh" || echo "scripts/bench_serve.sh failed (exit $?)"
else
  echo "not measured: scripts/bench_serve.sh not present"
fi
echo

fi

if want detectors; then
# ---- detectors: scripts/bench_detectors.sh prints its own section ----
section_marker detectors
log "detectors"
FACEPIPE_BIN="$F" FACEPIPE_SHARED_DATA="$DATA" RUNS="$RUNS" "$REPO/scripts/bench_detectors.sh" ||
  { echo "## detectors"; echo; echo "scripts/bench_detectors.sh failed (exit $?)"; }
echo
fi

# ---- threads: predict on 1 thread and all, one photo's detection on 1 and 2, live on 1 and 2 ----
if want threads; then
section_marker threads
log "threads"
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
TD="$WORK/threads"
mkdir -p "$TD"; cp -r "$DATA/faces" "$TD/dataset"; chmod -R u+w "$TD/dataset"; rm -f "$TD/dataset/SOURCES.md"
( cd "$TD" && "$F" -q encode --originals-only >/dev/null && "$F" -q train >/dev/null )
photos=$(find "$DATA/faces" -type f \( -name '*.jpg' -o -name '*.jpeg' -o -name '*.png' \) | wc -l)
# Interleaved, so that the machine's noise hits both alike; medians. The folder
# given 4 times as well: 4x the photos for the same model loading.
: > "$WORK/p1"; : > "$WORK/pall"; : > "$WORK/q1"; : > "$WORK/qall"
for _ in $(seq "$RUNS"); do
  (cd "$TD" && measure "$F" predict -q -j 1 "$DATA/faces") >> "$WORK/p1"
  (cd "$TD" && measure "$F" predict -q "$DATA/faces") >> "$WORK/pall"
  (cd "$TD" && measure "$F" predict -q -j 1 "$DATA/faces" "$DATA/faces" "$DATA/faces" "$DATA/faces") >> "$WORK/q1"
  (cd "$TD" && measure "$F" predict -q "$DATA/faces" "$DATA/faces" "$DATA/faces" "$DATA/faces") >> "$WORK/qall"
done
t1=$(awk '{print $1}' "$WORK/p1" | median); tall=$(awk '{print $1}' "$WORK/pall" | median)
q1=$(awk '{print $1}' "$WORK/q1" | median); qall=$(awk '{print $1}' "$WORK/qall" | median)
(cd "$TD" && "$F" -q predict -j 1 --format jsonl "$DATA/faces") > "$WORK/p1.jsonl" || true
(cd "$TD" && "$F" -q predict --format jsonl "$DATA/faces") > "$WORK/pall.jsonl" || true
same=$(cmp -s "$WORK/p1.jsonl" "$WORK/pall.jsonl" && echo "byte-identical" || echo "DIFFERENT")
echo "## threads (\`predict --threads\`, one photo's detection on several threads, \`live --threads\`; $(nproc) cores)"
echo
echo "\`predict\` of the $photos photos of ../shared/data/faces/ (one process, model loading included; median of $RUNS runs each, interleaved); its jsonl output on all cores is $same to --threads 1's:"
echo
echo "| run | wall s | photos/s | speed-up vs --threads 1 |"
echo "| --- | ---: | ---: | ---: |"
awk -v n="$photos" -v a="$tall" -v o="$t1" -v qa="$qall" -v qo="$q1" -v c="$(nproc)" 'BEGIN {
  printf "| %d photos, default (all %d cores) | %.2f | %.1f | %.2fx |\n", n, c, a, n/a, o/a
  printf "| %d photos, --threads 1 | %.2f | %.1f | 1.00x |\n", n, o, n/o
  printf "| the folder 4 times (%d photos), default | %.2f | %.1f | %.2fx |\n", 4*n, qa, 4*n/qa, qo/qa
  printf "| the folder 4 times (%d photos), --threads 1 | %.2f | %.1f | 1.00x |\n", 4*n, qo, 4*n/qo }'
echo
echo "Each run loads the models (about 0.4 s before the first face can be described, on any thread count): the more photos, the closer the ratio to the per-photo speed-up."
echo
echo "Detection alone of one 1920x1080 photo (bench/detect.cpp: FaceDetector::detect, DetectorOptions::threads; median of $((RUNS * 2)) runs after a warm-up; the faces found are checked identical):"
echo
if [ -f "$BUILD/CMakeCache.txt" ] && cmake --build "$BUILD" --target facepipe_bench_detect >/dev/null 2>"$WORK/err"; then
  echo "| threads | detection image | ms | vs 1 thread | faces |"
  echo "| ---: | --- | ---: | ---: | ---: |"
  # upsample 1 in full (doubled to 3840x2160), then capped at the default --max-side 1280.
  "$BUILD/facepipe_bench_detect" "$DATA/bench/obama-1080p.jpg" 1 3840 $((RUNS * 2)) 1 2 || echo "| detection differed between thread counts (see stderr) | | | | |"
  "$BUILD/facepipe_bench_detect" "$DATA/bench/obama-1080p.jpg" 1 1280 $((RUNS * 2)) 1 2 || echo "| detection differed between thread counts (see stderr) | | | | |"
else
  echo "not measured: could not build facepipe_bench_detect in $BUILD"
  cat "$WORK/err" >&2
fi
echo
CLIP="$DATA/video/short_hamilton_clip.mp4"
if [ -f "$CLIP" ]; then
  : > "$WORK/l1"; : > "$WORK/l2"
  for _ in $(seq "$RUNS"); do
    for j in 1 2; do
      (cd "$TD" && "$F" -q live --video "$CLIP" --headless --every-frame --detect-every 1 -j "$j" > "$WORK/live$j.jsonl")
      tail -n 1 "$WORK/live$j.jsonl" | jq -r .fps >> "$WORK/l$j"
    done
  done
  f1=$(median < "$WORK/l1"); f2=$(median < "$WORK/l2")
  echo "\`live --headless --every-frame --detect-every 1\` on $(basename "$CLIP") ($(tail -n 1 "$WORK/live1.jsonl" | jq -r .frames) frames, detection on every frame; median of $RUNS runs each, interleaved):"
  echo
  echo "| run | fps | speed-up vs -j 1 |"
  echo "| --- | ---: | ---: |"
  awk -v a="$f1" -v b="$f2" 'BEGIN {
    printf "| -j 2 | %.1f | %.2fx |\n", b, b/a
    printf "| -j 1 | %.1f | 1.00x |\n", a }'
else
  echo "live: not measured, $CLIP missing"
fi
echo
echo "Load average (1, 5, 15 min) at the start of this section: $LOAD_START; at its end: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
fi

if [ -z "$ONLY" ]; then
# ---- peak memory of each command ----
section_marker memory
echo "## peak memory (maximum resident set, GNU time)"
echo
echo "| command | peak MB |"
echo "| --- | ---: |"
printf '%s\n' "${PEAK[@]}"
fi
}

sections > "$WORK/sections.md"

# --only: the existing report, each section run here in place of its namesake (found
# by its marker, or by its heading in a report older than the markers), a section
# it lacks put before the peak-memory table; a line under the header says what was
# re-measured when (earlier such lines stay, unless this run re-measured all their sections).
merge_sections() {
  awk -v marker="$SECTION_MARKER" -v kept="$KEPT_MARKER" -v newfile="$WORK/sections.md" -v only="$ONLY" \
      -v note="Re-measured by \`scripts/bench.sh --only $ONLY\`: started $STARTED, took $((SECONDS / 60)) min; $MACHINE; commit $COMMIT." '
    function heading_name(l) {
      if (l ~ /^## train at scale/) return "train-scale"
      if (l ~ /^## exact search/) return "knn"
      if (l ~ /^## gallery index/) return "index"
      if (l ~ /^## peak memory/) return "memory"
      if (l ~ /^## start-up/) return "startup"
      if (match(l, /^## (encode|train|predict|eval|live|serve|threads)( |$)/)) { split(l, w, " "); return w[2] }
      return ""
    }
    function flush(   i) {
      for (i = 1; i <= n; i++) if (!(order[i] in printed)) { printf "%s", block[order[i]]; printed[order[i]] = 1 }
    }
    BEGIN {
      while ((getline line < newfile) > 0) {
        if (index(line, marker) == 1) { split(line, w, " "); name = w[4]; order[++n] = name }
        if (name != "") block[name] = block[name] line "\n"
      }
    }
    function covered(l,   rest, list, k, m) {  # every section an earlier note names is re-run now
      rest = substr(l, length("Re-measured by `scripts/bench.sh --only ") + 1)
      m = split(substr(rest, 1, index(rest, "`") - 1), list, ",")
      for (k = 1; k <= m; k++) if (!(list[k] in now)) return 0
      return 1
    }
    BEGIN { c = split(only, o, ","); for (k = 1; k <= c; k++) now[o[k]] = 1 }
    index($0, "Re-measured by `scripts/bench.sh --only") == 1 { if (!covered($0)) print; next }
    index($0, "Generated by `scripts/bench.sh`") == 1 { print; note_due = 1; next }
    note_due { print note; note_due = 0 }
    {
      start = ""
      if (index($0, marker) == 1) { split($0, w, " "); start = w[4]; after_marker = 1 }
      else if (index($0, kept) == 1) start = "kept"
      else if ($0 ~ /^## /) { if (after_marker) after_marker = 0; else start = heading_name($0) }
      if (start != "") {
        if (start == "memory" || start == "kept") flush()
        if (start in block) { if (!(start in printed)) printf "%s", block[start]; printed[start] = 1; skipping = 1; next }
        skipping = 0
      }
      if (!skipping) print
    }
    END { flush() }' "$OUT"
}
if [ -n "$ONLY" ] && [ "$OUT" != - ] && [ -f "$OUT" ]; then
  merge_sections > "$WORK/report.md"
else
# The report: header, this run's sections, and the kept part of the previous report.
{
  echo "<!-- Generated by scripts/bench.sh: re-run it rather than editing this file. Only the part after the \"kept by scripts/bench.sh\" marker is carried over between runs (edit that part by hand). -->"
  echo "# Benchmarks"
  echo
  echo "Generated by \`scripts/bench.sh\`: started $STARTED, took $((SECONDS / 60)) min; $MACHINE; commit $COMMIT."
  echo
  "$F" --version | sed -n '1,4p' | sed 's/^/    /'
  echo
  echo "Every figure comes with the baseline it is compared against, measured in the same run. The machines are shared and noisy: compare ratios, not seconds, across runs."
  echo
  cat "$WORK/sections.md"
  if [ "$OUT" != - ] && [ -f "$OUT" ] && grep -qF "$KEPT_MARKER" "$OUT"; then
    echo
    sed -n "\\|^$KEPT_MARKER|,\$p" "$OUT"
  fi
} > "$WORK/report.md"
fi

if [ "$OUT" = - ]; then
  cat "$WORK/report.md"
else
  OUT_TMP="$(mktemp "$(dirname "$OUT")/.$(basename "$OUT").XXXXXX")"
  cat "$WORK/report.md" > "$OUT_TMP"
  chmod 644 "$OUT_TMP"
  mv -f "$OUT_TMP" "$OUT"
  OUT_TMP=""
  log "wrote $OUT"
fi
