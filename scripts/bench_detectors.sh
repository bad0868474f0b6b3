#!/usr/bin/env bash
# Compare the face detectors (`--detector hog|ssd`, docs/detectors.md) and print
# a markdown section (stdout; progress on stderr). scripts/bench.sh runs it for
# the report's detectors section (`scripts/bench.sh --only detectors`).
#
#   faces found   on npm's sample photos, every photo of ../shared/data/faces/,
#                 faces-extra's group photos, and each frame of the Hamilton clip
#                 (bench/detectors.cpp: FaceAnalyzer::detect, the detection step of
#                 encode and predict, with live's settings on the clip; hog at
#                 upsample 1 and 0, ssd at min score 0.5), against the faces a person sees
#                 (counted by eye, listed below: a face counts when at least one
#                 eye and the nose show; the back or top of a head does not)
#   named         the Hamilton clip through `live` (detection and a descriptor on
#                 every frame) with Lin-Manuel Miranda and Alex Lacamoire
#                 enrolled with each detector: frames where Alex Lacamoire is named
#   accuracy      `eval` (10-fold pairs + identification) on ../shared/data/faces/
#                 with each detector
#   speed         ms per detect() at 240p-1080p (../shared/data/bench/), hog at
#                 upsample 0 and 1 (no cap on the side) and at encode's settings,
#                 and ssd, on 1 and 2 threads (median of RUNS); live's fps per detector
#
# Usage: scripts/bench_detectors.sh     Environment: FACEPIPE_BIN (binary), RUNS (5),
#        FACEPIPE_SHARED_DATA (default ../shared/data beside the repo), FACEPIPE_MODELS,
#        NPM_SAMPLES (default .cache/npm/face-api/package/demo).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
F="${FACEPIPE_BIN:-$REPO/build/facepipe}"
BUILD="$(dirname "$F")"
SHARED="${FACEPIPE_SHARED_DATA:-$REPO/../shared/data}"
MODELS="${FACEPIPE_MODELS:-$BUILD/models}"
SAMPLES="${NPM_SAMPLES:-$REPO/.cache/npm/face-api/package/demo}"
RUNS="${RUNS:-5}"
CLIP="$SHARED/video/short_hamilton_clip.mp4"
SSD="$MODELS/ssd_mobilenetv1_face.fpm"
log() { echo "bench_detectors: $*" >&2; }
for f in "$F" "$SSD" "$CLIP" "$SAMPLES/sample1.jpg" "$SHARED/faces" "$SHARED/faces-extra" "$SHARED/bench"; do
  [ -e "$f" ] || { echo "bench_detectors: $f is missing (run scripts/setup.sh; shared data beside the repo)" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "bench_detectors: jq is needed (apt install jq)" >&2; exit 1; }
log "building facepipe_bench_detectors"
cmake --build "$BUILD" --target facepipe_bench_detectors -j2 >/dev/null
B="$BUILD/facepipe_bench_detectors"
export FACEPIPE_MODELS="$MODELS"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"

# The faces a person sees in each group photo, counted by eye (see the top).
declare -A SEEN=(
  [sample1.jpg]=3 [sample2.jpg]=3 [sample3.jpg]=3 [sample4.jpg]=4 [sample5.jpg]=5 [sample6.jpg]=4
  [bbt1.jpg]=4 [bbt2.jpg]=3 [bbt3.jpg]=5 [bbt4.jpg]=6 [bbt5.jpg]=5 [two_people.jpg]=2
  [obama_and_biden.jpg]=3 [dlib_2007_007763.jpg]=7 [dlib_2008_001322.jpg]=3 [dlib_2008_002506.jpg]=3
  [dlib_2008_007676.jpg]=7 [dlib_2009_004587.jpg]=2
)
GROUPS_EXTRA=(bbt1.jpg bbt2.jpg bbt3.jpg bbt4.jpg bbt5.jpg two_people.jpg obama_and_biden.jpg dlib_2007_007763.jpg
              dlib_2008_001322.jpg dlib_2008_002506.jpg dlib_2008_007676.jpg dlib_2009_004587.jpg)

log "faces found: npm samples, faces-extra's group photos"
"$B" count "$MODELS" "$SAMPLES"/sample[1-6].jpg >"$WORK/samples.tsv"
"$B" count "$MODELS" "${GROUPS_EXTRA[@]/#/$SHARED/faces-extra/}" >"$WORK/groups.tsv"
log "faces found: every photo of the dev set"
find "$SHARED/faces" -mindepth 2 -type f \( -iname "*.jpg" -o -iname "*.jpeg" -o -iname "*.png" \) | sort >"$WORK/dev.list"
xargs -d '\n' "$B" count "$MODELS" <"$WORK/dev.list" >"$WORK/dev.tsv"
log "faces found: the Hamilton clip, frame by frame"
"$B" video "$MODELS" "$CLIP" >"$WORK/clip.tsv"

