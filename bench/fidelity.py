"""How well a run's early validation loss predicts its loss at the end, on the search
benchmark's random searches without early termination (bench/search.sh's `random-plain`
sweeps: every run trained to the end, drawn alike from the whole space). Two kinds of early
loss: part-way through the full run (what early termination judges, at each evaluation step),
and at the end of a shorter run of the same configuration, whose schedule ends there (the same
searches with fewer `steps`, in the `--short` databases). For each: the rank correlation
(Spearman's) with the final loss, where the runs that ended best stood, and where each search's
best run stood among its search's runs. Then what successive halving that restarts would
have found on these same runs (every run is deterministic, so composing the measured runs is
what it would train): each search's configurations at the shortest length, the best 1/eta of
them again from the start at the next length, and so on to the full runs.

    python3 bench/fidelity.py DB [--short DB_1000 ...] [--best 10] [--eta 3]
        [--doc docs/search.md --command "…"]
"""

import argparse
import json
import sqlite3
import statistics

import doc_table
from search_table import short

PLAIN = "random-plain-seed%"
# What makes runs of two lengths the same configuration: every setting but these.
LENGTH = ("steps", "eval_every")


def searches(db):
    """The random searches' completed runs in `db`: {run: (sweep, configuration without its
    length, steps, {step: val loss})}, and the commits they were trained by."""
    sql = """SELECT r.id, s.name, r.config, p.step, p.loss, r.git_commit FROM runs r
             JOIN sweeps s ON s.id = r.sweep_id
             JOIN curve_points p ON p.run_id = r.id AND p.split = 'val'
             WHERE r.status = 'completed' AND s.name LIKE ? ORDER BY r.id, p.step"""
    found, commits = {}, set()
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        for run, sweep, config, step, loss, commit in conn.execute(sql, (PLAIN,)):
            if run not in found:
                settings = json.loads(config)
                key = json.dumps({k: v for k, v in settings.items() if k not in LENGTH}, sort_keys=True)
                found[run] = (sweep, key, settings["steps"], {})
            found[run][3][step] = loss
            commits.add(commit or "unknown")
    return found, commits


def ranks(values):
    """Each value's rank, 1 for the lowest (ties in order of appearance)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    result = [0] * len(values)
    for rank, i in enumerate(order, 1):
        result[i] = rank
    return result


def row(label, early, final, names, best):
    """A table row: `early` and `final` losses of the same runs, `names` each run's search."""
    rank_early = ranks(early)
    top = sorted(range(len(final)), key=lambda i: final[i])[:best]
    standing = sorted(rank_early[i] for i in top)
    own = []
    for name in sorted(set(names), key=lambda n: int(n.rsplit("seed", 1)[1])):
        members = [i for i in range(len(names)) if names[i] == name]
        within = ranks([early[i] for i in members])
        own.append(str(within[min(range(len(members)), key=lambda j: final[members[j]])]))
    rho = statistics.correlation(rank_early, ranks(final))
    return (f"| {label} | {rho:.3f} | {statistics.median(standing):.0f} | {standing[-1]} | "
            f"{', '.join(own)} |")


def table(full, shorter, best):
    runs = sorted(full)
    last = max(full[run][2] for run in runs)
    runs = [run for run in runs if full[run][2] == last and last in full[run][3]]
    final = [full[run][3][last] for run in runs]
    names = [full[run][0] for run in runs]
    per_search = max(names.count(name) for name in set(names))
    lines = [f"| early loss | rank correlation with the loss at {last:,} steps | where the {best} best at "
             f"the end ranked (of {len(runs)}): median | worst | where each search's best ranked in its "
             f"search (of {per_search}), seed by seed |",
             "|---|---|---|---|---|"]
    steps = sorted({step for run in runs for step in full[run][3] if 0 < step < last})
    for step in steps:
        early = [full[run][3].get(step, float("inf")) for run in runs]
        lines.append(row(f"step {step:,} of the run ({step / last:.0%})", early, final, names, best))
    for length, found in sorted(shorter.items()):
        by_key = {(sweep, key): curve[length] for sweep, key, steps, curve in found.values()
                  if steps == length and length in curve}
        kept = [i for i, run in enumerate(runs) if (full[run][0], full[run][1]) in by_key]
        if len(kept) != len(runs):
            raise SystemExit(f"fidelity: the runs of {length:,} steps are not the same configurations")
        early = [by_key[(full[run][0], full[run][1])] for run in runs]
        lines.append(row(f"the end of a run of {length:,} steps", early, final, names, best))
    return "\n".join(lines)


def halving(full, shorter, eta):
    """Rows of each search's best final loss and steps: random search (every run to the end)
    against successive halving with restarts over the lengths of `shorter` and the full one,
    keeping the best ⌊n/eta⌋ (at least one) of each length, ties to the earlier run."""
    last = max(steps for _, _, steps, _ in full.values())
    loss = {length: {(sweep, key): curve[length] for sweep, key, steps, curve in found.values()
                     if steps == length and length in curve}
            for length, found in [*shorter.items(), (last, full)]}
    names = sorted({sweep for sweep, _, _, _ in full.values()}, key=lambda n: int(n.rsplit("seed", 1)[1]))
    lengths = sorted(loss)
    rows = {"random, every run to the end": [], "halving with restarts": []}
    steps = {"random, every run to the end": set(), "halving with restarts": set()}
    for name in names:
        keys = [key for (sweep, key) in loss[last] if sweep == name]
        rows["random, every run to the end"].append(min(loss[last][(name, key)] for key in keys))
        steps["random, every run to the end"].add(len(keys) * last)
        spent = 0
        for i, length in enumerate(lengths):
            spent += len(keys) * length
            if i + 1 < len(lengths):
                keys = sorted(keys, key=lambda key: loss[length][(name, key)])[:max(1, len(keys) // eta)]
        rows["halving with restarts"].append(min(loss[last][(name, key)] for key in keys))
        steps["halving with restarts"].add(spent)
    plan = " → ".join(f"{length:,}" for length in lengths)
    seeds = " | ".join(f"seed {name.rsplit('seed', 1)[1]}" for name in names)
    lines = [f"| search | {seeds} | mean best val | steps per search |",
             "|---" * (len(names) + 3) + "|"]
    for label, bests in rows.items():
        spent = ", ".join(f"{s:,}" for s in sorted(steps[label]))
        cells = " | ".join(f"{b:.4f}" for b in bests)
        lines.append(f"| {label} | {cells} | {statistics.mean(bests):.4f} | {spent} |")
    return (f"Successive halving with restarts, eta {eta}, steps {plan}, composed from the runs "
            "above:\n\n" + "\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("--short", action="append", default=[])
    parser.add_argument("--best", type=int, default=10)
    parser.add_argument("--eta", type=int, default=3)
    parser.add_argument("--doc")
    parser.add_argument("--command")
    args = parser.parse_args()
    full, commits = searches(args.db)
    if not full:
        raise SystemExit(f"fidelity: no completed run of a random search in {args.db}")
    shorter = {}
    for db in args.short:
        found, more = searches(db)
        lengths = {steps for _, _, steps, _ in found.values()}
        if len(lengths) != 1:
            raise SystemExit(f"fidelity: the runs in {db} must share one step count, not {sorted(lengths)}")
        shorter[lengths.pop()] = found
        commits |= more
    body = table(full, shorter, args.best)
    if shorter:
        body += "\n\n" + halving(full, shorter, args.eta)
    print(body)
    if args.doc:
        doc_table.write_section(args.doc, "fidelity", body, args.command, short(",".join(sorted(commits))))


if __name__ == "__main__":
    main()
