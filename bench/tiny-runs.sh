#!/usr/bin/env bash
# The per-run overhead of many tiny runs: launches sweeps/tiny-runs.yaml (200 runs of 200
# steps of the lecture's MLP) into a fresh database, then splits the wall time into training
# and evaluation (as each run records them) and everything else: the scheduler starting a
# worker process, the worker loading the data and building the model, the database writes.
# Writes its table into docs/performance.md.
#
#   bench/tiny-runs.sh [NAMES_TXT]        (default ../shared/data/names.txt)
#   WORKERS=2 bench/tiny-runs.sh          (default 1 worker of 1 thread)
set -euo pipefail
cd "$(dirname "$0")/.."

data="${1:-../shared/data/names.txt}"
workers="${WORKERS:-1}"
# The commit measured, taken before the build (the work tree may change while it runs).
commit=$(cd bench && python3 -c "import doc_table; print(doc_table.commit())")
cargo build --release --quiet
harness="${CARGO_TARGET_DIR:-target}/release/harness"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
started=$(date +%s.%N)
"$harness" launch sweeps/tiny-runs.yaml --data "$data" --db "$work/tiny.db" \
    --workers "$workers" --threads 1 > /dev/null 2> "$work/launch.log"
ended=$(date +%s.%N)
"$harness" query --db "$work/tiny.db" --format json \
    "SELECT status, train_seconds, eval_seconds, wall_seconds FROM runs_wide" > "$work/runs.json"

python3 - "$work/runs.json" "$started" "$ended" "$workers" "$commit" "WORKERS=$workers bench/tiny-runs.sh${*:+ $*}" <<'PY'
import json, sys
sys.path.insert(0, "bench")
import doc_table
runs = json.load(open(sys.argv[1]))
launch = float(sys.argv[3]) - float(sys.argv[2])
workers = int(sys.argv[4])
done = [r for r in runs if r["status"] == "completed"]
if len(done) != len(runs):
    sys.exit(f"tiny-runs: {len(runs) - len(done)} of {len(runs)} runs did not complete")
n = len(done)
train = sum(r["train_seconds"] for r in done)
evaluation = sum(r["eval_seconds"] for r in done)
wall = sum(r["wall_seconds"] for r in done)
ms = lambda seconds: f"{1000 * seconds / n:.1f} ms"
body = "\n".join([
    f"`sweeps/tiny-runs.yaml`: {n} runs, {workers} worker(s) × 1 thread; the launch took {launch:.1f} s.",
    "",
    "| per run | time |",
    "|---|---|",
    f"| training | {ms(train)} |",
    f"| evaluation | {ms(evaluation)} |",
    f"| the rest of its wall time (process start, data, model, database writes) | {ms(wall - train - evaluation)} |",
    f"| the rest of the whole launch (also the sweep's setup and scheduling) | {ms(launch * workers - train - evaluation)} |",
])
print(body)
doc_table.write_section("docs/performance.md", "tiny-runs", body, sys.argv[6], sys.argv[5])
PY
