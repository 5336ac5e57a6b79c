#!/usr/bin/env bash
# What judging in run order costs (issue 32): bench/search.sh's random and bayes searches with
# ASHA, each sweep once with `order: run` (the default: verdicts that do not depend on timing)
# and once with `order: arrival` (W&B's), interleaved seed by seed so that both see the same
# machine; then bench/order_table.py writes the table into docs/search.md. Resumes what an
# earlier invocation left in DB.
#
#   bench/verdict_order.sh [NAMES_TXT] [DB]   (defaults ../shared/data/names.txt, bench-order.db)
#   RUN_CAP, STEPS, EVAL_EVERY, SEEDS, WORKERS: as bench/search.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

db="${2:-bench-order.db}"
export RUN_CAP="${RUN_CAP:-24}" STEPS="${STEPS:-10000}" EVAL_EVERY="${EVAL_EVERY:-1000}"
export SEEDS="${SEEDS:-1 2 3}" WORKERS="${WORKERS:-2}"
VARIANTS="random:asha bayes:asha" ORDERS="run arrival" OPTUNA=0 TABLE=0 \
    bench/search.sh "${1:-../shared/data/names.txt}" "$db"
command="RUN_CAP=$RUN_CAP STEPS=$STEPS EVAL_EVERY=$EVAL_EVERY SEEDS=\"$SEEDS\" WORKERS=$WORKERS bench/verdict_order.sh NAMES_TXT $db"
python3 bench/order_table.py "$db" --run-cap "$RUN_CAP" --doc docs/search.md --command "$command"
