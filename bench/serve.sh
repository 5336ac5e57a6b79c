#!/usr/bin/env bash
# What the live dashboard (`harness serve`) costs at 10,000 runs: a synthetic sweep of 10,000
# runs × 2,000 train and 200 val points (built through the store's own writes by `results`'
# example `synthetic_sweep`), the time to first byte and the size of the sweep page's data, a
# run page's data and one live update, and the page drawn in headless Chromium (Debian's
# `chromium`, `chromium-driver`); then a real 2-worker sweep with 20 dashboard clients open
# against none. Writes its tables into docs/scale.md and README's line (bench/serve.py).
#
#   bench/serve.sh [NAMES_TXT]            (default ../shared/data/names.txt)
#   RUNS=1000 ROUNDS=1 bench/serve.sh     (a smaller sweep; one round of the client test)
set -euo pipefail
cd "$(dirname "$0")/.."

data="${1:-../shared/data/names.txt}"
cargo build --release --quiet --bin harness
cargo build --release --quiet -p results --example synthetic_sweep
target="${CARGO_TARGET_DIR:-target}/release"
python3 bench/serve.py --harness "$target/harness" --synthetic "$target/examples/synthetic_sweep" \
    --data "$data" --runs "${RUNS:-10000}" --rounds "${ROUNDS:-3}" \
    --command "$(echo ${RUNS:+RUNS=$RUNS} ${ROUNDS:+ROUNDS=$ROUNDS} bench/serve.sh "$@")"
