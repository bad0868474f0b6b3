#!/usr/bin/env bash
# Sharded encoding on Slurm: an sbatch job array (one task per shard,
# encode-array.sbatch), then a merge + train job that runs only if every shard
# succeeded (merge-train.sbatch, --dependency=afterok). Run it from the folder
# holding dataset/ on a filesystem every node sees (or stage with --pull/--push).
#
# Usage: scripts/slurm/submit.sh [--shards N] [--wait] [--pull] [--push] [-- SBATCH_OPTION...]
#   --shards N   array size (default 4)
#   --wait       block until the merge + train job ends; exit with its status
#   --pull       first `scripts/sync.sh pull` the dataset and artifacts from the bucket
#   --push       the merge job ends with `scripts/sync.sh push` (FACEPIPE_BUCKET)
#   SBATCH_OPTION  passed to both sbatch calls (e.g. --partition=cpu, --time=2:00:00)
# Prints the two job ids on stdout. Environment: as retrain.sh (FACEPIPE_BIN,
# FACEPIPE_MODELS, FACEPIPE_DATASET, ...), FACEPIPE_PARTS, FACEPIPE_LOGS (slurm-logs).
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/sync-common.sh"
shards=4; wait=0; pull=0; push=0; extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --shards) shards="${2:?--shards needs a number}"; shift 2 ;;
    --wait) wait=1; shift ;;
    --pull) pull=1; shift ;;
    --push) push=1; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '7,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die 2 "unknown option $1 (see --help)" ;;
  esac
done
[[ "$shards" =~ ^[1-9][0-9]{0,4}$ ]] || die 2 "--shards $shards: not a number from 1 to 99999"
[ -x "$FACEPIPE" ] || die 2 "facepipe binary not found at $FACEPIPE (set FACEPIPE_BIN)"
command -v sbatch >/dev/null || die 2 "sbatch not found: run this on a Slurm login node"
[ "$pull" -eq 0 ] || "$REPO/scripts/sync.sh" pull
[ -d "$DATASET" ] || die 1 "no dataset folder $DATASET"
logs="${FACEPIPE_LOGS:-slurm-logs}"
mkdir -p "$logs"
# The jobs run copies of the scripts: tell them where the repository (sync-common.sh) is.
export FACEPIPE_REPO="$REPO" FACEPIPE_BIN="$FACEPIPE" FACEPIPE_SHARDS="$shards" FACEPIPE_PUSH="$push"
common=(--parsable --chdir="$PWD" --export=ALL "${extra[@]}")
encode_job="$(sbatch "${common[@]}" --array="0-$((shards - 1))" --output="$logs/encode-%A_%a.log" \
  "$REPO/scripts/slurm/encode-array.sbatch")"
encode_job="${encode_job%%;*}"
log "submitted encode array $encode_job ($shards shards)"
echo "$encode_job"
merge_job="$(sbatch "${common[@]}" --dependency="afterok:$encode_job" --kill-on-invalid-dep=yes \
  --output="$logs/merge-train-%j.log" "$REPO/scripts/slurm/merge-train.sbatch")"
merge_job="${merge_job%%;*}"
echo "$merge_job"
log "submitted merge + train $merge_job (after every shard succeeds)"
[ "$wait" -eq 1 ] || exit 0
# Poll once a second (sbatch --wait backs off to 30 s between polls).
unanswered=0
while :; do
  state="$(scontrol show job "$merge_job" -o 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2 || true)"
  if [ -z "$state" ]; then
    unanswered=$((unanswered + 1))
    [ "$unanswered" -lt 120 ] || die 1 "slurmctld has not answered about job $merge_job for 2 minutes"
  else
    unanswered=0
  fi
  case "$state" in
    PENDING|CONFIGURING|RUNNING|COMPLETING|SUSPENDED|"") sleep 1 ;;
    COMPLETED) log "merge + train $merge_job completed"; exit 0 ;;
    *) die 1 "merge + train job $merge_job ended $state (a failed shard cancels it); see $logs/" ;;
  esac
done
