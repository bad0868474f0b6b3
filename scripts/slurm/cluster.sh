#!/usr/bin/env bash
# A single-node Slurm on localhost (munge + slurmctld + slurmd), everything in one
# folder: for tests and for trying the job scripts on one machine. Needs root and
# Debian's slurm-wlm and munge. Nothing outside DIR is written; no system service
# is touched.
#
# Usage: scripts/slurm/cluster.sh start DIR    start it; prints `export SLURM_CONF=DIR/slurm.conf`
#        scripts/slurm/cluster.sh stop DIR     stop every daemon it started (by pid file)
# Exit codes: 0 ok; 1 a daemon did not start (the reason and its log's tail on stderr); 2 usage.
set -euo pipefail
die() { echo "slurm cluster: $*" >&2; exit 1; }
[ $# -eq 2 ] || { sed -n '7,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
cmd="$1"; dir="$2"

show_log() { [ -f "$1" ] && { echo "--- last lines of $1:" >&2; tail -n 15 "$1" >&2; }; return 0; }

# A TCP port nothing listens on (a connection to it is refused).
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  die "no free TCP port found"
}

stop_pidfile() {  # pidfile: TERM, then KILL after 10 s
  local f="$1" pid
  [ -f "$f" ] || return 0
  pid="$(cat "$f")"
  kill "$pid" 2>/dev/null || { rm -f "$f"; return 0; }
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$f"
}

start() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (SlurmUser=root; slurmd starts jobs as their user)"
  for b in munged slurmctld slurmd sbatch sinfo; do
    command -v "$b" >/dev/null || [ -x "/usr/sbin/$b" ] ||
      die "$b not found: install Debian's slurm-wlm and munge (scripts/setup.sh --tests does)"
  done
  export PATH="$PATH:/usr/sbin"
  mkdir -p "$dir"/{state,spool,log,munge}
  dir="$(cd "$dir" && pwd)"
  chmod 700 "$dir/munge"
  local host; host="$(hostname -s)"
  # munge: its own key, socket and files; --force because the folder is under /tmp.
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$dir/munge/munge.key"
  munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" \
    --seed-file="$dir/munge/munged.seed" --force ||
    { show_log "$dir/log/munged.log"; die "munged did not start"; }
  cat > "$dir/slurm.conf" <<CONF
ClusterName=facepipe
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerParameters=sched_interval=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$dir/slurm.conf"
  slurmctld -c || { show_log "$dir/log/slurmctld.log"; die "slurmctld did not start"; }
  slurmd -N "$host" || { show_log "$dir/log/slurmd.log"; die "slurmd did not start"; }
  # Ready when the node is idle: slurmd registered with slurmctld.
  local state=""
  for _ in $(seq 150); do
    state="$(sinfo -h -N -o %T 2>/dev/null || true)"
    [ "$state" = "idle" ] && { echo "export SLURM_CONF=$SLURM_CONF"; return 0; }
    sleep 0.2
  done
  show_log "$dir/log/slurmctld.log"; show_log "$dir/log/slurmd.log"
  die "node not idle after 30 s (state: '${state:-no answer from slurmctld}')"
}

stop() {
  [ -d "$dir" ] || return 0
  stop_pidfile "$dir/slurmd.pid"
  stop_pidfile "$dir/slurmctld.pid"
  stop_pidfile "$dir/munge/munged.pid"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "slurm cluster: unknown command $cmd (start|stop)" >&2; exit 2 ;;
esac
