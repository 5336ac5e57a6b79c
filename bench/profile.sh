#!/usr/bin/env bash
# Where the time of a training run goes: samples `harness bench` (training steps on one
# thread, then one validation pass) with perf and sums the samples by the kind of work each
# function does — matrix products, tanh, exp, Burn's element-wise ops and reductions,
# memory (copies, allocation, page faults) — then prints the table and the top functions and
# writes them into docs/performance.md (not for a HARNESS given from elsewhere).
#
#   bench/profile.sh [NAMES_TXT] [-- HARNESS_BENCH_ARGS...]     (default ../shared/data/names.txt)
#   STEPS=3000 HARNESS=/path/to/other/harness bench/profile.sh -- --model transformer
#
# Needs `perf` (Debian: linux-perf) and permission to sample (perf_event_paranoid ≤ 2, or root).
set -euo pipefail
cd "$(dirname "$0")/.."

data=../shared/data/names.txt
if [[ $# -gt 0 && $1 != "--" ]]; then data=$1; shift; fi
if [[ $# -gt 0 && $1 == "--" ]]; then shift; fi
steps="${STEPS:-3000}"

# The commit measured, taken before the build (the work tree may change while it runs); a
# harness given by HARNESS is another build: its profile is printed, not written to the docs.
commit=$(cd bench && python3 -c "import doc_table; print(doc_table.commit())")
if [[ -z "${HARNESS:-}" ]]; then
    cargo build --release --quiet
    HARNESS="${CARGO_TARGET_DIR:-target}/release/harness"
else
    commit=""
fi
command -v perf > /dev/null || { echo "profile: perf is not installed (Debian: apt-get install linux-perf)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
perf record --quiet -F 999 -o "$work/perf.data" -- \
    "$HARNESS" bench --data "$data" --backend flex --timed-steps "$steps" --warmup 100 "$@" > "$work/bench.json"
perf report -i "$work/perf.data" --no-children --sort symbol --stdio 2> /dev/null > "$work/report.txt"

python3 - "$work/report.txt" "$work/bench.json" "$commit" "STEPS=$steps bench/profile.sh${*:+ -- $*}" <<'PY'
import json, re, sys
sys.path.insert(0, "bench")
import doc_table
# Kinds of work, by the function a sample landed in; the first pattern that matches wins.
KINDS = [
    ("matrix products (gemm)", r"gemm"),
    ("BatchNorm + tanh, fused (kernels/norm_tanh.rs)", r"norm_tanh"),
    ("tanh (kernels/activations.rs; libm's tanhf, expm1f)", r"tanh|expm1"),
    ("exp, sigmoid, softmax", r"exp|sigmoid|softmax|log"),
    ("memory: copy, fill", r"memmove|memcpy|memset"),
    ("memory: allocation, page faults", r"malloc|free|realloc|page|clear_page|mmap|munmap|\[k\]"),
    ("element-wise ops, reductions (flex)", r"burn_flex|macerator|zip|reduce"),
    ("autodiff bookkeeping", r"burn_autodiff"),
    ("Burn's dispatch, shapes, handles", r"burn_dispatch|burn_tensor|burn_backend|burn_core|burn_std|cubecl|smallvec|LocalKey"),
    ("batches, sampling (our code)", r"model::|harness::|Rng|rand"),
]
rows = []
for line in open(sys.argv[1]):
    m = re.match(r"\s*([\d.]+)%\s+(\[[.k]\])\s+(.*?)\s*$", line)
    if m:
        rows.append((float(m.group(1)), f"{m.group(2)} {m.group(3)}"))
totals = {name: 0.0 for name, _ in KINDS}
totals["other"] = 0.0
for share, symbol in rows:
    kind = next((name for name, pattern in KINDS if re.search(pattern, symbol)), "other")
    totals[kind] += share
bench = json.load(open(sys.argv[2]))
lines = [
    f"{bench['model']}, batch {bench['batch_size']}, under perf: {bench['steps_per_sec']:.0f} steps/s, "
    f"validation pass {bench['eval_seconds']:.3f} s.",
    "",
    "| kind of work | share of the samples |",
    "|---|---|",
]
lines += [f"| {name} | {share:.1f}% |" for name, share in sorted(totals.items(), key=lambda kv: -kv[1])]
lines += ["", "Top functions:", "", "| share | function |", "|---|---|"]
# perf pads the symbol column (and adds IPC columns after it): the name ends at two spaces.
lines += [f"| {share:.2f}% | `{symbol.split('  ')[0][:100]}` |" for share, symbol in rows[:12]]
body = "\n".join(lines)
print(body)
if sys.argv[3]:
    doc_table.write_section("docs/performance.md", "profile", body, sys.argv[4], sys.argv[3])
PY