# per_image FILE: one row per photo (seen, hog, hog up 0, ssd), then the totals.
# A detector's "found of seen" is min(found, seen) per photo: a photo with more
# detections than faces has false ones (the excess column counts them).
per_image() {
  while IFS=$'\t' read -r path h1 h0 s; do
    n="$(basename "$path")"; echo "$n ${SEEN[$n]} $h1 $h0 $s"
  done <"$1" | awk '
    function m(a, b) { return a < b ? a : b }
    function x(a, b) { return a > b ? a - b : 0 }
    { printf "| %s | %d | %d | %d | %d |\n", $1, $2, $3, $4, $5
      seen += $2; h1 += m($3, $2); h0 += m($4, $2); s += m($5, $2); e1 += x($3, $2); e0 += x($4, $2); es += x($5, $2) }
    END { printf "| **all %d photos** | **%d** | **%d** (%.0f%%; %d extra) | **%d** (%.0f%%; %d extra) | **%d** (%.0f%%; %d extra) |\n",
                 NR, seen, h1, 100 * h1 / seen, e1, h0, 100 * h0 / seen, e0, s, 100 * s / seen, es }'
}

echo "## detectors (\`--detector hog|ssd\`: scripts/bench_detectors.sh, bench/detectors.cpp)"
echo
echo "Faces found by each detector, as encode and predict find them (FaceAnalyzer::detect: the detector, and a"
echo "padded retry of a crop of at most 400 px where it found nothing): hog at their settings (upsample 1, max side"
echo "1280) and at upsample 0; ssd at its default min score 0.5. \"Seen\" is what a person sees, counted by eye: a face counts"
echo "when at least one eye and the nose show (the back or the top of a head does not). Found faces are capped"
echo "at the seen count per photo; detections beyond it are listed as extra (false ones, or a face counted twice)."
echo
echo "npm's sample photos (@vladmandic/face-api demo/):"
echo
echo "| photo | seen | hog | hog upsample 0 | ssd |"
echo "| --- | ---: | ---: | ---: | ---: |"
per_image "$WORK/samples.tsv"
echo
echo "faces-extra's group photos:"
echo
echo "| photo | seen | hog | hog upsample 0 | ssd |"
echo "| --- | ---: | ---: | ---: | ---: |"
per_image "$WORK/groups.tsv"
echo
echo "Every photo of the dev set (../shared/data/faces/: one person per photo, so a person sees 1 face in each):"
echo
echo "| detector | photos with a face | photos without | photos with more than one |"
echo "| --- | ---: | ---: | ---: |"
awk -F'\t' '{ p = $1; sub(/.*\/faces\//, "", p)
               for (c = 2; c <= 4; c++) { if ($c >= 1) y[c]++; else { n[c]++; miss[c] = miss[c] " " p } if ($c > 1) more[c]++ } }
  END { split("hog|hog upsample 0|ssd", name, "|")
        for (c = 2; c <= 4; c++) printf "| %s | %d of %d | %d%s | %d |\n", name[c-1], y[c], NR, n[c], n[c] ? " (" substr(miss[c], 2) ")" : "", more[c] }' "$WORK/dev.tsv"
echo
echo "The Hamilton clip ($(basename "$CLIP"), $(wc -l <"$WORK/clip.tsv") frames, 640x360), each frame on its own, with live's settings (hog: upsample 1, max side 640; no padded retry):"
echo
awk -F'\t' '{ if ($2 > 0) h++; if ($3 > 0) s++; hf += $2; sf += $3
              if ($1 <= 20) { if ($2 > 0) h20++; if ($3 > 0) s20++ } if ($1 >= 40 && $1 <= 80) { if ($2 > 0) h80++; if ($3 > 0) s80++ } }
  END { print "| detector | frames with a face | faces, all frames | frames 0-20 (Lacamoire at the piano, ~25 px) | frames 40-80 (his profile close-up) |"
        print "| --- | ---: | ---: | ---: | ---: |"
        printf "| hog | %d of %d | %d | %d of 21 | %d of 41 |\n", h, NR, hf, h20, h80
        printf "| ssd | %d of %d | %d | %d of 21 | %d of 41 |\n", s, NR, sf, s20, s80 }' "$WORK/clip.tsv"
echo

