#!/usr/bin/env bash
# GPU check, for a machine with an NVIDIA GPU: trains the lecture's final model for a few
# thousand steps on a GPU backend (GPU_BACKEND: `cuda`, Burn's CUDA backend, the default;
# `vulkan`, Burn's wgpu backend on Vulkan; `tch`, libtorch) and checks that it completes; runs
# a sweep mixing CPU runs and GPU runs, two per GPU, and checks where each ran and that no GPU
# had more than two at once; then measures training steps/s at batch 32, 512 and 4096 on that
# backend, on `tch` CUDA (where the binary has the `tch` feature and finds its libtorch) and on
# the CPU backend (flex, one thread), beside PyTorch on the same GPU (bench/torch_models.py:
# torch.nn + torch.optim, eager and torch.compile; where python3 has a CUDA PyTorch), and
# makemore's Transformer on `tch` CUDA beside makemore.py's own in PyTorch on the same GPU
# (bench/makemore_models.py, eager and compiled), and writes the tables into docs/clusters.md
# (printed too). Needs no Rust toolchain: build the binary elsewhere and carry it along.
#
#   cargo build --release --features cuda            # (or vulkan, or cuda,tch)
#   [GPU_BACKEND=vulkan] scripts/gpu-check.sh target/release/harness names.txt
set -euo pipefail

harness="${1:?usage: scripts/gpu-check.sh HARNESS_BINARY NAMES_TXT}"
data="${2:?usage: scripts/gpu-check.sh HARNESS_BINARY NAMES_TXT}"
train_steps="${TRAIN_STEPS:-3000}"
gpu_backend="${GPU_BACKEND:-cuda}"
torch_models="$(dirname "$0")/../bench/torch_models.py"

if ! gpus=$(nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv,noheader 2>&1); then
    echo "gpu-check: nvidia-smi finds no GPU here: $gpus" >&2
    exit 1
fi
echo "gpu-check: $gpus" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "gpu-check: training the lecture's model for $train_steps steps on $gpu_backend" >&2
"$harness" train --backend "$gpu_backend" --device cuda --data "$data" --db "$work/gpu.db" \
    --steps "$train_steps" --eval-every 1000 --name gpu-check | tee "$work/train.txt"
grep -q "completed after $train_steps" "$work/train.txt"

echo "gpu-check: a sweep of 4 CPU runs (flex) and 6 GPU runs ($gpu_backend), 2 per GPU" >&2
cat > "$work/mixed.yaml" <<YAML
name: gpu-check-sweep
runs_per_gpu: 2
parameters:
  seed: {values: [1, 2]}
  steps: {value: 2000}
  eval_every: {value: 1000}
variants:
  - {label: cpu, backend: flex, n_hidden: 64}
  - {label: cpu-wide, backend: flex}
  - {label: gpu, backend: $gpu_backend, device: cuda, n_hidden: 64}
  - {label: gpu-wide, backend: $gpu_backend, device: cuda}
  - {label: gpu-wider, backend: $gpu_backend, device: cuda, n_hidden: 256}
YAML
"$harness" launch "$work/mixed.yaml" --data "$data" --db "$work/gpu.db" --workers 2
"$harness" query --db "$work/gpu.db" --format csv \
    "SELECT run, variant, backend, device, device_name, status, started_at, finished_at
     FROM runs_wide WHERE sweep = 'gpu-check-sweep'" > "$work/sweep.csv"
python3 - "$work/sweep.csv" <<'PY'
import csv, sys
from collections import defaultdict
runs = list(csv.DictReader(open(sys.argv[1])))
for r in runs:
    print(f"run {r['run']:>3} {r['variant']:<10} {r['backend']:<6} {r['device']:<7} {r['device_name']:<28} {r['status']}")
assert all(r["status"] == "completed" for r in runs), "every run completes"
assert all((r["device"] == "cpu") == (r["backend"] == "flex") for r in runs), "CPU runs on the CPU, GPU runs on a GPU"
by_device = defaultdict(list)
for r in runs:
    by_device[r["device"]] += [(r["started_at"], 1), (r["finished_at"], -1)]
for device, events in by_device.items():
    running = most = 0
    for _, change in sorted(events, key=lambda e: (e[0], e[1])):
        running += change
        most = max(most, running)
    limit = 2
    print(f"gpu-check: at most {most} runs at once on {device} (limit {limit})")
    assert most <= limit, f"{device} had {most} runs at once"
PY

