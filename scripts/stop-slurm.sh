#!/usr/bin/env bash
# Stops the single-node Slurm cluster that scripts/start-slurm.sh started: cancels every job,
# then stops slurmd, slurmctld and munged and waits until they are gone (about 5 s).
set -euo pipefail

command -v scancel >/dev/null && scancel --full --user=root 2>/dev/null || true
for daemon in slurmd slurmctld munged; do
    pkill -x "$daemon" 2>/dev/null || true
done
for _ in $(seq 100); do
    pgrep -x slurmd >/dev/null || pgrep -x slurmctld >/dev/null || pgrep -x munged >/dev/null || exit 0
    sleep 0.1
done
echo "stop-slurm: the daemons are still running after 10 s" >&2
exit 1
