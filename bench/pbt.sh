#!/usr/bin/env bash
# Issue 33's benchmark: population-based training of makemore's Transformer against the best
# fixed schedule found for it (docs/results.md: AdamW 1e-3 cosine to 1e-5, weight decay 0.1,
# dropout 0.15, 60,000 steps of batch 32, 3-seed test 1.9196 ± 0.0008). For each seed k a
# population of POPULATION members (sampler_seed k, model seed 41 + k) trains STEPS steps of
# the same schedule with lr, weight decay and dropout drawn around the tuned values, exploited
# every INTERVAL evaluations and explored over the same ranges; the best member by val is the
# population's result. Every population goes into one database and is resumed if there
# already, so an interrupted benchmark continues where it stopped; exploits do not depend on
# timing, so a resumed or contended run ends the same. bench/pbt_table.py then records each
# finished population in docs/pbt-populations.json (a database does not outlive its machine)
# and writes the table of every recorded population into docs/pbt.md.
#
#   bench/pbt.sh [NAMES_TXT] [DB]   (defaults ../shared/data/names.txt, bench-pbt.db)
#   SEEDS="1 2 3" POPULATION=8 STEPS=60000 EVAL_EVERY=2000 INTERVAL=3 WORKERS=2 bench/pbt.sh
#   HARNESS_BIN=PATH runs that binary instead of building this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

data="$(realpath "${1:-../shared/data/names.txt}")"
db="${2:-bench-pbt.db}"
seeds="${SEEDS:-1 2 3}"
population="${POPULATION:-8}"
steps="${STEPS:-60000}"
eval_every="${EVAL_EVERY:-2000}"
interval="${INTERVAL:-3}"
workers="${WORKERS:-2}"

specs=$(mktemp -d)
trap 'rm -rf "$specs"' EXIT
. bench/harness_copy.sh
harness=$(harness_copy "$specs")

population() {
    local seed=$1 name=$2
    cat <<YAML
name: $name
method: random
sampler_seed: $seed
metric: {name: val_loss, goal: minimize}
checkpoint_every: $eval_every
parameters:
  model: {value: transformer}
  lr: {distribution: log_uniform_values, min: 0.0003, max: 0.003}
  lr_schedule: {value: cosine}
  lr_final: {value: 0.00001}
  weight_decay: {distribution: log_uniform_values, min: 0.03, max: 0.3}
  dropout: {distribution: uniform, min: 0.05, max: 0.3}
  steps: {value: $steps}
  eval_every: {value: $eval_every}
  seed: {value: $((41 + seed))}
pbt:
  population: $population
  interval: $interval
  mutate: [lr, weight_decay, dropout]
YAML
}

names=()
for seed in $seeds; do
    name="pbt-transformer-seed$seed"
    names+=("$name")
    population "$seed" "$name" > "$specs/$name.yaml"
    if "$harness" status "$name" --db "$db" > /dev/null 2>&1; then
        "$harness" resume "$name" --db "$db" --workers "$workers" --threads 1 > /dev/null
    else
        "$harness" launch "$specs/$name.yaml" --data "$data" --db "$db" --workers "$workers" --threads 1 > /dev/null
    fi
done
command="SEEDS=\"$seeds\" POPULATION=$population STEPS=$steps EVAL_EVERY=$eval_every INTERVAL=$interval WORKERS=$workers bench/pbt.sh NAMES_TXT $db"
python3 bench/pbt_table.py "$db" "${names[@]}" --doc docs/pbt.md --command "$command"
