#!/usr/bin/env bash
# Bring up a single-node SLURM cluster on this machine, to try profiles/slurm locally
# (and for synflair's CI). Needs root and Debian/Ubuntu packages slurm-wlm and munge
# (installed here if missing). One node with all CPUs, the memory the machine has, and one
# GPU gres (a real one, or a fake one backed by /dev/null when the machine has none), with
# select/cons_tres so that `--gpus`/`--gres=gpu` requests are scheduled like on a cluster.
#
# usage: sudo profiles/slurm/local/start-cluster.sh          # start (idempotent)
#        sudo profiles/slurm/local/start-cluster.sh --stop   # stop the daemons
set -euo pipefail

if [ "${1:-}" = "--stop" ]; then
  pkill -x slurmd || true; pkill -x slurmctld || true; pkill -x munged || true
  for _ in $(seq 1 20); do
    { pgrep -x slurmd || pgrep -x slurmctld || pgrep -x munged; } >/dev/null || exit 0
    sleep 0.5
  done
  echo "start-cluster.sh: daemons still running after 10 s" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "start-cluster.sh: needs root (it writes /etc/slurm and starts daemons)" >&2
  exit 1
fi
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

node=$(hostname -s)
cpus=$(nproc)
mem_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
gpu_file=/dev/null
if ls /dev/nvidia0 >/dev/null 2>&1; then gpu_file=/dev/nvidia0; fi
conf_dir=/etc/slurm
state=/var/spool/slurmctld
mkdir -p "$conf_dir" "$state" /var/spool/slurmd /var/log/slurm /run/munge /var/lib/munge /etc/munge

# munge: a key, then the daemon.
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown -R munge:munge /etc/munge /var/lib/munge /run/munge /var/log/munge 2>/dev/null || true
chmod 400 /etc/munge/munge.key
pgrep -x munged >/dev/null || su -s /bin/sh munge -c /usr/sbin/munged 2>/dev/null || /usr/sbin/munged --force

cat > "$conf_dir/slurm.conf" <<CONF
ClusterName=synflair-local
SlurmctldHost=$node
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$state
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=gpu
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
KillWait=10
MinJobAge=600
NodeName=$node CPUs=$cpus RealMemory=$mem_mb Gres=gpu:1 State=UNKNOWN
PartitionName=main Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
echo "Name=gpu File=$gpu_file" > "$conf_dir/gres.conf"
rm -f "$conf_dir/cgroup.conf"  # linuxproc + task/none need no cgroups

pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 1 30); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qE 'idle|mixed|allocated'; then
    scontrol update nodename="$node" state=resume >/dev/null 2>&1 || true
    sinfo
    exit 0
  fi
  sleep 1
  scontrol update nodename="$node" state=resume >/dev/null 2>&1 || true
done
echo "start-cluster.sh: the node did not come up; see /var/log/slurm/*.log" >&2
tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
exit 1
