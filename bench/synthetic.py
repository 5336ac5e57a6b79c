"""Synthetic sweeps for the benches that measure the harness at scale (scale.py, serve.py):
one real template run, trained by `harness launch`, copied N times by `results`' example
`synthetic_sweep` through the store's own writes."""

import os
import subprocess
import time


class Template:
    """The template sweep `name` (its sweep file `text`) trained once into `work`."""

    def __init__(self, harness, synthetic, data, work, name, text):
        self.synthetic, self.name = synthetic, name
        self.db = os.path.join(work, "template.db")
        spec = os.path.join(work, "template.yaml")
        open(spec, "w").write(text)
        subprocess.run([harness, "launch", spec, "--data", data, "--db", self.db],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def copies(self, runs, db):
        """`runs` copies of the template run in a new database `db`: (the sweep's name, the
        seconds they took to build)."""
        started = time.time()
        name = subprocess.run([self.synthetic, self.db, self.name, str(runs), db],
                              capture_output=True, text=True, check=True).stdout.strip()
        return name, time.time() - started
