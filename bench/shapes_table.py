"""Halving's shape on the search benchmark (bench/search_shapes.sh): random search and
`bayes` + `halving` at each shape, seed by seed, read from the databases the script fills
(DIR/random.db, DIR/halving-etaETA-minMIN_STEPS-capCAP.db), each shape named by the rungs its
runs trained; then each shape against random, as bench/search_table.py compares searches.

    python3 bench/shapes_table.py DIR --shapes "6:1000:29 …" --seeds "1 2 3" --steps 10000
        [--doc docs/search.md --section search-shapes --command "…"]
"""

import argparse
import sqlite3

import doc_table
import search_table

RANDOM = "random"
RANDOM_RUNS = 24


def rungs(db, seed):
    """'29 at 1,667 steps → 4 at 10,000': the runs of each rung of the sweep of `seed`."""
    sql = """SELECT steps, count(*) FROM runs_wide WHERE sweep = ? GROUP BY steps ORDER BY steps"""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        counts = conn.execute(sql, (f"bayes-halving-seed{seed}",)).fetchall()
    return " → ".join(f"{runs} at {steps:,}" for steps, runs in counts)


def of_seeds(rows, seeds):
    return {seed: row for seed, row in rows.items() if seed in seeds}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir")
    parser.add_argument("--shapes", required=True, help="ETA:MIN_STEPS:CAP, space-separated")
    parser.add_argument("--seeds", required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--doc")
    parser.add_argument("--section")
    parser.add_argument("--command")
    args = parser.parse_args()
    seeds = [int(seed) for seed in args.seeds.split()]
    random = search_table.ours(f"{args.dir}/random.db", RANDOM_RUNS, [("random-plain", RANDOM)], args.steps)
    searches = {RANDOM: of_seeds(random.get(RANDOM, {}), seeds)}
    for shape in args.shapes.split():
        eta, min_steps, cap = shape.split(":")
        db = f"{args.dir}/halving-eta{eta}-min{min_steps}-cap{cap}.db"
        found = search_table.ours(db, int(cap), [("bayes-halving", shape)], args.steps)
        label = f"bayes + halving, eta {eta}: {rungs(db, seeds[0])}"
        searches[label] = of_seeds(found.get(shape, {}), seeds)
    missing = [label for label, rows in searches.items() if sorted(rows) != seeds]
    if missing:
        raise SystemExit(f"shapes_table: not every seed finished for {', '.join(missing)} in {args.dir}")
    commits = sorted({r["commits"] for rows in searches.values() for r in rows.values()})
    compared = [(label, RANDOM) for label in searches if label != RANDOM]
    body = "\n\n".join([search_table.results_table(searches, seeds),
                        search_table.differences(searches, compared)])
    print(body)
    if args.doc:
        doc_table.write_section(args.doc, args.section, body, args.command, ", ".join(commits))


if __name__ == "__main__":
    main()
