"""README's speed headline, derived from the table bench/run.sh wrote into docs/performance.md
(never typed): the lecture's model on one CPU thread against PyTorch eager and torch.compile,
at each batch size measured, with that table's own provenance line. bench/run.sh calls it
after writing the table; it can be run alone after editing the wording.

    python3 bench/headline.py [docs/performance.md] [README.md]
"""

import re
import sys

import doc_table


def section(text, name):
    match = re.search(rf"<!-- bench:{name} -->\n(.*?)<!-- /bench:{name} -->", text, re.S)
    if not match:
        sys.exit(f"headline: no section `{name}` in the performance page: run bench/run.sh first")
    return match[1]


def rows(table_text):
    """The markdown table's rows as dicts keyed by its header."""
    lines = [line for line in table_text.splitlines() if line.startswith("|")]
    head = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [dict(zip(head, (cell.strip() for cell in line.strip("|").split("|")))) for line in lines[2:]]


def median(cell):
    """'2.96× (2.69–3.05)' → '2.96×'."""
    return cell.split(" ")[0]


def main():
    performance = sys.argv[1] if len(sys.argv) > 1 else "docs/performance.md"
    readme = sys.argv[2] if len(sys.argv) > 2 else "README.md"
    measured = section(open(performance).read(), "run")
    stamp = measured.strip().splitlines()[0]
    ours = [r for r in rows(measured) if r["implementation"] == "flex" and r["threads"] == "1"]
    if not ours:
        sys.exit("headline: the run table has no one-thread `flex` row")
    per_batch = ", ".join(f"{median(r['vs compile'])} at batch {int(r['batch_size']):,}" for r in ours)
    first = ours[0]
    body = (f"**Speed.** On one CPU thread the lecture's final model trains at {median(first['vs compile'])} "
            f"the steps/s of `torch.compile` ({median(first['vs eager'])} PyTorch eager) at batch "
            f"{first['batch_size']}; against `torch.compile`: {per_batch}; a validation pass takes "
            f"1/{median(first['val pass vs eager']).rstrip('×')} of eager PyTorch's time. "
            f"[docs/performance.md](docs/performance.md) has every row, each model and two threads.")
    doc_table.replace_section(readme, "headline-speed", stamp, body)


if __name__ == "__main__":
    main()
