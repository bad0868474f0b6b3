#!/usr/bin/env bash
# Benchmark `facepipe live` on ../shared/data/video/short_hamilton_clip.mp4 and
# print a markdown section (stdout; progress on stderr).
#
# Enrols Lin-Manuel Miranda (faces-extra/lin-manuel-miranda.png) and Alex
# Lacamoire (faces/alex_lacamoire/), then runs live headless three ways, each
# RUNS times, interleaved so that machine noise hits all alike (medians shown):
#   tracked   the defaults, every frame decoded and processed (--every-frame)
#   baseline  detection and a descriptor for every face on every frame
#             (--detect-every 1 --describe-every 1 --vote-window 1)
#   realtime  the defaults, the file played at its own rate like a camera:
#             latency from a frame's capture to its annotated output
#
# Usage: scripts/bench_live.sh          Environment: FACEPIPE_BIN (binary), RUNS (3),
#        FACEPIPE_SHARED_DATA (default ../shared/data beside the repo).
# scripts/bench.sh runs it for the report's live section.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FACEPIPE="${FACEPIPE_BIN:-$REPO/build/facepipe}"
SHARED="${FACEPIPE_SHARED_DATA:-$REPO/../shared/data}"
RUNS="${RUNS:-3}"
CLIP="$SHARED/video/short_hamilton_clip.mp4"
log() { echo "bench_live: $*" >&2; }
for f in "$FACEPIPE" "$CLIP" "$SHARED/faces-extra/lin-manuel-miranda.png" "$SHARED/faces/alex_lacamoire"; do
  [ -e "$f" ] || { echo "bench_live: $f is missing (run scripts/setup.sh; shared data beside the repo)" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "bench_live: jq is needed (apt install jq)" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
mkdir -p dataset/lin_manuel_miranda dataset/alex_lacamoire
cp "$SHARED/faces-extra/lin-manuel-miranda.png" dataset/lin_manuel_miranda/
cp "$SHARED/faces/alex_lacamoire/"* dataset/alex_lacamoire/
log "enrolling 2 people"
"$FACEPIPE" -q augment >/dev/null
"$FACEPIPE" -q encode >/dev/null
"$FACEPIPE" -q train >/dev/null

TIME=()
[ -x /usr/bin/time ] && TIME=(/usr/bin/time -f "%M" -o rss.txt)
run() {  # run NAME I ARGS... -> NAME.I.jsonl (+ NAME.I.rss)
  local name="$1" i="$2"; shift 2
  "${TIME[@]}" "$FACEPIPE" -q live --video "$CLIP" --headless "$@" >"$name.$i.jsonl"
  [ -f rss.txt ] && mv rss.txt "$name.$i.rss"
  return 0
}
for i in $(seq "$RUNS"); do
  log "run $i of $RUNS"
  run tracked "$i" --every-frame
  run baseline "$i" --every-frame --detect-every 1 --describe-every 1 --vote-window 1
  run realtime "$i"
done

summary() { tail -n 1 "$1" | jq -r "$2"; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
med() {  # med NAME JQ-EXPR: the median over runs
  for i in $(seq "$RUNS"); do summary "$1.$i.jsonl" "$2"; done | median
}
rss_mb() { [ -f "$1.1.rss" ] && cat "$1".*.rss | median | awk '{printf "%.0f MB", $1 / 1024}' || echo "n/a"; }
tracks() {  # one line per track of run 1: frames, label changes, final label and distance
  jq -r 'select(.event == "appeared" or .event == "label_changed" or .event == "gone")
         | "\(.track) \(.event) \(.frame) \(.label) \(.distance)"' "$1.1.jsonl" |
    awk '{ if (!($1 in first)) { first[$1] = $3; order[++n] = $1 }
           if ($2 == "label_changed") changes[$1]++
           if ($2 == "gone") { last[$1] = $3; label[$1] = $4; dist[$1] = $5 } }
         END { for (k = 1; k <= n; k++) { t = order[k]
                 printf "| %s | %s-%s | %s | %.3f | %d |\n", t, first[t], last[t], label[t], dist[t], changes[t] + 0 } }'
}

FPS_T=$(med tracked .fps); FPS_B=$(med baseline .fps); FPS_R=$(med realtime .fps)
cat <<EOF
\`facepipe live --headless\` on $(basename "$CLIP"): $(summary tracked.1.jsonl .decoded) frames, 640x360 at 29.97 fps; 2 people enrolled
(Lin-Manuel Miranda: 1 photo, Alex Lacamoire: $(ls "$SHARED/faces/alex_lacamoire" | wc -l) photos; 5 augmented copies each).
Median of $RUNS runs each, interleaved.

| mode | fps | vs baseline | detections | descriptors | tracks | latency median / p95 | dropped | peak memory |
|---|---|---|---|---|---|---|---|---|
| tracked (defaults, every frame) | $FPS_T | $(awk -v a="$FPS_T" -v b="$FPS_B" 'BEGIN{printf "%.1fx", a / b}') | $(summary tracked.1.jsonl .detections) | $(summary tracked.1.jsonl .descriptors) | $(summary tracked.1.jsonl .tracks) | (queued: see realtime) | 0 | $(rss_mb tracked) |
| baseline (detect + describe every frame) | $FPS_B | 1.0x | $(summary baseline.1.jsonl .detections) | $(summary baseline.1.jsonl .descriptors) | $(summary baseline.1.jsonl .tracks) | (queued) | 0 | $(rss_mb baseline) |
| realtime (defaults, played at 29.97 fps) | $FPS_R | | $(summary realtime.1.jsonl .detections) | $(summary realtime.1.jsonl .descriptors) | $(summary realtime.1.jsonl .tracks) | $(med realtime .latency_median_ms) / $(med realtime .latency_p95_ms) ms | $(med realtime .dropped) | $(rss_mb realtime) |

Tracks of the tracked run (frames first-last, final label and distance, label changes):

| track | frames | label | distance | changes |
|---|---|---|---|---|
$(tracks tracked)

Tracks of the baseline run (each frame named on its own):

| track | frames | label | distance | changes |
|---|---|---|---|---|
$(tracks baseline)
EOF
