"""How the harness's commands grow with the number of runs (bench/scale.sh runs this).

Synthetic sweeps of each size are built by `results`' example `synthetic_sweep` through the
store's own writes, from the one run of a real template sweep; each command is timed on
them (wall seconds and peak memory, the median of three runs when one takes under 2 s),
and `launch --dry-run` on a grid and a random search of that size. Then a real random
search of tiny runs trains through the scheduler: the time to its first run's start, runs
per second, and the seconds each run costs at the start and at the end of the sweep. The
tables replace the last ones in docs/scale.md.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import doc_table
import synthetic

# Goals at 10,000 runs, in seconds (issue: sweeps of 10,000 runs); at 100,000 runs, ten
# times these. `report` has ten times the others'.
REPORT_GOAL, OTHER_GOAL = 10, 1

TEMPLATE = """name: scale-template
method: grid
metric: {name: val_loss, goal: minimize}
parameters:
  model: {value: mlp}
  n_hidden: {value: 64}
  steps: {value: 1000}
  log_every: {value: 10}
  eval_every: {value: 10}
  final_train_sample: {value: 2000}
"""


def grid_spec(runs):
    """A grid of `runs` runs: 10 widths × 100 learning rates × runs / 1000 seeds."""
    lrs = ", ".join(f"{10 ** (-3 + 2.5 * i / 99):.6g}" for i in range(100))
    seeds = ", ".join(str(s) for s in range(1, runs // 1000 + 1))
    return f"""name: grid-{runs}
method: grid
parameters:
  model: {{value: mlp}}
  n_hidden: {{values: [16, 24, 32, 48, 64, 96, 128, 192, 256, 384]}}
  lr: {{values: [{lrs}]}}
  seed: {{values: [{seeds}]}}
  steps: {{value: 1000}}
"""


def random_spec(runs):
    return f"""name: random-{runs}
method: random
run_cap: {runs}
parameters:
  model: {{value: mlp}}
  n_hidden: {{min: 8, max: 512}}
  lr: {{distribution: log_uniform_values, min: 0.001, max: 1.0}}
  steps: {{value: 1000}}