# ---- named on the clip, and live's fps, per detector ----
cd "$WORK"
mkdir -p dataset/lin_manuel_miranda dataset/alex_lacamoire
cp "$SHARED/faces-extra/lin-manuel-miranda.png" dataset/lin_manuel_miranda/
cp "$SHARED/faces/alex_lacamoire/"* dataset/alex_lacamoire/
"$F" -q augment >/dev/null
for d in hog ssd; do
  log "live on the clip, $d"
  "$F" -q encode --detector "$d" -o "enc-$d.bin" >/dev/null
  "$F" -q train -e "enc-$d.bin" -m "model-$d.bin" -l "labels-$d.bin" >/dev/null
  "$F" -q live --video "$CLIP" --headless --print-frames --every-frame --detect-every 1 --describe-every 1 --vote-window 1 \
    --detector "$d" -m "model-$d.bin" -l "labels-$d.bin" >"named-$d.jsonl"
  for i in $(seq "$RUNS"); do
    "$F" -q live --video "$CLIP" --headless --every-frame --detector "$d" -m "model-$d.bin" -l "labels-$d.bin" |
      tail -n 1 | jq -r .fps >>"fps-$d.txt"
  done
done
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
named() {  # named FILE PERSON FROM TO: frames in [FROM, TO] where PERSON is named
  jq -r --arg p "$2" --argjson a "$3" --argjson b "$4" \
    'select(.event == "frame" and .frame >= $a and .frame <= $b) | select([.faces[].label] | index($p)) | .frame' "$1" | wc -l
}
echo "Named on the clip: \`live\` detecting and describing every frame (--detect-every 1 --describe-every 1"
echo "--vote-window 1), Lin-Manuel Miranda (1 photo) and Alex Lacamoire ($(ls "$SHARED/faces/alex_lacamoire" | wc -l) photos) enrolled with 5"
echo "augmented copies each, encoded and trained with the same detector; live's fps with its defaults (tracking,"
echo "every frame decoded), median of $RUNS runs:"
echo
echo "| detector | frames naming Alex Lacamoire | of them in 0-20 | in 40-80 | frames naming Lin-Manuel Miranda | live fps |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for d in hog ssd; do
  echo "| $d | $(named "named-$d.jsonl" alex_lacamoire 0 100000) | $(named "named-$d.jsonl" alex_lacamoire 0 20) | $(named "named-$d.jsonl" alex_lacamoire 40 80) | $(named "named-$d.jsonl" lin_manuel_miranda 0 100000) | $(median <"fps-$d.txt") |"
done
echo

# ---- eval on the dev set per detector ----
log "eval per detector"
"$F" eval -q --dataset "$SHARED/faces" --make-pairs lfw >/dev/null
echo "Accuracy: \`eval --pairs lfw/pairs.txt --dataset ../shared/data/faces\` (pairs made by \`eval --make-pairs\`) with each detector:"
echo
echo "| detector | 10-fold pairs accuracy | TAR @ FAR 1% | pairs with a missing face | closed-set top-1 | originals in the gallery |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for d in hog ssd; do
  "$F" -q eval --pairs lfw/pairs.txt --dataset "$SHARED/faces" --cache-dir "$WORK/eval-cache" --detector "$d" \
    --format json >"eval-$d.json" || true
  jq -r --arg d "$d" '.verification as $v | .identification as $i |
    "| \($d) | \($v.accuracy_mean * 1000 | round / 10)% +- \($v.accuracy_std * 1000 | round / 10) | " +
    "\(([$v.roc[] | select(.target_far == 0.01) | .tar][0] // 0) * 1000 | round / 10)% | \($v.missing_pairs) of \($v.pairs) | " +
    "\($i.closed_set.accuracy * 1000 | round / 10)% (\($i.closed_set.correct) of \($i.closed_set.evaluated)) | \($i.originals) |"' "eval-$d.json"
done
echo

# ---- speed ----
log "speed"
echo "Speed: ms per detect() call on one photo (../shared/data/bench/obama-*.jpg), median of $RUNS after a warm-up."
echo "hog at upsample 0 and 1 without a cap on the side (so 1080p at upsample 1 scans 3840x2160), and at encode's"
echo "settings (upsample 1, max side 1280); ssd always sees a 512x512 copy."
echo
echo "| photo | threads | hog upsample 0 | hog upsample 1 | hog (encode's settings) | ssd |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for res in 240p 480p 720p 1080p; do
  for t in 1 2; do
    "$B" speed "$MODELS" "$SHARED/bench/obama-$res.jpg" "$RUNS" "$t" >"speed.tsv"
    echo "| $res | $t | $(awk -F'\t' '{printf "%s%s ms (%s)", (NR > 1 ? " | " : ""), $2, $3}' speed.tsv) |"
  done
done
echo
echo "(In brackets: faces found.) Load average (1, 5, 15 min) at the start of this section: $LOAD_START; at its end: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores."
