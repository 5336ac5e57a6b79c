#!/usr/bin/env bash
# Speed of makemore.py's sequence models — ours (`harness bench`, Burn's autodiff on the flex
# backend) against makemore.py's own model code in PyTorch, eager and `torch.compile`
# (bench/makemore_models.py) — with makemore.py's defaults: batch 32 items, AdamW 5e-4, one
# thread each, in alternation round after round so that noise on the machine hits all of them.
# Both pad a batch to its longest item; a last row per model pads to block_size as
# makemore.py's CharDataset does (more work: shown, not compared).
#
#   bench/sequence.sh [NAMES_TXT]        (default ../shared/data/names.txt)
#   ROUNDS=3 STEPS=500 MODELS="gru transformer" bench/sequence.sh
set -euo pipefail
cd "$(dirname "$0")/.."

data="${1:-../shared/data/names.txt}"
rounds="${ROUNDS:-3}"
steps="${STEPS:-500}"
models="${MODELS:-rnn gru transformer}"

eval "$(scripts/setup-libtorch.sh)"
python="$HARNESS_TORCH_VENV/bin/python"
cargo build --release --quiet
harness="${CARGO_TARGET_DIR:-target}/release/harness"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE

lines=$(mktemp)
trap 'rm -f "$lines"' EXIT
for round in $(seq "$rounds"); do
    for model in $models; do
        echo "sequence: round $round/$rounds: $model" >&2
        "$harness" bench --data "$data" --backend flex --model "$model" --timed-steps "$steps" --warmup 50 >> "$lines"
        torch_bench() { "$python" bench/makemore_models.py "$data" --model "$model" --steps "$steps" "$@" >> "$lines"; }
        torch_bench
        torch_bench --compile
        torch_bench --pad-to-block
    done
done

python3 - "$lines" "$rounds" "$steps" <<'PY'
import json, statistics, sys
lines, rounds, steps = sys.argv[1], sys.argv[2], sys.argv[3]
runs = [json.loads(line) for line in open(lines)]
keys = list(dict.fromkeys((r["model"], r["impl"]) for r in runs))
of = lambda k, field: statistics.median(r[field] for r in runs if (r["model"], r["impl"]) == k)
print(f"batch 32 items, AdamW, 1 thread, {steps} timed steps, median of {rounds} rounds")
print(f"{'model':<12}{'implementation':<24}{'params':>8}{'steps/s':>9}{'ms/step':>9}{'vs eager':>10}{'vs compile':>12}{'val eval (s)':>14}")
for model, impl in keys:
    speed = of((model, impl), "steps_per_sec")
    params = next(r["params"] for r in runs if (r["model"], r["impl"]) == (model, impl))
    ratio = lambda base: f"{speed / of((model, base), 'steps_per_sec'):.2f}×" if (model, base) in keys else "-"
    print(f"{model:<12}{impl:<24}{params:>8}{speed:>9.1f}{1000 / speed:>9.2f}{ratio('pytorch'):>10}{ratio('pytorch-compile'):>12}{of((model, impl), 'eval_seconds'):>14.3f}")
PY
