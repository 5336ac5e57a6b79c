"""The population-based training benchmark's table (bench/pbt.sh): for each population, its best
member by final val with that member's train/val/test loss, the range of its members' test
loss (how much choosing by val leaves to chance), the steps the population trained
in all and its wall time, then the mean ± standard deviation over populations beside the best
fixed schedules' test loss — one measured elsewhere, passed as --fixed LABEL MEAN STD (the
3-seed figure a docs/results.md table measured), and/or a grid sweep of a schedule's seeds in
DB named by --fixed-sweep — with the difference and whether it is within the spread (under
two standard errors). Then the schedule each best member was trained with: its settings from step
0 and at each exploit along its lineage (a member that exploited at step s trained until s as
its donor did), rebuilt from the `exploits` table alone.

A population takes over an hour and a database does not outlive its machine, so each finished
sweep is kept as a record (its row, schedule, date, machine, commit and command) under the
page section's name in --records, committed beside the page; the table shows every population
recorded for the section, and a sweep found finished in DB replaces its record.

    python3 bench/pbt_table.py DB SWEEP... [--section pbt] [--fixed LABEL MEAN STD] [--fixed-sweep NAME]
        [--doc docs/pbt.md --command "…"]
"""

import argparse
import json
import math
import os
import sqlite3
import statistics

import doc_table

MUTATED = ("lr", "weight_decay", "dropout")


def population(conn, sweep):
    """The sweep's members and exploits, or None while any member is unfinished."""
    members = {
        run: {"config": json.loads(config), "train": train, "val": val, "test": test, "steps": steps,
              "started": started, "finished": finished, "commit": commit}
        for run, config, train, val, test, steps, started, finished, commit in conn.execute(
            """SELECT r.id, r.config, r.train_loss, r.val_loss, r.test_loss, r.steps_done, r.started_at,
                      r.finished_at, r.git_commit
               FROM runs r JOIN sweeps s ON s.id = r.sweep_id WHERE s.name = ?""", (sweep,))
    }
    if not members or any(m["finished"] is None or m["val"] is None for m in members.values()):
        return None
    exploits = [
        {"run": run, "step": step, "donor": donor, "before": json.loads(before), "after": json.loads(after)}
        for run, step, donor, before, after in conn.execute(
            """SELECT e.run_id, e.step, e.donor_id, e.config_before, e.config_after FROM exploits e
               JOIN runs r ON r.id = e.run_id JOIN sweeps s ON s.id = r.sweep_id
               WHERE s.name = ? ORDER BY e.step, e.run_id""", (sweep,))
    ]
    return members, exploits


def schedule(members, exploits, run, until=math.inf):
    """[(from step, settings)] that trained `run`'s weights up to `until`: its donor's schedule
    up to its latest exploit before `until`, then its settings from there."""
    own = [e for e in exploits if e["run"] == run and e["step"] <= until]
    if not own:
        first = next((e for e in exploits if e["run"] == run), None)
        return [(0, first["before"] if first else members[run]["config"])]
    last = own[-1]
    return schedule(members, exploits, last["donor"], last["step"]) + [(last["step"], last["after"])]


def short(value):
    return f"{value:.3g}"


def provenance_of(conn, sweep, command):
    """The sweep's wall minutes and when, where, from which commit and how it was measured."""
    minutes, finished = conn.execute(
        """SELECT (julianday(max(r.finished_at)) - julianday(min(r.started_at))) * 1440, max(r.finished_at)
           FROM runs r JOIN sweeps s ON s.id = r.sweep_id WHERE s.name = ?""", (sweep,)).fetchone()
    commits = sorted({c[:7] + ("-dirty" if c.endswith("-dirty") else "") for (c,) in conn.execute(
        """SELECT DISTINCT r.git_commit FROM runs r JOIN sweeps s ON s.id = r.sweep_id
           WHERE s.name = ? AND r.git_commit IS NOT NULL""", (sweep,))})
    return {"minutes": round(minutes), "measured": finished[:10], "machine": doc_table.machine(),
            "commit": ", ".join(commits) or "unknown", "command": command}


def population_record(conn, sweep, command):
    """The finished population `sweep` as a record, or None while it is unfinished."""
    found = population(conn, sweep)
    if found is None:
        return None
    members, exploits = found
    best = min(members, key=lambda run: members[run]["val"])
    return {
        "best": best, **{key: members[best][key] for key in ("train", "val", "test")},
        "exploits": len(exploits), "steps": sum(x["steps"] for x in members.values()),
        "members_test": [min(x["test"] for x in members.values()), max(x["test"] for x in members.values())],
        "schedule": " → ".join(
            f"{step:,}: " + ", ".join(f"{key} {short(config[key])}" for key in MUTATED if key in config)
            for step, config in schedule(members, exploits, best)),
        **provenance_of(conn, sweep, command),
    }


def fixed_record(conn, sweep, command):
    """The finished grid sweep `sweep` of the fixed schedule over seeds, or None while unfinished."""
    found = population(conn, sweep)
    if found is None:
        return None
    runs = [found[0][run] for run in sorted(found[0])]
    return {"seeds": [r["config"]["seed"] for r in runs], "steps": sum(r["steps"] for r in runs),
            **{key: [r[key] for r in runs] for key in ("train", "val", "test")},
            **provenance_of(conn, sweep, command)}


