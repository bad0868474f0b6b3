#!/usr/bin/env bash
# Retrain from cron: [pull] -> augment new photos -> encode (incremental) -> train -> [push].
#
# Usage: scripts/retrain.sh [--pull] [--push] [--bucket URL] [--with-augmented] [--no-wait]
#                           [--wait-timeout SECONDS] [--force] [-q]
#   --pull / --push     sync with the bucket first / last (scripts/sync.sh; needs a bucket)
#   --bucket URL        gs://bucket/prefix or file:///absolute/path (default: $FACEPIPE_BUCKET)
#   --with-augmented    also sync the augmented copies
#   --no-wait           exit 3 at once when another run (enroll, retrain, sync) holds the lock
#   --wait-timeout S    exit 3 when the lock is still busy after S seconds (default: wait)
#   --force             run every step even when nothing changed
#   -q, --quiet         only warnings and errors
# When neither the dataset nor the artifacts changed since the last successful run (and
# the settings are the same), it says so and exits 0 at once. Train runs only when the
# encodings changed or the model is not the one the last run made. Every step writes its
# files atomically, so a run killed at any point leaves the previous model live and valid;
# the next run finishes the work.
# Environment: FACEPIPE_BIN (default: facepipe on PATH, else build/facepipe),
#   FACEPIPE_MODELS, FACEPIPE_DATASET (dataset), FACEPIPE_ENCODINGS (encodings.bin),
#   FACEPIPE_MODEL (model.bin), FACEPIPE_LABELS (labels.bin), FACEPIPE_LOCK (facepipe.lock
#   beside the model), FACEPIPE_COPIES (5) and FACEPIPE_SEED (1): augment's --copies and
#   --seed, keep them as the dataset was made; FACEPIPE_BUCKET, GSUTIL (for --pull/--push).
# Exit codes: 0 retrained, or nothing to do; 1 a step failed or some photos could not be
#   used (see the log; the previous model stays live); 2 usage error; 3 the lock was busy.
set -euo pipefail
# shellcheck source=scripts/sync-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/sync-common.sh"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }

PULL=0 PUSH=0 WITH_AUGMENTED=0 NO_WAIT=0 WAIT_TIMEOUT="" FORCE=0 QUIET=0
while [ $# -gt 0 ]; do
  case "$1" in
    --pull) PULL=1 ;;
    --push) PUSH=1 ;;
    --bucket) [ $# -ge 2 ] || die 2 "--bucket needs a URL"; BUCKET="$2"; shift ;;
    --bucket=*) BUCKET="${1#--bucket=}" ;;
    --with-augmented) WITH_AUGMENTED=1 ;;
    --no-wait) NO_WAIT=1 ;;
    --wait-timeout) [[ "${2:-}" =~ ^[0-9]+$ ]] || die 2 "--wait-timeout needs whole seconds"; WAIT_TIMEOUT="$2"; shift ;;
    --force) FORCE=1 ;;
    -q|--quiet) QUIET=1 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die 2 "unknown argument '$1'" ;;
  esac
  shift
done
COPIES="${FACEPIPE_COPIES:-5}"
SEED="${FACEPIPE_SEED:-1}"
[[ "$COPIES" =~ ^[0-9]+$ ]] && [ "$COPIES" -le 100 ] || die 2 "FACEPIPE_COPIES must be 0..100, not '$COPIES'"
[[ "$SEED" =~ ^[0-9]+$ ]] || die 2 "FACEPIPE_SEED must be a non-negative integer, not '$SEED'"
if [ "$PULL" -eq 1 ] || [ "$PUSH" -eq 1 ]; then check_bucket "$BUCKET"; fi
[ -x "$FACEPIPE" ] || die 2 "facepipe binary not found at $FACEPIPE (set FACEPIPE_BIN)"
FP_QUIET=(); [ "$QUIET" -eq 1 ] && FP_QUIET=(-q)
info() { [ "$QUIET" -eq 1 ] || log "$@"; }
if [ "$QUIET" -eq 1 ]; then run_facepipe() { "$FACEPIPE" "$@" >/dev/null; }; fi
SYNC=("$(dirname "${BASH_SOURCE[0]}")/sync.sh" --no-lock --bucket "$BUCKET")
[ "$WITH_AUGMENTED" -eq 1 ] && SYNC+=(--with-augmented)

