"""How well a run's validation loss part-way predicts its loss at the end, on the search
benchmark's random searches without early termination (bench/search.sh's `random-plain`
sweeps: every run trained to the end, drawn alike from the whole space): for each evaluation
step, the rank correlation (Spearman's) of the loss there with
the final loss, where the runs that ended best stood at that step, and where each search's
best run stood among its search's runs. Early termination
judges runs at such steps: a rung where the best runs rank low stops them.

    python3 bench/fidelity.py DB [--best 10] [--doc docs/search.md --command "…"]
"""

import argparse
import sqlite3
import statistics

import doc_table
from search_table import short

PLAIN = "random-plain-seed%"


def curves(db):
    """{run: {step: val loss}} of the random searches' completed runs in `db`, {run: its
    sweep}, their steps, and the commits they were trained by."""
    sql = """SELECT r.run, p.step, p.loss, r.steps, r.sweep, r.git_commit FROM runs_wide r
             JOIN curve_points p ON p.run_id = r.run AND p.split = 'val'
             WHERE r.status = 'completed' AND r.sweep LIKE ?"""
    found, sweeps, steps, commits = {}, {}, set(), set()
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        for run, step, loss, run_steps, sweep, commit in conn.execute(sql, (PLAIN,)):
            found.setdefault(run, {})[step] = loss
            sweeps[run] = sweep
            steps.add(run_steps)
            commits.add(commit or "unknown")
    if len(steps) != 1:
        raise SystemExit(f"fidelity: the random searches in {db} must share one step count, not {sorted(steps)}")
    return found, sweeps, steps.pop(), short(",".join(sorted(commits)))


def ranks(values):
    """Each value's rank, 1 for the lowest (ties in order of appearance)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    result = [0] * len(values)
    for rank, i in enumerate(order, 1):
        result[i] = rank
    return result


def spearman(a, b):
    return statistics.correlation(ranks(a), ranks(b))


def rank_of_best(found, runs, step, last):
    """Where the run of `runs` with the lowest final loss ranked at `step` among them."""
    at = ranks([found[run].get(step, float("inf")) for run in runs])
    return at[min(range(len(runs)), key=lambda i: found[runs[i]][last])]


def table(found, sweeps, last, best):
    runs = [run for run, curve in found.items() if last in curve]
    final = [found[run][last] for run in runs]
    top = sorted(range(len(runs)), key=lambda i: final[i])[:best]
    searches = {}
    for run in runs:
        searches.setdefault(sweeps[run], []).append(run)
    names = sorted(searches, key=lambda name: int(name.rsplit("seed", 1)[1]))
    size = max(len(members) for members in searches.values())
    steps = sorted({step for run in runs for step in found[run] if 0 < step < last})
    lines = [f"| step | of {last:,} | rank correlation with the final loss | "
             f"where the {best} best at the end ranked (of {len(runs)}): median | worst | "
             f"where each search's best ranked in its search (of {size}), seed by seed |",
             "|---|---|---|---|---|---|"]
    for step in steps:
        at = [found[run].get(step, float("inf")) for run in runs]
        rank_at = ranks(at)
        standing = sorted(rank_at[i] for i in top)
        own = ", ".join(str(rank_of_best(found, searches[name], step, last)) for name in names)
        lines.append(f"| {step:,} | {step / last:.0%} | {spearman(at, final):.3f} | "
                     f"{statistics.median(standing):.0f} | {standing[-1]} | {own} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("--best", type=int, default=10)
    parser.add_argument("--doc")
    parser.add_argument("--command")
    args = parser.parse_args()
    found, sweeps, last, commits = curves(args.db)
    if not found:
        raise SystemExit(f"fidelity: no completed run of a random search in {args.db}")
    body = table(found, sweeps, last, args.best)
    print(body)
    if args.doc:
        doc_table.write_section(args.doc, "fidelity", body, args.command, commits)


if __name__ == "__main__":
    main()
