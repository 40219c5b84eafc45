#!/usr/bin/env bash
# A single-node SLURM on this Debian machine, to try profiles/slurm without a cluster (and for
# the integration test tests/integration/test_slurm.py). Needs root and apt.
#   bash workflow/cluster/slurm_local.sh up       install (first time), configure, start
#   bash workflow/cluster/slurm_local.sh status   daemons' PIDs and sinfo
#   bash workflow/cluster/slurm_local.sh down     stop the daemons (by their PIDs)
# Idempotent: `up` on a running SLURM only checks it answers. The daemons are started directly
# (no systemd: containers and CI runners often have none) and stopped by their PID files.
# No accounting daemon (slurmdbd): finished jobs are kept for MinJobAge and written to the
# job-completion log ($LOG_DIR/jobcomp.log), which is the record of what ran through SLURM.
set -euo pipefail

CONF_DIR=/etc/slurm
STATE_DIR=/var/lib/slurm
LOG_DIR=/var/log/slurm
RUN_DIR=/run/slurm
MUNGE_RUN=/run/munge
PACKAGES=(slurmctld slurmd slurm-client munge)

log() { echo "slurm_local: $*" >&2; }

require_root() {
  if [[ $(id -u) -ne 0 ]]; then
    log "needs root (it installs packages and starts system daemons)"
    exit 2
  fi
}

install_packages() {
  local missing=()
  for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$package")
  done
  [[ ${#missing[@]} -eq 0 ]] && return
  log "installing ${missing[*]} ..."
  local started=$SECONDS
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # The packages' postinst may try to start services through systemd; that is not needed
  # here (the daemons are started below), so a failure there is not fatal: policy-rc.d 101
  # tells invoke-rc.d not to start anything.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
  log "installed in $((SECONDS - started)) s"
}

write_config() {
  local host cpus memory
  host="$(hostname -s)"
  cpus="$(nproc)"
  # Leave the system 512 MB; a job asking for more than RealMemory is refused at submission.
  memory=$(($(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) - 512))
  mkdir -p "$CONF_DIR" "$STATE_DIR/slurmctld" "$STATE_DIR/slurmd" "$LOG_DIR" "$RUN_DIR"
  cat >"$CONF_DIR/slurm.conf.new" <<EOF
# Written by workflow/cluster/slurm_local.sh: one node, root runs the daemons, no accounting.
ClusterName=smesocial
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE_DIR/slurmctld
SlurmdSpoolDir=$STATE_DIR/slurmd
SlurmctldPidFile=$RUN_DIR/slurmctld.pid
SlurmdPidFile=$RUN_DIR/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
# No cgroups in containers: track processes by /proc and bind no tasks.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$LOG_DIR/jobcomp.log
# Without slurmdbd, sacct cannot see jobs, so the profile polls with squeue; squeue forgets a
# finished job after MinJobAge seconds, which must well exceed the executor's first status
# wait (slurm-init-seconds-before-status-checks) or a finished job looks lost.
MinJobAge=600
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  mv "$CONF_DIR/slurm.conf.new" "$CONF_DIR/slurm.conf"
}

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_munge() {
  pid_alive "$MUNGE_RUN/munged.pid" && return
  [[ -f /etc/munge/munge.key ]] || mungekey --create --keyfile=/etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
  mkdir -p "$MUNGE_RUN" /var/log/munge /var/lib/munge
  chown munge:munge "$MUNGE_RUN" /var/log/munge /var/lib/munge
  runuser -u munge -- /usr/sbin/munged
}

wait_for_node() {
  local tries=0
  until sinfo -h -N -o '%t' 2>/dev/null | grep -Eq '^(idle|mix|alloc)'; do
    tries=$((tries + 1))
    if ((tries > 60)); then
      log "the node did not come up; see $LOG_DIR/slurmctld.log and $LOG_DIR/slurmd.log"
      sinfo -N >&2 || true
      exit 1
    fi
    sleep 0.5
  done
}

up() {
  require_root
  install_packages
  if pid_alive "$RUN_DIR/slurmctld.pid" && pid_alive "$RUN_DIR/slurmd.pid"; then
    wait_for_node
    log "already running"
    return
  fi
  local started=$SECONDS
  write_config
  start_munge
  pid_alive "$RUN_DIR/slurmctld.pid" || slurmctld
  pid_alive "$RUN_DIR/slurmd.pid" || slurmd
  wait_for_node
  # A node left down by an earlier, unclean stop comes back here.
  scontrol update nodename="$(hostname -s)" state=resume 2>/dev/null || true
  log "up in $((SECONDS - started)) s: $(sinfo -h -o '%P %D node(s) %c CPUs %m MB %t')"
}

stop_pid() {
  local pidfile=$1 name=$2 pid
  pid_alive "$pidfile" || return 0
  pid="$(cat "$pidfile")"
  kill "$pid"
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || { log "stopped $name ($pid)"; return 0; }
    sleep 0.2
  done
  log "$name ($pid) ignored SIGTERM for 10 s; killing it"
  kill -9 "$pid" 2>/dev/null || true
}

down() {
  require_root
  stop_pid "$RUN_DIR/slurmd.pid" slurmd
  stop_pid "$RUN_DIR/slurmctld.pid" slurmctld
  stop_pid "$MUNGE_RUN/munged.pid" munged
}

status() {
  local pidfile running=0
  for pidfile in "$RUN_DIR/slurmctld.pid" "$RUN_DIR/slurmd.pid" "$MUNGE_RUN/munged.pid"; do
    if pid_alive "$pidfile"; then
      echo "$(basename "$pidfile" .pid): running ($(cat "$pidfile"))"
    else
      echo "$(basename "$pidfile" .pid): stopped"
      running=1
    fi
  done
  ((running == 0)) && sinfo
  return $running
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *)
    echo "usage: bash workflow/cluster/slurm_local.sh {up|down|status}" >&2
    exit 2
    ;;
esac