"""


def timed(command, cwd):
    """(wall seconds, peak MiB) of `command`, its output discarded; fails loudly."""
    report = os.path.join(cwd, "time.txt")
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-o", report, "-f", "%M", *command],
        cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"scale: {' '.join(command)} failed:\n{done.stderr}")
    kib = open(report).read().split()[-1]
    return seconds, int(kib) / 1024


def measure(command, cwd):
    """`timed`, as the median of three runs when the first takes under 2 s."""
    first = timed(command, cwd)
    if first[0] >= 2:
        return first
    runs = [first, timed(command, cwd), timed(command, cwd)]
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


def query(harness, db, sql):
    out = subprocess.run([harness, "query", "--db", db, "--format", "json", sql],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def synthetic_tables(args, work):
    template = synthetic.Template(args.harness, args.synthetic, args.data, work, "scale-template", TEMPLATE)
    rows = {}
    built = {}
    for runs in args.sizes:
        db = os.path.join(work, f"scale-{runs}.db")
        name, built[runs] = template.copies(runs, db)
        print(f"scale: {runs} runs built in {built[runs]:.0f} s", file=sys.stderr)
        ids = [r["run"] for r in query(args.harness, db, f"SELECT run FROM runs_wide WHERE sweep = '{name}' "
                                        "AND status = 'completed' ORDER BY run LIMIT 2")]
        for kind, text in (("grid", grid_spec(runs)), ("random", random_spec(runs))):
            open(os.path.join(work, f"{kind}-{runs}.yaml"), "w").write(text)
        commands = {
            "status": ["status"],
            "status SWEEP": ["status", name],
            "runs --sweep": ["runs", "--sweep", name],
            "runs --sweep --each-run": ["runs", "--sweep", name, "--each-run"],
            "compare": ["compare", *map(str, ids), "--out", os.path.join(work, "compare.png")],
            "report": ["report", name, "--out", os.path.join(work, f"report-{runs}")],
            "launch --dry-run (grid)": ["launch", f"grid-{runs}.yaml", "--dry-run"],
            "launch --dry-run (random)": ["launch", f"random-{runs}.yaml", "--dry-run"],
        }
        for label, command in commands.items():
            if "launch" not in command:
                command = [*command, "--db", db]
            rows.setdefault(label, {})[runs] = measure([args.harness, *command], work)
            seconds, mib = rows[label][runs]
            print(f"scale: {runs} runs: {label}: {seconds:.2f} s, {mib:.0f} MiB", file=sys.stderr)
        os.remove(db)
    sizes = args.sizes
    growth = f"× from {sizes[-2]:,} to {sizes[-1]:,}" if len(sizes) > 1 else None
    head = "| command | " + " | ".join(f"{n:,} runs" for n in sizes) + (f" | {growth}" if growth else "")
    lines = [head + " | goal at 10,000 (100,000) |", "|---" * (len(sizes) + 2 + bool(growth)) + "|"]
    for label, by_size in rows.items():
        goal = REPORT_GOAL if label == "report" else OTHER_GOAL
        cells = [f"{by_size[n][0]:.3f} s, {by_size[n][1]:.0f} MiB" for n in sizes]
        if growth:
            cells.append(f"{by_size[sizes[-1]][0] / by_size[sizes[-2]][0]:.1f}×")
        target = f"≤ {goal} s (≤ {10 * goal} s)"
        lines.append(f"| `{label}` | " + " | ".join(cells) + f" | {target} |")
    built_line = ", ".join(f"{n:,} runs in {built[n]:.0f} s" for n in sizes)
    return "\n".join(lines) + (
        "\n\nEach cell: wall time (the median of three where one takes under 2 s), peak resident "
        "memory; the commands start a process each, so a few milliseconds are the floor. The synthetic sweeps (copies of one real "
        "run with 100-point train and val curves, three seeds per configuration, 1% failed, two "
        f"running, twenty pending) were built in: {built_line}.\n"
    )


def real_sweep(args, work):
    db = os.path.join(work, "real.db")
    started = time.time()
    command = [args.harness, "launch", args.sweep_file, "--data", args.data, "--db", db,
               "--workers", str(args.workers), "--threads", "1"]
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ended = time.time()
    if done.returncode != 0:
        sys.exit(f"scale: the real sweep failed:\n{done.stderr[-3000:]}")
    unix = lambda column: f"(julianday({column}) - 2440587.5) * 86400.0"
    runs = query(args.harness, db, f"SELECT {unix('started_at')} AS started, {unix('finished_at')} AS finished, "
                                   "train_seconds + eval_seconds AS inside, status FROM runs_wide ORDER BY finished")
    if any(r["status"] != "completed" for r in runs):
        sys.exit("scale: not every run of the real sweep completed")
    n = len(runs)
    window = max(n // 10, 1)

    def per_run(part):
        """Seconds of worker time per run over `part` (consecutive finishes), and of those
        the seconds not spent training or evaluating."""
        span = part[-1]["finished"] - part[0]["finished"]
        seconds = span * args.workers / (len(part) - 1)
        return seconds, seconds - statistics.mean(r["inside"] for r in part[1:])

    first_start = min(r["started"] for r in runs) - started
    begin, end = per_run(runs[:window]), per_run(runs[-window:])
    return "\n".join([
        f"`{' '.join(['harness', *command[1:3]])} --workers {args.workers} --threads 1`: {n:,} runs.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| time from `launch` to the first run's start | {first_start:.2f} s |",
        f"| whole sweep | {ended - started:.0f} s, {n / (ended - started):.1f} runs/s |",
        f"| worker-seconds per run, first {window:,} runs to finish | {begin[0]:.3f} s "
        f"(of which {begin[1]:.3f} s not training or evaluating) |",
        f"| worker-seconds per run, last {window:,} runs to finish | {end[0]:.3f} s "
        f"(of which {end[1]:.3f} s not training or evaluating) |",
        f"| per-run cost at the end against the start | {end[0] / begin[0]:.3f}× |",
        "",
    ])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--harness", required=True)
    parser.add_argument("--synthetic", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[1000, 10000, 100000])
    parser.add_argument("--sweep-file", default="sweeps/scale-runs.yaml")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--real", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--doc", default="docs/scale.md")
    parser.add_argument("--command", required=True, help="how the bench was called, for the docs")
    args = parser.parse_args()
    args.harness, args.synthetic, args.data = map(os.path.abspath, (args.harness, args.synthetic, args.data))
    measured_commit = doc_table.commit()
    work = tempfile.mkdtemp(prefix="harness-scale-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        table = synthetic_tables(args, work)
        doc_table.write_section(args.doc, "scale-commands", table, args.command, measured_commit)
        print(table)
        if args.real:
            sweep = real_sweep(args, work)
            doc_table.write_section(args.doc, "scale-sweep", sweep, args.command, measured_commit)
            print(sweep)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
