#!/usr/bin/env bash
# Benchmark facepipe on this machine and print a markdown report on stdout.
# Every figure comes with the baseline it is compared against, measured in the
# same run (these machines are noisy: compare ratios, not seconds, across runs).
#
# Usage: scripts/bench.sh [RUNS]      (default 5 runs per latency figure)
# Needs: a build (scripts/setup.sh) and ../shared/data (or $FACEPIPE_SHARED_DATA).
# Sections: encode, train, predict, eval, KNN query time, gallery index, live, peak memory.
# BENCH_INDEX_ROWS: gallery sizes of the index section (default 10000 100000 1000000).
# The KNN benchmark (bench/knn.cpp) is built here, in the binary's build folder.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
F="${FACEPIPE_BIN:-$REPO/build/facepipe}"
DATA="${FACEPIPE_SHARED_DATA:-$REPO/../shared/data}"
RUNS="${1:-5}"
[ -x "$F" ] || { echo "bench: $F missing; run scripts/setup.sh" >&2; exit 2; }
[ -d "$DATA/faces" ] || { echo "bench: $DATA/faces missing" >&2; exit 2; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export FACEPIPE_MODELS="${FACEPIPE_MODELS:-$REPO/build/models}"

now() { date +%s.%N; }
# median of numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# wall seconds and peak RSS (MB) of one command: prints "SECONDS MB"
measure() { /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
            awk '{printf "%s %.0f\n", $1, $2/1024}' "$WORK/time"; }

echo "# facepipe benchmark"
echo
echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(awk '/model name/{$1=$2=$3="";print;exit}' /proc/cpuinfo | sed 's/^ *//'), $(free -g | awk '/Mem:/{print $2}') GiB"
"$F" --version | sed -n '1,4p' | sed 's/^/    /'
echo

# ---- encode: shared faces + 5 augmented copies each, all cores vs one thread ----
cp -r "$DATA/faces" "$WORK/dataset"; chmod -R u+w "$WORK/dataset"; rm -f "$WORK/dataset/SOURCES.md"
( cd "$WORK" && "$F" augment -q --copies 5 --seed 1 >/dev/null )
read -r t_all mem_enc < <(cd "$WORK" && measure "$F" encode -q --rebuild --output all.bin)
PEAK=("| encode (all cores, $(find "$WORK/dataset" -type f | wc -l) images) | $mem_enc |")
( cd "$WORK" && "$F" encode -q --output all.bin ) > "$WORK/noop.txt"
read -r t_noop _ < <(cd "$WORK" && measure "$F" encode -q --output all.bin)
read -r t_one _ < <(cd "$WORK" && measure "$F" encode -q --rebuild --threads 1 --output one.bin)
summary="$(cd "$WORK" && "$F" encode -q --rebuild --output stages.bin)"
images=$(echo "$summary" | awk 'NR==1{print $1}')
echo "## encode ($images images: ../shared/data/faces/ with 5 augmented copies each)"
echo
echo "| run | wall s | images/s | vs --threads 1 |"
echo "| --- | ---: | ---: | ---: |"
awk -v n="$images" -v a="$t_all" -v o="$t_one" -v z="$t_noop" 'BEGIN {
  printf "| default (all cores) | %.1f | %.1f | %.2fx faster |\n", a, n/a, o/a
  printf "| --threads 1 | %.1f | %.1f | 1.00x |\n", o, n/o
  printf "| no-op re-run (nothing changed) | %.2f | - | - |\n", z }'
echo
echo "Per stage, all cores (summed over threads): $(echo "$summary" | sed -n 2p | sed 's/^.*ms per encoded image: //')"
echo "Peak memory of encode: ${mem_enc} MB"
echo

# ---- train ----
( cd "$WORK" && "$F" train -q --encodings all.bin > train.txt )
read -r t_train mem_train < <(cd "$WORK" && measure "$F" train -q --encodings all.bin)
PEAK+=("| train | $mem_train |")
echo "## train"
echo
echo "$t_train s wall, peak ${mem_train} MB. Leave-one-out: $(grep -E '^per-person' "$WORK/train.txt" | awk '{print $NF" ("$4" of "$3" originals)"}')"
echo

# ---- predict: one photo per run, model loading included ----
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

# ---- eval: LFW protocol on pairs made from the shared faces, and identification ----
( cd "$WORK" && "$F" eval -q --dataset "$DATA/faces" --make-pairs lfw >/dev/null )
eval_args=(eval --pairs lfw/pairs.txt --dataset "$DATA/faces" --cache-dir "$WORK/eval-cache")
read -r t_cold mem_eval < <(cd "$WORK" && measure "$F" "${eval_args[@]}")
read -r t_warm _ < <(cd "$WORK" && measure "$F" "${eval_args[@]}")
PEAK+=("| eval (both protocols, cold cache) | $mem_eval |")
(cd "$WORK" && "$F" -q "${eval_args[@]}") > "$WORK/eval.txt"
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
grep -E "10-fold protocol|Fixed threshold|TAR @ FAR|Closed-set|Recommended for" "$WORK/eval.txt" | sed 's/^ */    /'
echo

# ---- KNN query time against gallery size (bench/knn.cpp: Classifier::predict itself) ----
BUILD="$(dirname "$F")"
KNN="$BUILD/facepipe_bench_knn"
echo "## KNN query time against gallery size (synthetic 128-d descriptors, 10 per person; median of 15 queries)"
echo
if [ -f "$BUILD/CMakeCache.txt" ] && cmake --build "$BUILD" --target facepipe_bench_knn >/dev/null 2>"$WORK/err"; then
  /usr/bin/time -f "%M" -o "$WORK/time" "$KNN" 1000 10000 100000 1000000
  PEAK+=("| KNN benchmark (1M-row gallery) | $(awk '{printf "%.0f", $1/1024}' "$WORK/time") |")
else
  echo "not measured: could not build facepipe_bench_knn in $BUILD"
  cat "$WORK/err" >&2
fi
echo

# ---- gallery index: scripts/bench_index.sh prints its own section (1M rows: about 30 minutes, mostly the graph build) ----
echo "## gallery index (scripts/bench_index.sh: Classifier::predict with the HNSW index against exact search)"
echo
if [ -f "$BUILD/CMakeCache.txt" ]; then
  BUILD_DIR="$BUILD" "$REPO/scripts/bench_index.sh" ${BENCH_INDEX_ROWS:-10000 100000 1000000} | tail -n +3
else
  echo "not measured: no CMake build in $BUILD"
fi
echo

# ---- live: scripts/bench_live.sh prints its own section ----
echo "## live (\`facepipe live\`, scripts/bench_live.sh)"
echo
if [ -x "$REPO/scripts/bench_live.sh" ]; then
  FACEPIPE_BIN="$F" FACEPIPE_SHARED_DATA="$DATA" "$REPO/scripts/bench_live.sh" || echo "scripts/bench_live.sh failed (exit $?)"
else
  echo "not measured: scripts/bench_live.sh not present"
fi
echo

# ---- peak memory of each command ----
echo "## peak memory (maximum resident set, GNU time)"
echo
echo "| command | peak MB |"
echo "| --- | ---: |"
printf '%s\n' "${PEAK[@]}"
