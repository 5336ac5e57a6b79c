"""Writes a bench script's result into the docs page that shows it: a section between two
marker comments, replaced whole on each run, headed by when, where and how it was measured
(date, CPU model, cores and the vector extensions that matter, commit, exact command).
No figure in the docs is typed by hand: the scripts call `write_section`."""

import datetime
import os
import platform
import re
import subprocess


def machine():
    """'Intel(R) Xeon(R) ... (2 cores, avx2, avx512f)': what the numbers depend on."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
    except OSError:
        pass
    vector = [f for f in ("avx2", "fma", "avx512f") if f in flags]
    return f"{model} ({os.cpu_count()} cores{', ' + ', '.join(vector) if vector else ''})"


def commit():
    """The commit measured, marked `+changes` when the work tree differs from it outside docs/
    (where the benches write)."""
    run = lambda *args: subprocess.run(["git", *args], capture_output=True, text=True).stdout.strip()
    head = run("rev-parse", "--short", "HEAD") or "unknown"
    changed = run("status", "--porcelain", "--untracked-files=no", "--", ":/", ":(exclude,top)docs")
    return head + ("+changes" if changed else "")


def write_section(doc, name, body, command, measured_commit):
    """Replaces the section `name` of the markdown file `doc` (between `<!-- bench:NAME -->`
    and `<!-- /bench:NAME -->`, appended when absent) with a provenance line and `body`.
    `measured_commit`: `commit()` as it was when the bench built what it measured (the work
    tree may change while a long bench runs)."""
    stamp = (
        f"Measured {datetime.date.today().isoformat()} on {machine()}, commit {measured_commit}, "
        f"by `{command}`."
    )
    replace_section(doc, name, stamp, body)


def replace_section(doc, name, stamp, body):
    """`write_section` with a provenance line given whole: for text derived from another
    section, which keeps that section's line."""
    section = f"<!-- bench:{name} -->\n{stamp}\n\n{body.rstrip()}\n<!-- /bench:{name} -->"
    text = open(doc).read() if os.path.exists(doc) else ""
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip() + ("\n\n" if text else "") + section + "\n"
    with open(doc, "w") as out:
        out.write(text)
