"""The speed table of bench/run.sh, models.sh and sequence.sh, from the JSON lines their runs
print (`harness bench`, bench/torch_models.py, makemore_models.py, reference.py): per group
(a batch size and thread count, or a model) and implementation, the median steps/s and
validation pass over the rounds, and the ratios to PyTorch eager and to torch.compile in the
same group. Each ratio is taken round by round (the implementations alternate within a
round, so noise hits them alike) and given as its median with the range over rounds; where
that range holds 1, the table says the two are within the run-to-run spread.

    python3 bench/speed_table.py LINES --group batch_size,threads --title TEXT \\
        --doc docs/performance.md --section NAME --command "bench/run.sh …" --commit C
"""

import argparse
import json
import statistics
import sys

import doc_table

EAGER, COMPILED = "pytorch", "pytorch-compile"


def ratio_cell(ours, base, higher_is_better=True):
    """'1.42× (1.38–1.47)' from per-round values of ours and of the base; '-' without a base;
    '≈ 1 (within spread)' marked where the range holds 1."""
    pairs = [(o, b) for o, b in zip(ours, base) if o and b]
    if not pairs:
        return "-"
    ratios = [o / b if higher_is_better else b / o for o, b in pairs]
    low, mid, high = min(ratios), statistics.median(ratios), max(ratios)
    text = f"{mid:.2f}×" if len(ratios) == 1 else f"{mid:.2f}× ({low:.2f}–{high:.2f})"
    return text + (", within spread" if len(ratios) > 1 and low <= 1.0 <= high else "")


def table(runs, group_keys):
    """Markdown rows: group values, implementation, parameters, steps/s, the two ratios,
    validation pass seconds and its ratio to eager."""
    keyed = {}
    for run in runs:
        group = tuple(run.get(k) for k in group_keys)
        keyed.setdefault(group, {}).setdefault(run["impl"], []).append(run)
    head = [*group_keys, "implementation", "params", "steps/s", "vs eager", "vs compile", "val pass (s)",
            "val pass vs eager"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for group, impls in keyed.items():
        per_round = {impl: [r["steps_per_sec"] for r in rs] for impl, rs in impls.items()}
        evals = {impl: [r["eval_seconds"] for r in rs] for impl, rs in impls.items()}
        for impl, rs in impls.items():
            speed, seconds = per_round[impl], evals[impl]
            cells = [*map(str, group), impl, f"{rs[0].get('params', '-'):,}",
                     f"{statistics.median(speed):.1f}",
                     ratio_cell(speed, per_round.get(EAGER, [])) if impl != EAGER else "–",
                     ratio_cell(speed, per_round.get(COMPILED, [])) if impl != COMPILED else "–",
                     f"{statistics.median(seconds):.3f}",
                     # A shorter pass is better: eager's seconds over ours.
                     ratio_cell(seconds, evals.get(EAGER, []), higher_is_better=False) if impl != EAGER else "–"]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lines")
    parser.add_argument("--group", required=True, help="comma-separated fields of the JSON lines")
    parser.add_argument("--title", required=True)
    parser.add_argument("--doc")
    parser.add_argument("--section")
    parser.add_argument("--command")
    parser.add_argument("--commit")
    args = parser.parse_args()
    runs = [json.loads(line) for line in open(args.lines) if line.strip()]
    if not runs:
        sys.exit("speed_table: no measurements")
    body = (f"{args.title}\n\n{table(runs, args.group.split(','))}\n\nRatios above 1: faster than that "
            "PyTorch (a validation pass: shorter); the median over rounds, with its range.")
    print(body)
    if args.doc:
        doc_table.write_section(args.doc, args.section, body, args.command, args.commit)


if __name__ == "__main__":
    main()
