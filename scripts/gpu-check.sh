#!/usr/bin/env bash
# GPU check, for a machine with an NVIDIA GPU: trains the lecture's final model for a few
# thousand steps on `cuda` (Burn's CUDA backend) and checks that its loss falls, then measures
# training steps/s at batch 32, 512 and 4096 on `cuda`, on `tch` CUDA (where the binary has
# the `tch` feature and finds its libtorch) and on the CPU backend (flex, one thread), and
# prints a table. Needs no Rust toolchain: build the binary elsewhere and carry it along.
#
#   cargo build --release --features cuda            # (or --features cuda,tch)
#   scripts/gpu-check.sh target/release/harness names.txt
set -euo pipefail

harness="${1:?usage: scripts/gpu-check.sh HARNESS_BINARY NAMES_TXT}"
data="${2:?usage: scripts/gpu-check.sh HARNESS_BINARY NAMES_TXT}"
train_steps="${TRAIN_STEPS:-3000}"

if ! gpus=$(nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv,noheader 2>&1); then
    echo "gpu-check: nvidia-smi finds no GPU here: $gpus" >&2
    exit 1
fi
echo "gpu-check: $gpus" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "gpu-check: training the lecture's model for $train_steps steps on cuda" >&2
"$harness" train --backend cuda --data "$data" --db "$work/gpu.db" --steps "$train_steps" \
    --eval-every 1000 --name gpu-check | tee "$work/train.txt"
grep -q "completed after $train_steps" "$work/train.txt"

# Steps per measurement shrink as the batch grows, so the CPU rows stay a few minutes long.
for batch in 32 512 4096; do
    steps=$((64000 / batch > 50 ? 64000 / batch : 50))
    warmup=$((steps / 10 > 5 ? steps / 10 : 5))
    for impl in flex:cpu cuda:cuda:0 tch:cuda:0; do
        backend=${impl%%:*}
        device=${impl#*:}
        echo "gpu-check: batch $batch, $backend on $device, $steps steps" >&2
        if ! "$harness" bench --data "$data" --backend "$backend" --device "$device" \
            --batch-size "$batch" --steps "$steps" --warmup "$warmup" >> "$work/lines" 2> "$work/err"; then
            echo "gpu-check: skipped: $(tail -n 1 "$work/err")" >&2
        fi
    done
done

python3 - "$work/lines" <<'PY'
import json, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
cpu = {r["batch_size"]: r["steps_per_sec"] for r in runs if r["device"] == "cpu"}
print(f"{'backend':<8}{'device':<9}{'batch':>7}{'steps/s':>10}{'examples/s':>13}{'vs flex cpu':>13}")
for r in runs:
    b, s = r["batch_size"], r["steps_per_sec"]
    ratio = f"{s / cpu[b]:.2f}×" if b in cpu else "–"
    print(f"{r['impl']:<8}{r['device']:<9}{b:>7}{s:>10.0f}{s * b:>13.0f}{ratio:>13}")
PY
