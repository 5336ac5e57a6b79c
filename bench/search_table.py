"""The search benchmark's table (bench/search.sh): per search method, the best val of each
sampler seed, their mean ± standard deviation, the training steps and minutes per search, read
from the harness's database (every sweep `METHOD-ASHA-seedN`) and from the rows
bench/search_optuna.py printed. Then each difference the benchmark asks about (early
termination against none, ours against Optuna) with its standard error, called within the
spread when it is under two standard errors: three seeds rarely separate searches; and seed by
seed, how often it is lower and how far behind it falls at worst.

    python3 bench/search_table.py DB --run-cap 24 [--optuna ROWS.tsv] [--doc docs/search.md
        --command "…"]
"""

import argparse
import math
import re
import sqlite3
import statistics

import doc_table

METHODS = [("random-plain", "random"), ("bayes-plain", "bayes"), ("random-asha", "random + asha"),
           ("bayes-asha", "bayes + asha"), ("random-halving", "random + halving"),
           ("bayes-halving", "bayes + halving")]
OPTUNA = "Optuna TPE + SuccessiveHalving"
COMPARED = [("bayes + asha", "random"), ("random + asha", "random"), ("bayes", "random"),
            ("bayes + asha", OPTUNA), ("bayes + halving", "random"), ("random + halving", "random"),
            ("bayes + halving", OPTUNA)]


def ours(db, run_cap, methods=METHODS, steps=None):
    """{method label: {seed: row}} from the sweeps `NAME-seedN` in `db` (opened read-only), for
    the (NAME, label) pairs of `methods`: each with at least `run_cap` runs, all finished. The
    best val is that of a run trained to the full `steps` (given: every run's, but one stopped
    early or at a short rung never counts)."""
    sql = """SELECT sweep, min(CASE WHEN :steps IS NULL OR steps_done = :steps THEN val_loss END),
                    sum(steps_done),
                    (julianday(max(finished_at)) - julianday(min(started_at))) * 1440, count(*),
                    group_concat(DISTINCT git_commit), sum(finished_at IS NULL)
             FROM runs_wide GROUP BY sweep"""
    found = {}
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        for sweep, best, steps_trained, minutes, runs, commits, unfinished in conn.execute(sql, {"steps": steps}):
            match = re.fullmatch(r"(.+)-seed(\d+)", sweep)
            labels = dict(methods)
            if not match or match[1] not in labels or runs < run_cap or unfinished or best is None:
                continue
            found.setdefault(labels[match[1]], {})[int(match[2])] = {
                "best": best, "steps": steps_trained, "minutes": minutes, "commits": short(commits)}
    return {label: found[label] for _, label in methods if label in found}


def short(commits):
    """'99d5aea…-dirty' from the full hashes runs record (`-dirty`: built from a changed tree)."""
    return ", ".join(c[:7] + ("-dirty" if c.endswith("-dirty") else "") for c in (commits or "unknown").split(","))


def optuna(rows_file):
    """{OPTUNA: {seed: row}} from search_optuna.py's tab-separated rows."""
    found = {}
    lines = [line.split("\t") for line in open(rows_file) if line.strip() and not line.startswith("#")]
    head, body = lines[0], lines[1:]
    for cells in body:
        row = dict(zip(head, cells))
        seed = int(re.search(r"seed(\d+)$", row["study"])[1])
        found[seed] = {"best": float(row["best_val"]), "steps": int(row["steps_trained"]),
                       "minutes": float(row["minutes"])}
    return {OPTUNA: found} if found else {}


def spread(values):
    return statistics.stdev(values) if len(values) > 1 else 0.0


def span(values, fmt):
    low, high = min(values), max(values)
    return fmt.format(low) if low == high else f"{fmt.format(low)}–{fmt.format(high)}"


