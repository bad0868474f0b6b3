#!/usr/bin/env bash
# Sync the dataset and the artifacts (encodings.bin, model.bin, labels.bin) with a bucket.
#
# Usage: scripts/sync.sh push|pull [--bucket URL] [--with-augmented] [--delete] [--no-wait]
#                        [--wait-timeout SECONDS] [--no-lock]
#   push  upload dataset/ (originals), then the artifacts, then manifest.json last
#   pull  download dataset/ (originals), then the artifacts into a temporary folder; verify
#         them against manifest.json and only then rename them over the local ones
#   --bucket URL        gs://bucket/prefix or file:///absolute/path (default: $FACEPIPE_BUCKET)
#   --with-augmented    also sync dataset/*/augmented/ (default: originals only)
#   --delete            push: also delete remote dataset files that are gone locally
#                       (without it nothing remote is ever deleted; pull never deletes)
#   --no-wait           exit 3 at once when another run holds the lock
#   --wait-timeout S    exit 3 when the lock is still busy after S seconds (default: wait)
#   --no-lock           the caller already holds the lock (scripts/retrain.sh)
# Bucket layout: URL/dataset/<person>/<photo>, URL/artifacts/{encodings.bin,model.bin,
#   labels.bin,manifest.json}.
# Environment: FACEPIPE_BUCKET, GSUTIL (default gsutil; any gsutil-compatible command),
#   FACEPIPE_BIN (default: facepipe on PATH, else build/facepipe), FACEPIPE_DATASET,
#   FACEPIPE_ENCODINGS, FACEPIPE_MODEL, FACEPIPE_LABELS, FACEPIPE_LOCK (default:
#   facepipe.lock beside the model; the lock facepipe enroll and retrain.sh take).
# Dataset entries that are not readable files (symlink loops, dangling symlinks, FIFOs,
#   sockets, devices, unreadable files) are left out of a push, one warning line each.
# Exit codes: 0 done (also when entries were left out); 1 a transfer or check failed (a pull then leaves every local artifact
#   as it was); 2 usage error; 3 the lock was busy (--no-wait, --wait-timeout).
set -euo pipefail
# shellcheck source=scripts/sync-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/sync-common.sh"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }

ACTION="" WITH_AUGMENTED=0 DELETE=0 NO_WAIT=0 WAIT_TIMEOUT="" NO_LOCK=0
while [ $# -gt 0 ]; do
  case "$1" in
    push|pull) [ -z "$ACTION" ] || die 2 "one action only (push or pull)"; ACTION="$1" ;;
    --bucket) [ $# -ge 2 ] || die 2 "--bucket needs a URL"; BUCKET="$2"; shift ;;
    --bucket=*) BUCKET="${1#--bucket=}" ;;
    --with-augmented) WITH_AUGMENTED=1 ;;
    --delete) DELETE=1 ;;
    --no-wait) NO_WAIT=1 ;;
    --wait-timeout) [[ "${2:-}" =~ ^[0-9]+$ ]] || die 2 "--wait-timeout needs whole seconds"; WAIT_TIMEOUT="$2"; shift ;;
    --no-lock) NO_LOCK=1 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die 2 "unknown argument '$1'" ;;
  esac
  shift
done
[ -n "$ACTION" ] || { usage >&2; die 2 "say push or pull"; }
[ "$ACTION" = push ] || [ "$DELETE" -eq 0 ] || die 2 "--delete is for push only: pull never deletes local files"
check_bucket "$BUCKET"
[ -x "$FACEPIPE" ] || die 2 "facepipe binary not found at $FACEPIPE (set FACEPIPE_BIN)"
[ "$NO_LOCK" -eq 1 ] || take_lock "$NO_WAIT" "$WAIT_TIMEOUT"

EXCLUDE="$(exclude_regex "$WITH_AUGMENTED")"
ART_DIR="$(dirname "$MODEL")"
mkdir -p "$ART_DIR"
WORK="$(mktemp -d "$ART_DIR/.facepipe-$ACTION.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# Downloads the remote manifest to $1; fails quietly when there is none.
fetch_manifest() { "${GSUTIL_CMD[@]}" -q cp "$BUCKET/artifacts/manifest.json" "$1" >/dev/null 2>&1; }

# True when the remote manifest describes exactly the local artifacts.
remote_has_local_artifacts() {
  fetch_manifest "$WORK/remote.json" &&
    "$FACEPIPE" -q manifest check "$WORK/remote.json" -e "$ENCODINGS" -m "$MODEL" -l "$LABELS" >/dev/null 2>&1
}