STATE="$(dirname "$MODEL")/.facepipe-retrain.state"
START=$(date +%s%N)
take_lock "$NO_WAIT" "$WAIT_TIMEOUT"
info "start (pid $$)"

if [ "$PULL" -eq 1 ]; then
  "${SYNC[@]}" pull || die 1 "pull failed; nothing retrained"
fi
[ -d "$DATASET" ] || die 1 "no dataset folder $DATASET (set FACEPIPE_DATASET or run from the folder holding it)"

sha_or_none() { if [ -f "$1" ]; then sha256sum < "$1" | cut -c1-64; else echo none; fi; }
# What the last successful run left: settings, the dataset's files (names, sizes,
# mtimes: cheap, no reading), and the artifacts' checksums.
current_state() {
  echo "facepipe-retrain-state 1"
  echo "settings copies=$COPIES seed=$SEED push=$([ "$PUSH" -eq 1 ] && echo "$BUCKET") augmented=$WITH_AUGMENTED"
  echo "dataset $(find "$DATASET" -mindepth 1 -name '.*' -prune -o -type f -printf '%P\t%s\t%T@\n' |
                  LC_ALL=C sort | sha256sum | cut -c1-64)"
  echo "encodings $(sha_or_none "$ENCODINGS")"
  echo "model $(sha_or_none "$MODEL")"
  echo "labels $(sha_or_none "$LABELS")"
}
previous_state() { [ -f "$STATE" ] && grep -Ev '^(finished|trained_from) ' "$STATE" || true; }
state_field() { [ -f "$STATE" ] && sed -n "s/^$1 //p" "$STATE" || true; }
elapsed() { local ms=$(( ($(date +%s%N) - START) / 1000000 )); printf '%d.%02d' $((ms / 1000)) $((ms % 1000 / 10)); }

if [ "$FORCE" -eq 0 ] && [ "$(current_state)" = "$(previous_state)" ]; then
  info "nothing changed since the last retrain ($(sed -n 's/^finished //p' "$STATE")); nothing to do ($(elapsed)s)"
  echo "nothing changed"
  exit 0
fi

PROBLEMS=0
# Exit status 1 of augment/encode means some photos could not be used: report, go on.
step() {
  local name="$1" rc=0; shift
  info "$name"
  run_facepipe "${FP_QUIET[@]}" "$@" || rc=$?
  if [ "$rc" -eq 1 ]; then log "warning: $name: some photos could not be used (see above)"; PROBLEMS=1
  elif [ "$rc" -ne 0 ]; then die 1 "$name failed (exit $rc); the previous model stays live"; fi
}
step augment augment -d "$DATASET" -n "$COPIES" --seed "$SEED"
step encode encode -d "$DATASET" -o "$ENCODINGS"

RETRAINED=0
if [ "$FORCE" -eq 0 ] && [ -f "$MODEL" ] && [ -f "$LABELS" ] &&
   [ "$(sha_or_none "$ENCODINGS")" = "$(state_field trained_from)" ] &&
   [ "$(sha_or_none "$MODEL")" = "$(state_field model)" ] && [ "$(sha_or_none "$LABELS")" = "$(state_field labels)" ]; then
  info "train: encodings unchanged, the model is up to date"
else
  info "train"
  run_facepipe "${FP_QUIET[@]}" train -e "$ENCODINGS" -m "$MODEL" -l "$LABELS" ||
    die 1 "train failed; the previous model stays live"
  RETRAINED=1
fi

if [ "$PUSH" -eq 1 ]; then
  "${SYNC[@]}" push || die 1 "push failed; retrained locally, will push on the next run"
fi

if [ "$PROBLEMS" -eq 0 ]; then
  # Recorded only after a clean run, so a failed step or a bad photo is retried (and
  # reported) next time instead of being hidden by a no-op.
  { current_state; echo "trained_from $(sha_or_none "$ENCODINGS")"; echo "finished $(date +%Y-%m-%dT%H:%M:%S)"; } \
    > "$STATE.tmp.$$"
  mv -f "$STATE.tmp.$$" "$STATE"
fi
info "done in $(elapsed)s: $([ "$RETRAINED" -eq 1 ] && echo "model retrained" || echo "model unchanged")"
echo "$([ "$RETRAINED" -eq 1 ] && echo retrained || echo "model unchanged")"
exit "$PROBLEMS"
