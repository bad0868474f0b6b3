#!/usr/bin/env bash
# The whole pipeline on the built-in demo dataset, from a fresh clone:
# set up -> demo dataset -> augment -> encode -> train -> predict.
# Outputs land in the repo folder (git-ignored): encodings.bin, model.bin,
# labels.bin, and annotated photos in .cache/demo-annotated/.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$REPO/scripts/setup.sh"
"$REPO/scripts/make_demo_dataset.sh" "$REPO/dataset"
cd "$REPO"
F="$REPO/build/facepipe"
"$F" augment --dataset dataset --copies 5 --seed 1
"$F" encode --dataset dataset --output encodings.bin
"$F" train --encodings encodings.bin --model model.bin --labels labels.bin
echo
echo "== predictions on all six sample photos (sample4-6 show people who are not enrolled) =="
"$F" predict .cache/npm/face-api/package/demo/sample{1,2,3,4,5,6}.jpg --annotate .cache/demo-annotated
