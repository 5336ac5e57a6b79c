"""The population-based training benchmark's table (bench/pbt.sh): for each population, its best
member by final val with that member's train/val/test loss, the steps the population trained
in all and its wall time, then the mean ± standard deviation over populations beside the best
fixed schedule (docs/results.md's 3-seed Transformer, passed as --fixed MEAN STD, the figure
that table measured), with the difference and whether it is within the spread (under two
standard errors). Then the schedule each best member was trained with: its settings from step
0 and at each exploit along its lineage (a member that exploited at step s trained until s as
its donor did), rebuilt from the `exploits` table alone.

A population takes over an hour and a database does not outlive its machine, so each finished
population is kept as a record (its row, schedule, date, machine, commit and command) in
--records, committed beside the page; the table shows every recorded population, and one found
finished in DB replaces its record.

    python3 bench/pbt_table.py DB SWEEP... --fixed 1.9196 0.0008 [--doc docs/pbt.md --command "…"]
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


def record(conn, sweep, command):
    """The finished population `sweep` as a record, or None while it is unfinished."""
    found = population(conn, sweep)
    if found is None:
        return None
    members, exploits = found
    best = min(members, key=lambda run: members[run]["val"])
    minutes, finished = conn.execute(
        """SELECT (julianday(max(r.finished_at)) - julianday(min(r.started_at))) * 1440, max(r.finished_at)
           FROM runs r JOIN sweeps s ON s.id = r.sweep_id WHERE s.name = ?""", (sweep,)).fetchone()
    commits = sorted({x["commit"][:7] + ("-dirty" if x["commit"].endswith("-dirty") else "")
                      for x in members.values() if x["commit"]})
    return {
        "best": best, **{key: members[best][key] for key in ("train", "val", "test")},
        "exploits": len(exploits), "steps": sum(x["steps"] for x in members.values()),
        "minutes": round(minutes), "schedule": " → ".join(
            f"{step:,}: " + ", ".join(f"{key} {short(config[key])}" for key in MUTATED if key in config)
            for step, config in schedule(members, exploits, best)),
        "measured": finished[:10], "machine": doc_table.machine(),
        "commit": ", ".join(commits) or "unknown", "command": command,
    }


def table(records, unfinished, fixed_mean, fixed_std):
    """The section's body: the rows, the comparison and the schedules."""
    rows, schedules, tests = [], [], []
    for sweep in sorted(set(records) | set(unfinished)):
        if sweep not in records:
            rows.append(f"| {sweep} | not finished | | | | | | | |")
            continue
        r = records[sweep]
        tests.append(r["test"])
        rows.append(f"| {sweep} | run {r['best']} | {r['train']:.4f} | {r['val']:.4f} | **{r['test']:.4f}** | "
                    f"{r['exploits']} | {r['steps']:,} | {r['minutes']} | {r['measured']}, {r['commit']} |")
        schedules.append(f"- {sweep}, run {r['best']}: {r['schedule']}")
    lines = ["| population | best member | train | val | test | exploits | steps | minutes | measured |",
             "|---|---|---|---|---|---|---|---|---|", *rows, ""]
    if len(tests) >= 2:
        mean, std = statistics.mean(tests), statistics.stdev(tests)
        error = math.sqrt(std ** 2 / len(tests) + fixed_std ** 2 / 3)
        verdict = "within the spread" if abs(mean - fixed_mean) < 2 * error else (
            "better" if mean < fixed_mean else "worse")
        lines.append(f"Best members' test loss over {len(tests)} populations: {mean:.4f} ± {std:.4f}, against "
                     f"the fixed schedule's {fixed_mean:.4f} ± {fixed_std:.4f} (3 seeds): {mean - fixed_mean:+.4f} "
                     f"(standard error {error:.4f}), {verdict}.")
    elif tests:
        lines.append(f"One population so far: best member's test {tests[0]:.4f}, against the fixed schedule's "
                     f"{fixed_mean:.4f} ± {fixed_std:.4f}.")
    lines += ["", "The schedules the best members were trained with (settings from each step on):", "", *schedules]
    return "\n".join(lines)


def provenance(records):
    """The section's first line: where and how the recorded populations were measured."""
    machines = sorted({r["machine"] for r in records.values()})
    commands = sorted({r["command"] for r in records.values()})
    return (f"Each population measured on the date and commit its row gives, on {'; '.join(machines) or 'no machine yet'}, "
            f"by {', '.join(f'`{c}`' for c in commands) or 'nothing yet'}.")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("sweeps", nargs="+")
    parser.add_argument("--fixed", nargs=2, type=float, metavar=("MEAN", "STD"), default=(1.9196, 0.0008))
    parser.add_argument("--records", default="docs/pbt-populations.json")
    parser.add_argument("--doc")
    parser.add_argument("--command", default="bench/pbt.sh")
    args = parser.parse_args()
    records = json.load(open(args.records)) if os.path.exists(args.records) else {}
    unfinished = []
    with sqlite3.connect(f"file:{args.db}?mode=ro", uri=True) as conn:
        for sweep in args.sweeps:
            found = record(conn, sweep, args.command)
            if found is not None:
                records[sweep] = found
            elif sweep not in records:
                unfinished.append(sweep)
    with open(args.records, "w") as out:
        json.dump(records, out, indent=1, sort_keys=True, ensure_ascii=False)
        out.write("\n")
    body = table(records, unfinished, *args.fixed)
    print(body)
    if args.doc:
        doc_table.replace_section(args.doc, "pbt", provenance(records), body)


if __name__ == "__main__":
    main()
