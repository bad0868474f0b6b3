#!/usr/bin/env bash
# Build the demo dataset from the group photos in npm's @vladmandic/face-api
# (demo/sample1..3.jpg): each face becomes one enrolled person, cropped with
# ImageMagick at boxes facepipe's detector found in those pinned files.
# People in sample4..6.jpg are not enrolled: the demo shows them as unknown.
#
# Usage: scripts/make_demo_dataset.sh [DATASET_DIR]   (default: <repo>/dataset)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATASET="${1:-$REPO/dataset}"
SAMPLES="$REPO/.cache/npm/face-api/package/demo"
[ -f "$SAMPLES/sample1.jpg" ] || { echo "make_demo_dataset: run scripts/setup.sh first ($SAMPLES missing)" >&2; exit 1; }

# name  photo  face box (x y width height) as `facepipe predict` reports it
FACES="
sample1-a sample1.jpg 366 366 227 227
sample1-b sample1.jpg 815 467 225 225
sample1-c sample1.jpg 1466 243 189 188
sample2-a sample2.jpg 1437 192 225 225
sample3-a sample3.jpg 1037 231 272 270
sample3-b sample3.jpg 566 366 225 227
sample3-c sample3.jpg 1487 342 225 225
"
echo "$FACES" | while read -r name photo x y w h; do
  [ -n "$name" ] || continue
  out="$DATASET/$name/$name.jpg"
  [ -f "$out" ] && continue
  mkdir -p "$DATASET/$name"
  m=$((w / 2))  # half a face of margin on every side, like a portrait photo
  convert "$SAMPLES/$photo" -crop "$((w + 2 * m))x$((h + 2 * m))+$((x - m))+$((y - m))" +repage -quality 95 "$out"
done
echo "make_demo_dataset: $(ls "$DATASET" | grep -c sample) people in $DATASET" >&2
