#!/usr/bin/env bash
# Benchmark `facepipe serve` and print a markdown section (stdout; progress on stderr).
#
# Enrols ../shared/data/faces/ (no augmented copies), starts serve on
# 127.0.0.1 with one analysis thread per core, and measures in the same run:
#   recognize  warm latency over HTTP (median and p95 of RUNS requests, curl,
#              one at a time) for ../shared/data/bench/obama-{240p..1080p}.jpg,
#              against one-shot `facepipe predict` of the same photo (median of
#              PREDICT_RUNS processes: model loading included, as a script pays it);
#   clients    photos/s with 1, 2 and 4 concurrent clients (tests/serve/load.mjs,
#              CLIENT_REQUESTS each, keep-alive, the 720p photo);
#   live       one Live-page session: the hamilton clip's frames at 640 wide posted
#              one at a time (bench/serve_frames.cpp): frames/s and the server's ms per frame;
#   memory     the server's RSS after start, idle after warm-up, and its peak under load.
#
# Usage: scripts/bench_serve.sh     scripts/bench.sh runs it for the report's serve section.
# Environment: FACEPIPE_BIN (binary; its build folder builds bench/serve_frames.cpp),
#   FACEPIPE_SHARED_DATA (default ../shared/data), RUNS (20), PREDICT_RUNS (5),
#   CLIENT_REQUESTS (10), LIVE_FRAMES (150).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
F="${FACEPIPE_BIN:-$REPO/build/facepipe}"
SHARED="${FACEPIPE_SHARED_DATA:-$REPO/../shared/data}"
RUNS="${RUNS:-20}" PREDICT_RUNS="${PREDICT_RUNS:-5}" CLIENT_REQUESTS="${CLIENT_REQUESTS:-10}" LIVE_FRAMES="${LIVE_FRAMES:-150}"
BUILD="$(dirname "$F")"
log() { echo "bench_serve: $*" >&2; }
for f in "$F" "$SHARED/faces" "$SHARED/bench/obama-1080p.jpg" "$SHARED/video/short_hamilton_clip.mp4"; do
  [ -e "$f" ] || { echo "bench_serve: $f is missing (run scripts/setup.sh; shared data beside the repo)" >&2; exit 1; }
done
for c in curl node jq; do command -v "$c" >/dev/null || { echo "bench_serve: $c is needed" >&2; exit 1; }; done
export FACEPIPE_MODELS="${FACEPIPE_MODELS:-$BUILD/models}"

WORK="$(mktemp -d)"
PID=""
cleanup() { [ -z "$PID" ] || kill -9 "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
cd "$WORK"
cp -r "$SHARED/faces" dataset; chmod -R u+w dataset; rm -f dataset/SOURCES.md
log "enrolling $(find dataset -mindepth 1 -maxdepth 1 -type d | wc -l) people"
"$F" -q encode >/dev/null
"$F" -q train >/dev/null

# quantile Q of the numbers on stdin (nearest rank)
quantile() { sort -g | awk -v q="$1" '{a[NR]=$1} END {i=int(q*NR+0.999999); if (i<1) i=1; if (i>NR) i=NR; print a[i]}'; }
rss() { awk -v k="$2:" '$1==k {printf "%.0f", $2/1024}' "/proc/$1/status"; }

"$F" serve --listen 127.0.0.1:0 --threads "$(nproc)" > serve.out 2> serve.err &
PID=$!
for _ in $(seq 600); do [ -s serve.out ] && break; kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
[ -s serve.out ] || { cat serve.err >&2; echo "bench_serve: serve did not start" >&2; exit 1; }
URL="$(head -1 serve.out | jq -r .url)"; URL="${URL%/}"
rss_start=$(rss "$PID" VmRSS)
recognize() { curl -sS -o /dev/null -w '%{time_total}\n' -H 'Content-Type: image/jpeg' --data-binary @"$1" "$URL/api/v1/recognize"; }
for res in 240p 480p 720p 1080p; do for _ in $(seq "$(nproc)"); do recognize "$SHARED/bench/obama-$res.jpg" >/dev/null; done; done
rss_idle=$(rss "$PID" VmRSS)

log "recognize over HTTP vs one-shot predict"
echo "Models loaded once; one analysis thread per core ($(nproc)); the faces of ../shared/data/faces/ enrolled."
echo
echo "| input | serve median ms | serve p95 ms | one-shot predict median ms | serve faster by |"
echo "| --- | ---: | ---: | ---: | ---: |"
for res in 240p 480p 720p 1080p; do
  img="$SHARED/bench/obama-$res.jpg"
  : > times
  for _ in $(seq "$RUNS"); do recognize "$img" >> times; done
  med=$(quantile 0.5 < times); p95=$(quantile 0.95 < times)
  : > ptimes
  for _ in $(seq "$PREDICT_RUNS"); do /usr/bin/time -f %e -a -o ptimes "$F" -q predict "$img" >/dev/null; done
  pmed=$(quantile 0.5 < ptimes)
  awk -v r="$res" -v m="$med" -v p="$p95" -v o="$pmed" 'BEGIN {
    printf "| obama-%s.jpg | %.0f | %.0f | %.0f | %.1fx |\n", r, 1000*m, 1000*p, 1000*o, o/m }'
done
echo

log "concurrent clients"
echo "| clients (keep-alive, obama-720p.jpg) | photos/s | median ms | p95 ms | errors |"
echo "| ---: | ---: | ---: | ---: | ---: |"
for clients in 1 2 4; do
  node "$REPO/tests/serve/load.mjs" "$URL" "$SHARED/bench/obama-720p.jpg" "$clients" "$CLIENT_REQUESTS" > load.json
  jq -r '"| \(.clients) | \(.photos_per_second*10|round/10) | \(.median_ms|round) | \(.p95_ms|round) | \(.errors) |"' load.json
done
echo

log "live session"
if cmake --build "$BUILD" --target facepipe_bench_serve_frames >/dev/null 2>build.err; then
  "$BUILD/facepipe_bench_serve_frames" "$URL" "$SHARED/video/short_hamilton_clip.mp4" "$LIVE_FRAMES" > live.json
  jq -r '"One Live-page session (\(.frames) frames of video/short_hamilton_clip.mp4 at \(.width) wide, one in flight): \(.fps*10|round/10) frames/s; server time per frame median \(.server_ms_median*10|round/10) ms, p95 \(.server_ms_p95*10|round/10) ms (detection every 10th frame, tracking between); round trip median \(.round_trip_ms_median*10|round/10) ms; \(.faces_per_frame*100|round/100) faces per frame."' live.json
else
  echo "Live session: not measured (could not build facepipe_bench_serve_frames in $BUILD)"
  cat build.err >&2
fi
echo
echo "Server memory (RSS): ${rss_start} MB after start, ${rss_idle} MB idle after warm-up, $(rss "$PID" VmHWM) MB peak over the whole run."

kill -TERM "$PID"
wait "$PID" || { echo "bench_serve: serve exited $? on SIGTERM" >&2; PID=""; exit 1; }
PID=""
