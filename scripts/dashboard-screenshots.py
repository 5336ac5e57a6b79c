"""Takes the dashboard's screenshots in docs/ from real sweeps (scripts/dashboard-screenshots.sh
runs this): a short random search with ASHA and a small grid with three seeds, trained on the
names dataset, served by `harness serve`, and photographed in Debian's headless chromium
through chromedriver's WebDriver API."""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from chromium import Chromium, free_port  # noqa: E402

ASHA = """name: random-asha-demo
description: A short random search with ASHA.
method: random
run_cap: 24
sampler_seed: 5
metric: {name: val_loss, goal: minimize}
checkpoint_every: 1000
parameters:
  model: {value: wavenet}
  n_embd: {distribution: int_uniform, min: 8, max: 32}
  n_hidden: {distribution: q_uniform, min: 32, max: 192, q: 32}
  lr: {distribution: log_uniform_values, min: 0.003, max: 0.5}
  steps: {value: 12000}
  eval_every: {value: 1000}
early_terminate: {type: asha, min_iter: 2, eta: 3}
"""

SEEDS = """name: lr-width-seeds
description: Learning rate × width, three seeds each.
method: grid
metric: {name: val_loss, goal: minimize}
parameters:
  model: {value: wavenet}
  n_hidden: {values: [32, 68]}
  lr: {values: [0.03, 0.1]}
  seed: {values: [1, 2, 3]}
  steps: {value: 10000}
  eval_every: {value: 1000}
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--harness", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", default="docs")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="harness-shots-")
    db = os.path.join(work, "demo.db")
    for name, text in (("asha", ASHA), ("seeds", SEEDS)):
        spec = os.path.join(work, f"{name}.yaml")
        open(spec, "w").write(text)
        subprocess.run([args.harness, "launch", spec, "--data", args.data, "--db", db, "--workers", "2"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    query = lambda sql: json.loads(subprocess.run([args.harness, "query", "--db", db, "--format", "json", sql],
                                                  capture_output=True, text=True, check=True).stdout)
    stopped = query("SELECT run FROM runs_wide WHERE sweep = 'random-asha-demo' AND status = 'stopped' "
                    "ORDER BY val_loss LIMIT 1")[0]["run"]
    best = query("SELECT run FROM runs_wide WHERE sweep = 'random-asha-demo' AND status = 'completed' "
                 "ORDER BY val_loss LIMIT 2")
    port = free_port()
    server = subprocess.Popen([args.harness, "serve", "--db", db, "--addr", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    browser = Chromium(1400, 1500)
    base = f"http://127.0.0.1:{port}"
    ids = ",".join(str(r["run"]) for r in best) + f",{stopped}"
    pages = {
        "dashboard-sweep.png": "/sweep/random-asha-demo",
        "dashboard-folded.png": "/sweep/lr-width-seeds?fold=1&smooth=0.8",
        "dashboard-run.png": f"/run/{stopped}",
        "dashboard-compare.png": f"/compare?runs={ids}",
        "dashboard-sweeps.png": "/",
    }
    try:
        for name, page in pages.items():
            browser.open(base + page)
            browser.until("return document.getElementById('main').dataset.rendered")
            time.sleep(0.5)
            browser.screenshot(os.path.join(args.out, name))
            print(f"screenshots: docs/{name}", file=sys.stderr)
    finally:
        browser.close()
        server.kill()


if __name__ == "__main__":
    main()
