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

. bench/against-pytorch.sh
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

ours() { "$harness" bench --data "$data" --backend flex --timed-steps "$steps" "$@"; }
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

python3 bench/speed_table.py "$lines" --group model \
    --title "Batch 32, 1 thread, $steps timed steps, median of $rounds rounds." \
    --doc docs/performance.md --section models --commit "$commit" \
    --command "ROUNDS=$rounds STEPS=$steps bench/models.sh${*:+ $*}"
