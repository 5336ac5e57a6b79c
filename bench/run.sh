#!/usr/bin/env bash
# Speed against the PyTorch a user would write: the lecture's final model (76,579 parameters,
# SGD lr 0.1) trained by us on flex (the hand-derived fast path, and Burn's autodiff) and by
# PyTorch — torch.nn + torch.optim eager, the same under torch.compile (bench/torch_models.py),
# and the lecture's own layer classes (bench/reference.py) — at batch 32, 256 and 2,048, on
# one thread and on every core. Each run also times a pass over the whole validation split.
# Runs alternate, round after round, so that noise on the machine hits all of them; the table
# gives medians, and ratios to eager and to compiled PyTorch at the same batch and threads,
# written into docs/performance.md (section `run`) and README's speed headline.
#
#   bench/run.sh [NAMES_TXT]              (default ../shared/data/names.txt)
#   ROUNDS=3 STEPS=2000 BATCHES="32 256 2048" THREADS="1 2" bench/run.sh
#
# STEPS is the timed steps at batch 32; a batch b gets STEPS·32/b (at least 20). PyTorch
# 2.9.0 comes from PyPI into a venv, created on the first run (a ~4 GB download) by
# scripts/setup-libtorch.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

data="${1:-../shared/data/names.txt}"
rounds="${ROUNDS:-3}"
steps32="${STEPS:-2000}"
batches="${BATCHES:-32 256 2048}"
threads_list="${THREADS:-1 $(nproc)}"

. bench/against-pytorch.sh
# PyTorch keeps its own OpenMP wait policy (its threads spin briefly between parallel
# regions, as ours do): a passive policy would slow its multi-threaded runs.

for round in $(seq "$rounds"); do
    for batch in $batches; do
        steps=$((steps32 * 32 / batch > 20 ? steps32 * 32 / batch : 20))
        warmup=$((steps / 10 > 5 ? steps / 10 : 5))
        for threads in $threads_list; do
            echo "bench: round $round/$rounds, batch $batch, $threads thread(s), $steps steps" >&2
            export OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads"
            ours=("$harness" bench --data "$data" --backend flex --batch-size "$batch" --threads "$threads"
                --timed-steps "$steps" --warmup "$warmup")
            torch=(--steps "$steps" --warmup "$warmup" --batch-size "$batch" --threads "$threads")
            "${ours[@]}" >> "$lines"
            "${ours[@]}" --no-fast-path >> "$lines"
            "$python" bench/torch_models.py "$data" --model wavenet "${torch[@]}" >> "$lines"
            "$python" bench/torch_models.py "$data" --model wavenet "${torch[@]}" --compile >> "$lines"
            "$python" bench/reference.py "$data" "${torch[@]}" >> "$lines"
        done
    done
done

python3 bench/speed_table.py "$lines" --group batch_size,threads \
    --title "The lecture's final model (76,579 parameters), SGD; median of $rounds rounds; $steps32 timed steps at batch 32 (batch b: $steps32·32/b)." \
    --doc docs/performance.md --section run --commit "$commit" \
    --command "ROUNDS=$rounds STEPS=$steps32 BATCHES=\"$batches\" THREADS=\"$threads_list\" bench/run.sh${*:+ $*}"
# README's speed headline, derived from that table.
python3 bench/headline.py docs/performance.md README.md
