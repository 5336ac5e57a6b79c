"""The cost of early termination's verdicts in run order (bench/verdict_order.sh): random and
bayes searches with ASHA, each sweep in run order (`METHOD-asha-seedN`, the default) and in
arrival order (`METHOD-asha-arrival-seedN`, W&B's way), side by side — best val, training
steps and minutes per search — and the run-order searches against the arrival-order ones.

    python3 bench/order_table.py DB --run-cap 24 [--doc docs/search.md --command "…"]
"""

import argparse

import doc_table
import search_table

METHODS = [("random-asha", "random + asha, run order"), ("random-asha-arrival", "random + asha, arrival order"),
           ("bayes-asha", "bayes + asha, run order"), ("bayes-asha-arrival", "bayes + asha, arrival order")]
COMPARED = [(METHODS[0][1], METHODS[1][1]), (METHODS[2][1], METHODS[3][1])]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("--run-cap", type=int, required=True)
    parser.add_argument("--doc")
    parser.add_argument("--command")
    args = parser.parse_args()
    searches = search_table.ours(args.db, args.run_cap, METHODS)
    if not searches:
        raise SystemExit(f"order_table: no finished search of {args.run_cap} runs in {args.db}")
    seeds = sorted({seed for rows in searches.values() for seed in rows})
    commits = sorted({r["commits"] for rows in searches.values() for r in rows.values()})
    body = "\n\n".join([search_table.results_table(searches, seeds),
                        search_table.differences(searches, COMPARED, wall=True)])
    print(body)
    if args.doc:
        doc_table.write_section(args.doc, "verdict-order", body, args.command, ", ".join(commits))


if __name__ == "__main__":
    main()
