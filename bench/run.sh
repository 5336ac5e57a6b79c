#!/usr/bin/env bash
# Speed benchmark: training steps/s of the lecture's final model (76,579 parameters, batch
# 32, one thread) on each of our CPU backends (flex also by autodiff instead of the
# hand-derived backward pass) and on a PyTorch reference written with the lecture's own
# layers (bench/reference.py), taken in alternation, round after round, so
# that noise on the machine hits all of them; plus one pass over the whole validation split.
# Prints the median of each and its ratio to PyTorch.
#
#   bench/run.sh [NAMES_TXT]          (default ../shared/data/names.txt)
#   ROUNDS=5 STEPS=3000 bench/run.sh
#
# PyTorch 2.9.0 comes from PyPI into a venv, created on the first run (a ~4 GB download) by
# scripts/setup-libtorch.sh; the same libtorch builds our `tch` backend, benchmarked too.
set -euo pipefail
cd "$(dirname "$0")/.."

data="${1:-../shared/data/names.txt}"
rounds="${ROUNDS:-3}"
steps="${STEPS:-3000}"

libtorch_env=$(scripts/setup-libtorch.sh)  # a failure here stops the script (set -e)
eval "$libtorch_env"
python="$HARNESS_TORCH_VENV/bin/python"
cargo build --release --quiet --features tch
harness="${CARGO_TARGET_DIR:-target}/release/harness"

# One thread each, and no spinning OpenMP threads if the machine is shared.
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
lines=$(mktemp)
trap 'rm -f "$lines"' EXIT
for round in $(seq "$rounds"); do
    for impl in flex pytorch flex-autodiff tch ndarray; do
        echo "bench: round $round/$rounds: $impl" >&2
        case "$impl" in
            pytorch) "$python" bench/reference.py "$data" --steps "$steps" >> "$lines" ;;
            *-autodiff) "$harness" bench --data "$data" --backend "${impl%-autodiff}" --no-fast-path --timed-steps "$steps" >> "$lines" ;;
            *) "$harness" bench --data "$data" --backend "$impl" --timed-steps "$steps" >> "$lines" ;;
        esac
    done
done

python3 - "$lines" "$rounds" "$steps" <<'PY'
import json, statistics, sys
lines, rounds, steps = sys.argv[1], sys.argv[2], sys.argv[3]
runs = [json.loads(line) for line in open(lines)]
impls = list(dict.fromkeys(r["impl"] for r in runs))
median = {i: statistics.median(r["steps_per_sec"] for r in runs if r["impl"] == i) for i in impls}
evals = {i: statistics.median(r["eval_seconds"] for r in runs if r["impl"] == i) for i in impls}
spread = {i: (min(r["steps_per_sec"] for r in runs if r["impl"] == i),
              max(r["steps_per_sec"] for r in runs if r["impl"] == i)) for i in impls}
print(f"lecture model, batch 32, 1 thread, {steps} timed steps, median of {rounds} rounds")
print(f"{'implementation':<16}{'steps/s':>9}{'range':>15}{'vs pytorch':>12}{'val eval (s)':>14}")
for i in impls:
    lo, hi = spread[i]
    print(f"{i:<16}{median[i]:>9.0f}{f'{lo:.0f}–{hi:.0f}':>15}{median[i] / median['pytorch']:>11.2f}×{evals[i]:>14.3f}")
PY
