#!/usr/bin/env bash
# How well a run's early validation loss predicts its loss at the end (bench/fidelity.py), on
# the search benchmark's random searches (bench/search.sh's `random-plain` sweeps, resumed or
# run into DB): part-way through each run, and at the end of runs of the same configurations
# that are SHORT steps long, their schedules ending there (the same searches with fewer steps,
# each into DB-STEPS.db). Writes the table into docs/search.md.
#
#   bench/fidelity.sh [NAMES_TXT] [DB]   (defaults ../shared/data/names.txt, bench-search.db)
#   STEPS=10000 EVAL_EVERY=1000 SEEDS="1 2 3 4 5" SHORT="1000 3000" bench/fidelity.sh
#   RUN_CAP, WORKERS and HARNESS_BIN as for bench/search.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

data="$(realpath "${1:-../shared/data/names.txt}")"
db="${2:-bench-search.db}"
steps="${STEPS:-20000}"
eval_every="${EVAL_EVERY:-2000}"
short="${SHORT:-$((steps / 10)) $((steps * 3 / 10))}"
export RUN_CAP="${RUN_CAP:-24}" SEEDS="${SEEDS:-1 2 3}" WORKERS="${WORKERS:-2}"

random_searches() {
    VARIANTS=random:plain OPTUNA=0 TABLE=0 STEPS=$1 EVAL_EVERY=$2 bench/search.sh "$data" "$3"
}
random_searches "$steps" "$eval_every" "$db"
shorter=()
for length in $short; do
    random_searches "$length" "$((eval_every < length ? eval_every : length))" "${db%.db}-$length.db"
    shorter+=(--short "${db%.db}-$length.db")
done
command="STEPS=$steps EVAL_EVERY=$eval_every SEEDS=\"$SEEDS\" SHORT=\"$short\" bench/fidelity.sh NAMES_TXT $db"
python3 bench/fidelity.py "$db" "${shorter[@]}" --doc docs/search.md --command "$command"
