#!/usr/bin/env bash
# Measures how well `facepipe cluster` groups the unknown faces (issue 18), and
# how its --threshold default was chosen (docs/unknown.md). Not part of CI: it
# needs ../shared/data and takes a few minutes.
#
# Usage: scripts/bench_unknown.sh [THRESHOLD...]   (default: 0.35 to 0.8)
#
#   1. Enrol three people of ../shared/data/faces (ENROLLED, below).
#   2. predict --collect-unknown over the original photos of the other ten,
#      keeping each one's last photo (in name order) aside.
#   3. For each threshold: cluster (on a fresh copy of the store) and report
#      purity (the share of faces whose group's majority is their own person;
#      a face's person is its photo's folder) and groups per person (for each
#      person, the groups holding any of their faces; the mean).
#   4. At the default threshold: `name` the largest group after its majority
#      person, then predict that person's photo kept aside: it must be named.
#   5. live --collect-unknown on video/short_hamilton_clip.mp4 with nobody
#      enrolled, then cluster: faces and groups (contact sheets in the work
#      folder, printed at the end, to check by eye that the groups are right);
#      again keeping up to 20 faces per track; the groups of both per threshold.
# Environment: FACEPIPE_BIN (default build/facepipe), FACEPIPE_SHARED_DATA, FACEPIPE_MODELS.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
F="${FACEPIPE_BIN:-$REPO/build/facepipe}"
DATA="${FACEPIPE_SHARED_DATA:-$REPO/../shared/data}"
THRESHOLDS=("$@")
[ ${#THRESHOLDS[@]} -gt 0 ] || THRESHOLDS=(0.35 0.4 0.45 0.5 0.55 0.6 0.65 0.675 0.7 0.8)
ENROLLED="alex_lacamoire biden rose_leslie"
[ -x "$F" ] || { echo "bench_unknown: $F missing; run scripts/setup.sh" >&2; exit 2; }
[ -d "$DATA/faces" ] || { echo "bench_unknown: $DATA/faces missing" >&2; exit 2; }
command -v jq >/dev/null || { echo "bench_unknown: needs jq (apt install jq)" >&2; exit 2; }
WORK="$(mktemp -d /tmp/bench_unknown.XXXXXX)"
cd "$WORK"
echo "work folder: $WORK"

# 1. Enrol three people.
for p in $ENROLLED; do
  mkdir -p "dataset/$p"
  cp "$DATA/faces/$p"/* "dataset/$p/"
done
"$F" -q encode >/dev/null
"$F" -q train >/dev/null

# 2. Collect the others' unknown faces; one photo per person aside.
people=0
for d in "$DATA"/faces/*/; do
  p="$(basename "$d")"
  [[ " $ENROLLED " == *" $p "* ]] && continue
  mapfile -t photos < <(find "$d" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) | sort)
  mkdir -p "photos/$p" "aside/$p"
  for ((i = 0; i < ${#photos[@]} - 1; i++)); do cp "${photos[$i]}" "photos/$p/"; done
  cp "${photos[-1]}" "aside/$p/"
  people=$((people + 1))
done
"$F" -q predict --collect-unknown=unknown photos >/dev/null || true
echo "collected from $(find photos -type f | wc -l) photos of $people people"

# Purity and groups per person of a cluster --format json (a face's person: its photo's folder).
measure() {
  jq -r '
    [.groups[] | [.members[] | .source | split("/")[-2]]] as $g
    | ($g | map(length) | add // 0) as $faces
    | ($g | map(group_by(.) | map(length) | max) | add // 0) as $majority
    | ([$g[] | unique[]] | group_by(.) | map(length)) as $per_person
    | "\($g | length) groups, \($faces) faces, purity \(if $faces > 0 then (1000 * $majority / $faces | round) / 10 else 0 end)%, groups per person \(if ($per_person | length) > 0 then (100 * ($per_person | add) / ($per_person | length) | round) / 100 else 0 end), singletons \($g | map(select(length == 1)) | length)"' "$1"
}

# 3. The threshold sweep, each on a fresh copy of the store (no groups.bin).
printf '%-9s %s\n' threshold result
for t in "${THRESHOLDS[@]}"; do
  rm -rf sweep && cp -r unknown sweep && rm -f sweep/groups.bin
  "$F" -q cluster sweep --threshold "$t" --format json > "sweep-$t.json"
  printf '%-9s %s\n' "$t" "$(measure "sweep-$t.json")"
done

# 4. Name the largest group at the default threshold; predict the photo kept aside.
"$F" -q cluster unknown --format json --sheets sheets > groups.json
echo "default threshold: $(measure groups.json)"
group=$(jq -r '.groups[0].id' groups.json)
person=$(jq -r '[.groups[0].members[] | .source | split("/")[-2]] | group_by(.) | max_by(length)[0]' groups.json)
"$F" -q name "$group" "$person" --unknown unknown >/dev/null
aside=$(find "aside/$person" -type f | head -1)
named=$("$F" -q predict "$aside" --format csv | awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "label") c = i } NR == 2 { print $c }')
echo "named group $group '$person'; predict $aside -> ${named:-no face}"
[ "$named" = "$person" ] && echo "aside photo: recognised" || echo "aside photo: NOT recognised"

# 5. The video, nobody enrolled (when live runs without a model; else with the
# model of step 1, whose three people are not in the clip).
mkdir -p video && cd video
if ! "$F" -q live --video "$DATA/video/short_hamilton_clip.mp4" --headless --collect-unknown=unknown > live.jsonl 2> live.err; then
  echo "live without a model: $(tail -1 live.err); with the model of step 1 (nobody of the clip enrolled)"
  "$F" -q live --video "$DATA/video/short_hamilton_clip.mp4" --headless --collect-unknown=unknown \
    --model ../model.bin --labels ../labels.bin > live.jsonl
fi
echo "live: $(jq -r 'select(.event == "summary") | "\(.tracks) tracks, \(.unknown_tracks) unknown"' live.jsonl)"
"$F" -q cluster unknown --sheets sheets --model ../model.bin --labels ../labels.bin
# More faces per track (--collect-per-track 20), and the groups (face ids) per threshold, both stores.
"$F" -q live --video "$DATA/video/short_hamilton_clip.mp4" --headless --collect-unknown=unknown20 \
  --collect-per-track 20 --model ../model.bin --labels ../labels.bin > /dev/null
for store in unknown unknown20; do
  for t in "${THRESHOLDS[@]}"; do
    rm -rf sweep && cp -r "$store" sweep && rm -f sweep/groups.bin
    printf '%-10s %-6s %s\n' "$store" "$t" "$("$F" -q cluster sweep --threshold "$t" --format json --model none | jq -c '[.groups[] | [.members[].id]]')"
  done
done
echo "contact sheets of the video's groups: $WORK/video/sheets"