# Steps per measurement shrink as the batch grows, so the CPU rows stay a few minutes long.
for batch in 32 512 4096; do
    steps=$((64000 / batch > 50 ? 64000 / batch : 50))
    warmup=$((steps / 10 > 5 ? steps / 10 : 5))
    for impl in flex:cpu "$gpu_backend:cuda:0" tch:cuda:0 pytorch:cuda pytorch-compile:cuda; do
        backend=${impl%%:*}
        device=${impl#*:}
        echo "gpu-check: batch $batch, $backend on $device, $steps steps" >&2
        case "$backend" in
            pytorch) bench=(python3 "$torch_models" "$data" --device cuda --steps "$steps") ;;
            pytorch-compile) bench=(python3 "$torch_models" "$data" --device cuda --steps "$steps" --compile) ;;
            *) bench=("$harness" bench --data "$data" --backend "$backend" --device "$device" --timed-steps "$steps") ;;
        esac
        if ! "${bench[@]}" --batch-size "$batch" --warmup "$warmup" >> "$work/lines" 2> "$work/err"; then
            echo "gpu-check: skipped: $(tail -n 1 "$work/err")" >&2
        fi
    done
done

# makemore's Transformer as makemore.py trains it (batch 32 whole names, AdamW), on the GPU.
makemore_models="$(dirname "$0")/../bench/makemore_models.py"
for impl in tch pytorch pytorch-compile; do
    echo "gpu-check: makemore's Transformer, $impl on cuda, 500 steps" >&2
    case "$impl" in
        pytorch) bench=(python3 "$makemore_models" "$data" --device cuda --steps 500) ;;
        pytorch-compile) bench=(python3 "$makemore_models" "$data" --device cuda --steps 500 --compile) ;;
        *) bench=("$harness" bench --data "$data" --model transformer --backend tch --device cuda:0 --timed-steps 500) ;;
    esac
    if ! "${bench[@]}" --warmup 50 >> "$work/lines" 2> "$work/err"; then
        echo "gpu-check: skipped: $(tail -n 1 "$work/err")" >&2
    fi
done

# The table goes into docs/clusters.md (section `gpu`) when the script runs in the repository,
# stamped by bench/doc_table.py; the GPU and the binary's version head it.
repo="$(dirname "$0")/.."
python3 - "$work/lines" "$repo" "$gpus" "$("$harness" --version)" "GPU_BACKEND=$gpu_backend scripts/gpu-check.sh HARNESS NAMES_TXT" <<'PY'
import json, os, re, sys
lines, repo, gpus, version, command = sys.argv[1:]
every = [json.loads(line) for line in open(lines)]
runs = [r for r in every if r.get("model") != "transformer"]
transformer = [r for r in every if r.get("model") == "transformer"]
cpu = {r["batch_size"]: r["steps_per_sec"] for r in runs if r["device"] == "cpu"}
torch_gpu = {}
for r in runs:
    if r["impl"].startswith("pytorch"):
        torch_gpu[r["batch_size"]] = max(torch_gpu.get(r["batch_size"], 0), r["steps_per_sec"])
ratio = lambda s, base: f"{s / base:.2f}×" if base else "–"
head = ["implementation", "device", "batch", "steps/s", "examples/s", "vs flex, 1 CPU thread", "vs the faster PyTorch on the GPU"]
rows = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
for r in runs:
    b, s = r["batch_size"], r["steps_per_sec"]
    cells = [r["impl"], r["device"], str(b), f"{s:,.0f}", f"{s * b:,.0f}", ratio(s, cpu.get(b)), ratio(s, torch_gpu.get(b))]
    rows.append("| " + " | ".join(cells) + " |")
body = (f"GPU: {gpus}. Binary: {version}. The lecture's final model, SGD, training steps/s after a "
        "warm-up of a tenth, one run each.\n\n" + "\n".join(rows))
if transformer:
    fastest = max((r["steps_per_sec"] for r in transformer if r["impl"].startswith("pytorch")), default=0)
    rows = ["| implementation | device | steps/s | vs the faster PyTorch on the GPU |", "|---|---|---|---|"]
    rows += [f"| {r['impl']} | {r['device']} | {r['steps_per_sec']:,.1f} | {ratio(r['steps_per_sec'], fastest)} |"
             for r in transformer]
    body += ("\n\nmakemore's Transformer (204,544 parameters), as makemore.py trains it: batch 32 whole "
             "names, AdamW; training steps/s after 50 warm-up steps, 500 timed.\n\n" + "\n".join(rows))
print(body)
sys.path.insert(0, os.path.join(repo, "bench"))
try:
    import doc_table
except ImportError:
    sys.exit(0)
doc = os.path.join(repo, "docs", "clusters.md")
if os.path.exists(doc):
    built = re.search(r"commit (\S+)\)", version)
    doc_table.write_section(doc, "gpu", body, command, built[1] if built else "unknown")
    print(f"gpu-check: table written into {doc}", file=sys.stderr)
PY