push() {
  local have=0 f
  for f in "$ENCODINGS" "$MODEL" "$LABELS"; do [ -e "$f" ] && have=$((have + 1)); done
  [ "$have" -eq 0 ] || [ "$have" -eq 3 ] || die 1 "only some of $ENCODINGS, $MODEL, $LABELS exist; run train first"
  if [ "$have" -eq 3 ]; then
    # Snapshot and check the artifacts before uploading anything: a corrupt local
    # model never reaches the bucket.
    cp "$ENCODINGS" "$WORK/encodings.bin"; cp "$MODEL" "$WORK/model.bin"; cp "$LABELS" "$WORK/labels.bin"
    run_facepipe manifest make "$WORK/manifest.json" || die 1 "local artifacts are not valid; nothing pushed"
  fi
  # The data first, so the artifacts in the bucket never describe photos it lacks.
  if [ -d "$DATASET" ]; then
    ensure_remote_dir "$BUCKET/dataset"
    local delete=(); [ "$DELETE" -eq 1 ] && delete=(-d)
    # Entries that are not readable files (FIFOs, symlink loops...) are left out, one line
    # each: the push goes from a tree of links to the rest.
    local src="$DATASET"
    if warn_unsyncable "$DATASET" "$WITH_AUGMENTED"; then
      stage_syncable "$DATASET" "$WORK/dataset"
      src="$WORK/dataset"
    fi
    run_gsutil -m rsync -r "${delete[@]}" -x "$EXCLUDE" "$src/" "$BUCKET/dataset/" || die 1 "dataset upload failed"
    log "dataset pushed to $BUCKET/dataset/"
  else
    log "no dataset folder $DATASET; only artifacts pushed"
  fi
  if [ "$have" -eq 0 ]; then log "no artifacts yet ($MODEL); run train first"; return 0; fi
  if remote_has_local_artifacts; then log "artifacts already in $BUCKET/artifacts/; not uploaded again"; return 0; fi
  ensure_remote_dir "$BUCKET/artifacts"
  run_gsutil -m cp "$WORK/encodings.bin" "$WORK/model.bin" "$WORK/labels.bin" "$BUCKET/artifacts/" ||
    die 1 "artifact upload failed; the bucket's manifest still names the previous artifacts"
  # The manifest last: until it lands, a pull sees the old manifest and refuses the new files.
  run_gsutil cp "$WORK/manifest.json" "$BUCKET/artifacts/manifest.json" || die 1 "manifest upload failed"
  log "artifacts pushed to $BUCKET/artifacts/"
}

# Installs pairs of (downloaded file, local path): each is first copied to a
# temporary file beside its path and flushed; only when all are copied are
# they renamed over the local ones. Readers (and facepipe live) see the old file
# or the new one, never a partial one, and a full disk changes none of them.
install_atomic() {
  local tmps=() i
  for ((i = 1; i < $#; i += 2)); do
    local src="${!i}" j=$((i + 1)); local dst="${!j}"
    local tmp; tmp="$(dirname "$dst")/.$(basename "$dst").pull-$$"
    tmps+=("$tmp")
    cp "$src" "$tmp" && chmod 600 "$tmp" && sync "$tmp" || { rm -f "${tmps[@]}"; return 1; }
  done
  for ((i = 2; i <= $#; i += 2)); do
    mv -f "${tmps[$((i / 2 - 1))]}" "${!i}" || { rm -f "${tmps[@]}"; return 1; }
  done
}

# The regular files under $1, NUL-separated (names may hold any byte but NUL).
list_files() { [ -d "$1" ] && find "$1" -type f -print0; return 0; }

# Removes the files under $1 that are not among the arguments after it: after a
# failed download, what gsutil added (perhaps cut short by a full disk) goes,
# and the dataset is as it was.
remove_new_files() {
  local dir="$1" f; shift
  local -A before=()
  for f in "$@"; do before["$f"]=1; done
  while IFS= read -r -d '' f; do
    [ -n "${before["$f"]+x}" ] || rm -f -- "$f"
  done < <(list_files "$dir")
}

pull() {
  if ! fetch_manifest "$WORK/manifest.json"; then
    # None in the bucket is normal; one that is there but cannot be saved here is not.
    remote_exists "$BUCKET/artifacts/manifest.json" &&
      die 1 "cannot download $BUCKET/artifacts/manifest.json$(disk_note "$WORK"); local dataset and artifacts kept"
    log "no $BUCKET/artifacts/manifest.json"
  fi
  # Data first; missing remote dataset is not an error when artifacts are there.
  mkdir -p "$DATASET"
  local before=() links=()
  mapfile -d '' before < <(list_files "$DATASET")
  if warn_broken_links "$DATASET"; then links=(-e); fi
  if ! run_gsutil -m rsync -r "${links[@]}" -x "$EXCLUDE" "$BUCKET/dataset/" "$DATASET/"; then
    local note; note="$(disk_note "$DATASET")"
    remove_new_files "$DATASET" "${before[@]}"
    if remote_exists "$BUCKET/dataset"; then
      die 1 "dataset download failed$note; the photos it added are removed, local dataset and artifacts kept"
    fi
    [ -s "$WORK/manifest.json" ] || die 1 "nothing to pull from $BUCKET (no dataset/, no artifacts/manifest.json); a new bucket starts with scripts/sync.sh push"
    log "no dataset in $BUCKET (or it could not be read); artifacts only"
  else
    log "dataset pulled from $BUCKET/dataset/"
  fi
  [ -s "$WORK/manifest.json" ] || { log "no artifacts in $BUCKET yet; dataset only"; return 0; }
  if "$FACEPIPE" -q manifest check "$WORK/manifest.json" -e "$ENCODINGS" -m "$MODEL" -l "$LABELS" >/dev/null 2>&1; then
    log "local artifacts already match $BUCKET/artifacts/manifest.json"
    return 0
  fi
  run_gsutil -m cp "$BUCKET/artifacts/encodings.bin" "$BUCKET/artifacts/model.bin" "$BUCKET/artifacts/labels.bin" \
    "$WORK/" || die 1 "artifact download failed$(disk_note "$WORK"); local artifacts kept"
  run_facepipe manifest check "$WORK/manifest.json" ||
    die 1 "downloaded artifacts do not match $BUCKET/artifacts/manifest.json; refused, local artifacts kept"
  # Same order as facepipe train: encodings, then model, then labels (live pairs them by training id).
  install_atomic "$WORK/encodings.bin" "$ENCODINGS" "$WORK/model.bin" "$MODEL" "$WORK/labels.bin" "$LABELS" ||
    die 1 "cannot replace the local artifacts$(disk_note "$ART_DIR"); local artifacts kept"
  log "artifacts pulled from $BUCKET/artifacts/"
}

"$ACTION"
