#!/bin/bash
# A throwaway single-node Slurm cluster on 127.0.0.1, for testing sweeps as
# job arrays for real (tests/test_slurm.c).
#
#   local-slurm.sh start DIR   munged, slurmctld and slurmd, everything in DIR;
#                              prints the line to source for the clients
#                              (export SLURM_CONF=DIR/slurm.conf)
#   local-slurm.sh stop DIR    kill the three daemons (and the jobs under
#                              slurmd)
#
# DIR holds a fresh munge key, munge's socket, slurm.conf (ports above 20000
# that nothing listens on, ProctrackType=proctrack/linuxproc, TaskPlugin=
# task/none, no accounting), the state and spool folders, pid and log files.
# The node is this host's short name (what slurmd takes itself for), at
# 127.0.0.1, with this machine's CPUs. Exit 77, with the reason on stderr,
# where the cluster cannot run here (not installed, not root, a daemon that
# does not start).
set -eu
skip() { echo "local-slurm: $*" >&2; exit 77; }

cmd=${1:-} dir=${2:-}
if [ -z "$cmd" ] || [ ! -d "$dir" ]; then
    echo "usage: local-slurm.sh start|stop DIR" >&2
    exit 64
fi
dir=$(cd "$dir" && pwd)

# shellcheck source=daemon.bash
. "$(dirname "${BASH_SOURCE[0]}")/daemon.bash"

if [ "$cmd" = stop ]; then
    for d in slurmd slurmctld munged; do stop_daemon "$dir/$d.pid" "$dir"; done
    exit 0
fi
[ "$cmd" = start ] || { echo "local-slurm: $cmd: start or stop" >&2; exit 64; }

for p in munged slurmctld slurmd; do
    command -v "$p" > /dev/null || [ -x "/usr/sbin/$p" ] ||
        skip "no $p (Debian packages slurm-wlm and munge: scripts/install-deps.sh)"
done
command -v sbatch > /dev/null || skip "no sbatch (Debian package slurm-client)"
# slurmd starts jobs as their users and proctrack/linuxproc needs no cgroups,
# but the daemons must run as root to do so
[ "$(id -u)" = 0 ] || skip "not root: slurmd runs jobs as their users only as root"
PATH=$PATH:/usr/sbin

# a TCP port nothing listens on, above 20000
free_port()
{
    local p
    for _ in $(seq 200); do
        p=$((20000 + RANDOM % 40000))
        (exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null || { echo "$p"; return 0; }
    done
    return 1
}

mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
chmod 700 "$dir/munge"
head -c 1024 /dev/urandom > "$dir/munge/munge.key"
chmod 400 "$dir/munge/munge.key"
sock=$dir/munge/munge.socket
munged --force --key-file="$dir/munge/munge.key" --socket="$sock" \
    --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" \
    --seed-file="$dir/munge/munge.seed" 2> "$dir/munged.err" ||
    skip "munged does not start: $(tail -n1 "$dir/munged.err")"

node=$(hostname -s)
cpus=$(nproc)
ctld_port=$(free_port) || skip "no free port"
slurmd_port=$(free_port) || skip "no free port"
user=$(id -un)
cat > "$dir/slurm.conf" << EOF
ClusterName=local
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=$user
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MailProg=/bin/true
KillWait=5
SchedulerParameters=sched_interval=1
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$dir/slurm.conf
slurmctld -i -f "$SLURM_CONF" 2> "$dir/slurmctld.err" ||
    skip "slurmctld does not start: $(tail -n1 "$dir/slurmctld.err")"
slurmd -f "$SLURM_CONF" -N "$node" 2> "$dir/slurmd.err" ||
    skip "slurmd does not start: $(tail -n1 "$dir/slurmd.err")"
# the node comes up idle within a few seconds
for _ in $(seq 150); do
    state=$(sinfo -h -n "$node" -o %T 2> /dev/null || true)
    case $state in idle*) echo "export SLURM_CONF=$SLURM_CONF"; exit 0 ;; esac
    sleep 0.2
done
skip "the node did not come up (state '${state:-none}'): $(tail -n2 "$dir/slurmd.log" 2> /dev/null | tr '\n' ' ')"