def mean_std(values):
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def fixed_row(name, r):
    train, val, (test, test_std) = mean_std(r["train"])[0], mean_std(r["val"])[0], mean_std(r["test"])
    seeds = ", ".join(str(seed) for seed in r["seeds"])
    return (f"| {name} (fixed schedule) | seeds {seeds} | {train:.4f} | {val:.4f} | **{test:.4f} ± {test_std:.4f}** "
            f"| {min(r['test']):.4f}–{max(r['test']):.4f} | – | {r['steps']:,} | {r['minutes']} "
            f"| {r['measured']}, {r['commit']} |")


def population_row(name, r):
    spread = "–" if "members_test" not in r else "{:.4f}–{:.4f}".format(*r["members_test"])
    return (f"| {name} | run {r['best']} | {r['train']:.4f} | {r['val']:.4f} | **{r['test']:.4f}** | {spread} | "
            f"{r['exploits']} | {r['steps']:,} | {r['minutes']} | {r['measured']}, {r['commit']} |")


def comparison(tests, label, fixed_mean, fixed_std, fixed_runs):
    """The populations' best members against one fixed schedule, or '' before the first."""
    if not tests:
        return ""
    if len(tests) == 1:
        return (f"- One population so far: best member's test {tests[0]:.4f}, against {label}'s "
                f"{fixed_mean:.4f} ± {fixed_std:.4f} ({fixed_runs} seeds): {tests[0] - fixed_mean:+.4f}.")
    mean, std = mean_std(tests)
    error = math.sqrt(std ** 2 / len(tests) + fixed_std ** 2 / fixed_runs)
    verdict = "within the spread" if abs(mean - fixed_mean) < 2 * error else (
        "better" if mean < fixed_mean else "worse")
    return (f"- Best members' test loss over {len(tests)} populations: {mean:.4f} ± {std:.4f}, against "
            f"{label}'s {fixed_mean:.4f} ± {fixed_std:.4f} ({fixed_runs} seeds): {mean - fixed_mean:+.4f} "
            f"(standard error {error:.4f}), {verdict}.")


def table(records, unfinished, fixed_sweep, fixed):
    """The section's body: the rows, the comparisons and the schedules. `fixed`: a fixed
    schedule measured elsewhere, (label, mean, std), compared with beside `fixed_sweep`'s."""
    rows, schedules, tests, references = [], [], [], []
    if fixed is not None:
        references.append((*fixed, 3))
    if fixed_sweep in records:
        tested = records[fixed_sweep]["test"]
        references.append((f"{fixed_sweep} (above)", *mean_std(tested), len(tested)))
        rows.append(fixed_row(fixed_sweep, records[fixed_sweep]))
    for sweep in sorted(set(records) | set(unfinished)):
        if sweep == fixed_sweep and sweep in records:
            continue
        if sweep not in records:
            rows.append(f"| {sweep} | not finished | | | | | | | | |")
            continue
        tests.append(records[sweep]["test"])
        rows.append(population_row(sweep, records[sweep]))
        schedules.append(f"- {sweep}, run {records[sweep]['best']}: {records[sweep]['schedule']}")
    lines = ["| population | best member | train | val | test | every member's test | exploits | steps | minutes "
             "| measured |", "|---|---|---|---|---|---|---|---|---|---|", *rows, ""]
    lines += [comparison(tests, *reference) for reference in references if tests]
    if schedules:
        lines += ["", "The schedules the best members were trained with (settings from each step on):", "", *schedules]
    return "\n".join(lines)


def provenance(records):
    """The section's first line: where and how the recorded sweeps were measured."""
    if not records:
        return "Not measured yet."
    machines = sorted({r["machine"] for r in records.values()})
    commands = sorted({r["command"] for r in records.values()})
    return (f"Each sweep measured on the date and commit its row gives, on {'; '.join(machines)}, "
            f"by {', '.join(f'`{c}`' for c in commands)}.")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("sweeps", nargs="*")
    parser.add_argument("--section", default="pbt")
    parser.add_argument("--fixed", nargs=3, metavar=("LABEL", "MEAN", "STD"))
    parser.add_argument("--fixed-sweep")
    parser.add_argument("--records", default="docs/pbt-populations.json")
    parser.add_argument("--doc")
    parser.add_argument("--command", default="bench/pbt.sh")
    args = parser.parse_args()
    fixed = args.fixed and (args.fixed[0], float(args.fixed[1]), float(args.fixed[2]))
    all_records = json.load(open(args.records)) if os.path.exists(args.records) else {}
    records = all_records.setdefault(args.section, {})
    unfinished = []
    with sqlite3.connect(f"file:{args.db}?mode=ro", uri=True) as conn:
        kinds = [(args.fixed_sweep, fixed_record)] if args.fixed_sweep else []
        for sweep, make in kinds + [(sweep, population_record) for sweep in args.sweeps]:
            found = make(conn, sweep, args.command)
            if found is not None:
                records[sweep] = found
            elif sweep not in records:
                unfinished.append(sweep)
    with open(args.records, "w") as out:
        json.dump({section: kept for section, kept in all_records.items() if kept}, out, indent=1, sort_keys=True, ensure_ascii=False)
        out.write("\n")
    body = table(records, unfinished, args.fixed_sweep, fixed)
    print(body)
    if args.doc:
        doc_table.replace_section(args.doc, args.section, provenance(records), body)


if __name__ == "__main__":
    main()
