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

# What a dataset entry that is not a readable file or folder is, for its one line
# (the same words as facepipe's walks, lib/walk.h). Decided on the entry's type.
entry_kind() {
  local p="$1" to=""
  if [ -L "$p" ]; then to="a symlink to a "; fi
  if [ -L "$p" ] && [ ! -e "$p" ]; then
    # Follow the chain of links: one that never ends (40 links, the kernel's limit) is a loop.
    local q="$p" n=0 t
    while [ -L "$q" ] && [ "$n" -lt 40 ]; do
      t="$(readlink -- "$q")"
      case "$t" in /*) q="$t" ;; *) q="$(dirname -- "$q")/$t" ;; esac
      n=$((n + 1))
    done
    if [ "$n" -ge 40 ]; then echo "is a symlink loop"; else echo "is a dangling symlink"; fi
  elif [ -p "$p" ]; then echo "is ${to:-a }FIFO, not a regular file"
  elif [ -S "$p" ]; then echo "is ${to:-a }socket, not a regular file"
  elif [ -c "$p" ]; then echo "is ${to:-a }character device, not a regular file"
  elif [ -b "$p" ]; then echo "is ${to:-a }block device, not a regular file"
  elif [ -d "$p" ]; then echo "is a folder that cannot be listed"
  else echo "cannot be read"; fi
}

# The entries under dataset folder $1 that gsutil must not be given, NUL-separated,
# relative to $1: symlink loops and dangling symlinks (gsutil rsync aborts the whole
# sync on them), FIFOs (it waits on them for ever), devices (it would copy /dev/zero
# without end), sockets, unreadable files and folders. Hidden entries are skipped
# (never synced), and so are augmented/ folders unless $2 is 1. A symlink to a
# folder is not listed: gsutil does not follow those.
unsyncable_entries() {
  local dir="$1" with_augmented="${2:-0}" aug=()
  [ "$with_augmented" -eq 1 ] || aug=(-o -path "$dir/*/augmented" -prune)
  find "$dir" -mindepth 1 \( -name '.*' -prune "${aug[@]}" \) -o \
    \( -type l ! -xtype f ! -xtype d -print0 \) -o \
    \( ! -type l ! -type f ! -type d -print0 \) -o \
    \( ! -readable -print0 -prune \) 2>/dev/null |
    while IFS= read -r -d '' p; do printf '%s\0' "${p#"$dir"/}"; done
}

# Logs one line per unsyncable entry of dataset $1 (unsyncable_entries $1 $2):
# "<path>: <kind>; left out". True when there was any.
warn_unsyncable() {
  local dir="$1" with_augmented="$2" rel none=1
  while IFS= read -r -d '' rel; do
    log "warning: $dir/$rel: $(entry_kind "$dir/$rel"); left out"
    none=0
  done < <(unsyncable_entries "$dir" "$with_augmented")
  return "$none"
}

# Fills folder $2 with symlinks to the files of dataset $1 that gsutil can copy
# (readable regular files, or symlinks to them), at the same relative paths, hidden
# ones aside. gsutil stats every file it lists before it applies -x, so a dangling
# symlink aborts the sync even when excluded: a push from $2 never meets one.
stage_syncable() {
  local dir="$1" out="$2" abs rel
  abs="$(cd "$dir" && pwd)"
  mkdir -p "$out"
  while IFS= read -r -d '' rel; do
    rel="${rel#./}"
    mkdir -p "$out/$(dirname -- "$rel")"
    ln -s "$abs/$rel" "$out/$rel"
  done < <(cd "$abs" && find . -mindepth 1 \( -name '.*' -prune \) -o \( ! -readable -prune \) -o \( -xtype f -print0 \))
}

# Logs one line per symlink of dataset $1 that leads nowhere readable (dangling, a loop):
# gsutil rsync aborts when it lists one, also as the destination of a pull. True
# when there was any (a pull then passes -e: gsutil leaves local symlinks alone).
warn_broken_links() {
  local dir="$1" p none=1
  while IFS= read -r -d '' p; do
    log "warning: $p: $(entry_kind "$p"); left out"
    none=0
  done < <(find "$dir" -mindepth 1 \( -name '.*' -prune \) -o \( -type l ! -readable -print0 \) 2>/dev/null)
  return "$none"
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
