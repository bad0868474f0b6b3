# sync-common.sh — shared by scripts/sync.sh and scripts/retrain.sh (sourced, not run).
# shellcheck shell=bash disable=SC2034  # sourced; the variables are used by the scripts that source it
# Logging, paths from the environment, the facepipe binary, gsutil, and the lock.

PROG="$(basename "$0" .sh)"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# One timestamped line per message on stderr, so cron mail and journald read well.
log() { printf '%s %s: %s\n' "$(date +%Y-%m-%dT%H:%M:%S)" "$PROG" "$*" >&2; }
# Prefixes each line of its stdin the same way (for the output of the programs we run).
stamp() { local line; while IFS= read -r line; do log "$line"; done; }
die() { local code="$1"; shift; log "error: $*"; exit "$code"; }

# The artifact paths, with the same defaults and variables as the facepipe binary.
DATASET="${FACEPIPE_DATASET:-dataset}"
ENCODINGS="${FACEPIPE_ENCODINGS:-encodings.bin}"
MODEL="${FACEPIPE_MODEL:-model.bin}"
LABELS="${FACEPIPE_LABELS:-labels.bin}"
# The lock facepipe enroll takes too (lib/lock.h): facepipe.lock beside the model.
LOCK="${FACEPIPE_LOCK:-$(dirname "$MODEL")/facepipe.lock}"
BUCKET="${FACEPIPE_BUCKET:-}"
# GSUTIL may carry options (e.g. "gsutil -o Boto:parallel_thread_count=4"): split on spaces.
read -r -a GSUTIL_CMD <<< "${GSUTIL:-gsutil}"

# The facepipe binary: $FACEPIPE_BIN, else the one on PATH, else the build tree's.
facepipe_bin() {
  if [ -n "${FACEPIPE_BIN:-}" ]; then echo "$FACEPIPE_BIN"
  elif command -v facepipe >/dev/null 2>&1; then command -v facepipe
  else echo "$REPO/build/facepipe"; fi
}
FACEPIPE="$(facepipe_bin)"

# Runs facepipe with its stdout (summaries) folded into the timestamped log.
run_facepipe() { "$FACEPIPE" "$@" | stamp; }

# Runs gsutil quietly (-q: no progress meters), its messages folded into the log.
# -m (parallel transfers) is passed by the callers that transfer several files.
run_gsutil() { "${GSUTIL_CMD[@]}" -q "$@" 2>&1 | stamp; }

# Checks a bucket URL: gs://bucket[/prefix] or file:///absolute/path.
check_bucket() {
  case "$1" in
    gs://?*) ;;
    file:///*) ;;
    "") die 2 "no bucket: pass --bucket URL or set FACEPIPE_BUCKET (gs://bucket/prefix or file:///path)" ;;
    *) die 2 "bucket '$1': not gs://bucket/prefix or file:///absolute/path" ;;
  esac
  BUCKET="${1%/}"
}

# For a failed transfer's message: how much room the disk holding $1 has left
# (a full disk is the usual cause of a failed local write). Prints "" when df
# cannot tell.
disk_note() {
  local avail
  avail="$(df -Pk "$1" 2>/dev/null | awk 'NR == 2 { print $4 }')"
  case "$avail" in
    0) echo " (the disk holding $1 is full)" ;;
    ''|*[!0-9]*) ;;
    *) echo " ($avail KiB free on the disk holding $1)" ;;
  esac
}

# True when the object or folder $1 exists in the bucket (gsutil ls does not
# take file:// URLs).
remote_exists() {
  case "$1" in
    file://*) [ -e "${1#file://}" ] ;;
    *) "${GSUTIL_CMD[@]}" -q ls "$1" >/dev/null 2>&1 ;;
  esac
}

# gsutil does not create local folders for file:// destinations, unlike a real
# bucket: make the folder of a file:// destination first.
ensure_remote_dir() {
  case "$1" in file://*) mkdir -p "${1#file://}" ;; esac
}

# The dataset paths sync leaves out: hidden files always, augmented copies
# unless asked for (they can be remade from the originals by `facepipe augment`).
exclude_regex() {
  if [ "${1:-0}" -eq 1 ]; then echo '(.*/)?\..*'; else echo '(.*/)?\..*|(.*/)?augmented/.*'; fi
}

# Takes the lock on fd 9 for the rest of the script (children inherit it, so a
# step still running after this shell is killed keeps it until it ends).
# $1: 1 = give up at once when busy; $2: seconds to wait (empty = forever).
# Exits 3 when the lock stays busy.
take_lock() {
  local no_wait="$1" timeout="$2"
  mkdir -p "$(dirname "$LOCK")"
  exec 9>>"$LOCK"
  if flock -n 9; then return 0; fi
  if [ "$no_wait" -eq 1 ]; then
    log "another run (enroll, retrain or sync) holds $LOCK; skipped"
    exit 3
  fi
  log "waiting for $LOCK: another run (enroll, retrain or sync) holds it"
  if [ -n "$timeout" ]; then
    flock -w "$timeout" 9 || { log "error: $LOCK still busy after ${timeout}s; skipped"; exit 3; }
  else
    flock 9
  fi
  log "got $LOCK"
}
