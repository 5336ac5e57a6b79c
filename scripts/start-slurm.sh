#!/usr/bin/env bash
# Starts a real single-node Slurm cluster on this machine, for the Slurm launcher's tests and
# for trying `launcher: slurm` without a cluster: Debian's slurmctld, slurmd, slurm-client and
# munge, no systemd, no cgroups (proctrack/linuxproc, task/none), no accounting. Idempotent:
# installs what is missing, writes the configuration, starts what is not running, and returns
# once a probe job has run. Needs root. Stop it with scripts/stop-slurm.sh.
#
#   scripts/start-slurm.sh          # about 10 s on a fresh machine, 0.2 s when it runs already
#
# The one partition is `debug` (the default); the node is this machine with its real CPUs and
# memory. KillWait is 5 s so that cancelled jobs free their CPUs quickly.
set -euo pipefail

log() { echo "start-slurm: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
    log "needs root (it installs packages and starts daemons)"
    exit 1
fi

packages=(slurmctld slurmd slurm-client munge)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

host=$(hostname -s)
conf=/etc/slurm/slurm.conf
node=$(slurmd -C | head -n 1)
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
chown slurm: /var/spool/slurmctld /var/log/slurm
wanted=$(cat <<EOF
# Written by makemore-harness scripts/start-slurm.sh: a single-node test cluster.
ClusterName=harness
SlurmctldHost=$host(127.0.0.1)
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerParameters=batch_sched_delay=0
ReturnToService=2
KillWait=5
MinJobAge=300
MailProg=/bin/true
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
)
if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$wanted" ]; then
    log "writing $conf"
    echo "$wanted" > "$conf"
    # A changed configuration needs fresh daemons.
    pkill -x slurmd 2>/dev/null || true
    pkill -x slurmctld 2>/dev/null || true
    for _ in $(seq 50); do
        pgrep -x slurmd >/dev/null || pgrep -x slurmctld >/dev/null || break
        sleep 0.1
    done
fi

[ -f /etc/munge/munge.key ] || mungekey --create >&2
install -d -o munge -g munge -m 755 /run/munge
pgrep -x munged >/dev/null || runuser -u munge -- munged
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd

# The daemons answer before the node has registered: wait for a job to run.
for _ in $(seq 60); do
    if timeout 10 srun -n1 -t1 -J start-slurm-probe true 2>/dev/null; then
        log "Slurm is up: partition debug on $host ($(sinfo -h -o '%c CPUs, %m MB'))"
        exit 0
    fi
    sleep 0.5
done
log "Slurm did not run a probe job within 30 s; see /var/log/slurm/"
exit 1
