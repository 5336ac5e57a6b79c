#!/usr/bin/env bash
# How the commands grow with the number of runs: `status`, `runs`, `compare`, `report` and
# `launch --dry-run` on synthetic sweeps of 1,000, 10,000 and 100,000 runs (built through
# the store's own writes by `results`' example `synthetic_sweep`), each command's wall time
# and peak memory; then a real random search of 10,000 tiny runs (sweeps/scale-runs.yaml)
# through the scheduler. Writes its tables into docs/scale.md (bench/scale.py).
#
#   bench/scale.sh [NAMES_TXT]                     (default ../shared/data/names.txt)
#   SIZES=1000,10000 REAL=no bench/scale.sh        (smaller sizes; no real sweep)
set -euo pipefail
cd "$(dirname "$0")/.."

data="${1:-../shared/data/names.txt}"
cargo build --release --quiet --bin harness
cargo build --release --quiet -p results --example synthetic_sweep
target="${CARGO_TARGET_DIR:-target}/release"
real=--real
[ "${REAL:-yes}" = no ] && real=--no-real
python3 bench/scale.py --harness "$target/harness" --synthetic "$target/examples/synthetic_sweep" \
    --data "$data" --sizes "${SIZES:-1000,10000,100000}" "$real" \
    --command "$(echo ${SIZES:+SIZES=$SIZES} ${REAL:+REAL=$REAL} bench/scale.sh "$@")"