def results_table(searches, seeds):
    head = ["search", *(f"seed {s}" for s in seeds), "mean ± std best val", "steps per search",
            "minutes per search"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    full = max((r["steps"] for rows in searches.values() for r in rows.values()), default=1)
    for label, rows in searches.items():
        bests = [rows[s]["best"] for s in seeds if s in rows]
        steps = [rows[s]["steps"] for s in seeds if s in rows]
        share = f" ({statistics.mean(steps) / full:.0%})" if statistics.mean(steps) < full else ""
        cells = [label, *(f"{rows[s]['best']:.4f}" if s in rows else "-" for s in seeds),
                 f"{statistics.mean(bests):.4f} ± {spread(bests):.4f}",
                 span(steps, "{:,}") + share, span([rows[s]["minutes"] for s in rows], "{:.1f}")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def differences(searches, compared=COMPARED, wall=False):
    """One line per compared pair: the difference of mean best val, its standard error, and
    whether it stands out of the spread; how it compares seed by seed; the share of steps (and with `wall`, of minutes)."""
    lines = []
    for a, b in compared:
        if a not in searches or b not in searches:
            continue
        xs = [r["best"] for r in searches[a].values()]
        ys = [r["best"] for r in searches[b].values()]
        diff = statistics.mean(xs) - statistics.mean(ys)
        error = math.sqrt(spread(xs) ** 2 / len(xs) + spread(ys) ** 2 / len(ys))
        steps = statistics.mean(r["steps"] for r in searches[a].values()) / statistics.mean(
            r["steps"] for r in searches[b].values())
        verdict = ("within the spread (under two standard errors)" if abs(diff) < 2 * error
                   else ("lower" if diff < 0 else "higher") + ", beyond two standard errors")
        minutes = ""
        if wall:
            minutes = ", " + wall_time(searches[a], searches[b])
        lines.append(f"- {a} against {b}: mean best val {diff:+.4f} (standard error {error:.4f}), "
                     f"{verdict}; {seed_by_seed(searches[a], searches[b])}; {steps:.0%} of its "
                     f"training steps{minutes}.")
    return "\n".join(lines)


def seed_by_seed(a, b):
    """`a`'s best val against `b`'s on each seed both ran, as the table shows them (4 decimals):
    on how many it is lower and level, and where it is furthest behind, if anywhere."""
    diffs = {seed: round(round(a[seed]["best"], 4) - round(b[seed]["best"], 4), 4)
             for seed in sorted(a.keys() & b.keys())}
    text = f"lower on {sum(d < 0 for d in diffs.values())} of {len(diffs)} seeds"
    level = sum(d == 0 for d in diffs.values())
    if level:
        text += f", level on {level}"
    worst = max(diffs, key=diffs.get)
    if diffs[worst] > 0:
        text += f", at worst {diffs[worst]:+.4f} (seed {worst})"
    return text


def wall_time(a, b):
    """`a`'s wall time against `b`'s, seed by seed (their sweeps ran one after the other): the
    mean ratio, its range, and whether every seed agrees on which took longer."""
    ratios = [a[seed]["minutes"] / b[seed]["minutes"] for seed in sorted(a.keys() & b.keys())]
    low, high = min(ratios), max(ratios)
    verdict = ("longer on every seed" if low > 1 else "shorter on every seed" if high < 1
               else "within the seed-to-seed spread")
    return f"{statistics.mean(ratios):.0%} of its wall time (seed by seed {low:.0%}–{high:.0%}: {verdict})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("--run-cap", type=int, required=True)
    parser.add_argument("--steps", type=int, help="the runs' full steps; a best val is a run's trained to them")
    parser.add_argument("--optuna")
    parser.add_argument("--doc")
    parser.add_argument("--command")
    args = parser.parse_args()
    searches = ours(args.db, args.run_cap, steps=args.steps)
    if args.optuna:
        searches.update(optuna(args.optuna))
    if not searches:
        raise SystemExit(f"search_table: no finished search of {args.run_cap} runs in {args.db}")
    seeds = sorted({seed for rows in searches.values() for seed in rows})
    commits = sorted({r["commits"] for rows in searches.values() for r in rows.values() if "commits" in r})
    body = "\n\n".join([results_table(searches, seeds), differences(searches)])
    print(body)
    if args.doc:
        # The commit the harness binary was built from, as its runs recorded it.
        doc_table.write_section(args.doc, "search", body, args.command, ", ".join(commits))


if __name__ == "__main__":
    main()
