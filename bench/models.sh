#!/usr/bin/env bash
# Speed of each model against the PyTorch a user would write for it (torch.nn + torch.optim,
# eager and torch.compile; bench/torch_models.py), one thread each, in alternation round after
# round so that noise on the machine hits all of them. Ours: `harness bench` with the same
# model, optimizer and batch (the wavenet on both of our training paths).
#
#   bench/models.sh [NAMES_TXT]        (default ../shared/data/names.txt)
#   ROUNDS=3 STEPS=2000 bench/models.sh
set -euo pipefail
cd "$(dirname "$0")/.."

data="${1:-../shared/data/names.txt}"
rounds="${ROUNDS:-3}"
steps="${STEPS:-2000}"

eval "$(scripts/setup-libtorch.sh)"
python="$HARNESS_TORCH_VENV/bin/python"
cargo build --release --quiet
harness="${CARGO_TARGET_DIR:-target}/release/harness"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE

ours() { "$harness" bench --data "$data" --backend flex --timed-steps "$steps" "$@"; }
lines=$(mktemp)
trap 'rm -f "$lines"' EXIT
for round in $(seq "$rounds"); do
    echo "models: round $round/$rounds" >&2
    ours --model wavenet >> "$lines"
    ours --model wavenet --no-fast-path >> "$lines"
    ours --model wavenet-conv --n-hidden 48 --optimizer adamw --lr 0.003 >> "$lines"
    ours --model bigram --optimizer adamw --lr 0.01 >> "$lines"
    for model in wavenet wavenet-conv bigram; do
        "$python" bench/torch_models.py "$data" --model "$model" --steps "$steps" >> "$lines"
        "$python" bench/torch_models.py "$data" --model "$model" --steps "$steps" --compile >> "$lines"
    done
done

python3 - "$lines" "$rounds" "$steps" <<'PY'
import json, statistics, sys
lines, rounds, steps = sys.argv[1], sys.argv[2], sys.argv[3]
runs = [json.loads(line) for line in open(lines)]
keys = list(dict.fromkeys((r["model"], r["impl"]) for r in runs))
median = {k: statistics.median(r["steps_per_sec"] for r in runs if (r["model"], r["impl"]) == k) for k in keys}
evals = {k: statistics.median(r["eval_seconds"] for r in runs if (r["model"], r["impl"]) == k) for k in keys}
params = {k: next(r["params"] for r in runs if (r["model"], r["impl"]) == k) for k in keys}
print(f"batch 32, 1 thread, {steps} timed steps, median of {rounds} rounds")
print(f"{'model':<14}{'implementation':<18}{'params':>8}{'steps/s':>9}{'vs eager':>10}{'vs compile':>12}{'val eval (s)':>14}")
for model, impl in keys:
    eager, compiled = median.get((model, "pytorch")), median.get((model, "pytorch-compile"))
    ratio = lambda base: f"{median[(model, impl)] / base:.2f}×" if base else "-"
    print(f"{model:<14}{impl:<18}{params[(model, impl)]:>8}{median[(model, impl)]:>9.0f}{ratio(eager):>10}{ratio(compiled):>12}{evals[(model, impl)]:>14.3f}")
PY
