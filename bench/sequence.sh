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

. bench/against-pytorch.sh
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

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

python3 bench/speed_table.py "$lines" --group model \
    --title "Batch 32 items, AdamW, 1 thread, $steps timed steps, median of $rounds rounds." \
    --doc docs/performance.md --section sequence --commit "$commit" \
    --command "ROUNDS=$rounds STEPS=$steps MODELS=\"$models\" bench/sequence.sh${*:+ $*}"
