#!/usr/bin/env bash
# Halving's shape on the search benchmark: `bayes` + `halving` at each of SHAPES
# (ETA:MIN_STEPS:CAP) against random search, on bench/search.sh's space, budget and sampler
# SEEDS. Each shape's searches go into DIR/halving-etaETA-minMIN_STEPS-capCAP.db, random's into
# DIR/random.db, resumed if there; bench/shapes_table.py then writes the table into the section
# SECTION of docs/search.md.
#
#   bench/search_shapes.sh [NAMES_TXT] [DIR]   (defaults ../shared/data/names.txt, bench-shapes)
#   SHAPES="3:1000:29 6:1000:29" SEEDS="11 12 13" SECTION=search-shapes-held-out bench/search_shapes.sh
set -euo pipefail
cd "$(dirname "$0")/.."

data="$(realpath "${1:-../shared/data/names.txt}")"
dir="${2:-bench-shapes}"
shapes="${SHAPES:-3:1000:29 6:1000:29 5:2000:24 4:2500:19 3:3333:14}"
seeds="${SEEDS:-1 2 3 4 5 6 7 8 9 10}"
steps="${STEPS:-10000}"
eval_every="${EVAL_EVERY:-1000}"
section="${SECTION:-search-shapes}"

mkdir -p "$dir"
# One binary for every shape's searches (bench/search.sh alone would build and copy one per call).
bins=$(mktemp -d)
trap 'rm -rf "$bins"' EXIT
. bench/harness_copy.sh
HARNESS_BIN=$(harness_copy "$bins")
export HARNESS_BIN OPTUNA=0 TABLE=0 STEPS="$steps" EVAL_EVERY="$eval_every" SEEDS="$seeds"
VARIANTS=random:plain bench/search.sh "$data" "$dir/random.db"
for shape in $shapes; do
    IFS=: read -r eta min_steps cap <<< "$shape"
    HALVING_ETA=$eta HALVING_MIN_STEPS=$min_steps HALVING_CAP=$cap VARIANTS=bayes:halving \
        bench/search.sh "$data" "$dir/halving-eta$eta-min$min_steps-cap$cap.db"
done
python3 bench/shapes_table.py "$dir" --shapes "$shapes" --seeds "$seeds" --steps "$steps" \
    --doc docs/search.md --section "$section" \
    --command "SHAPES=\"$shapes\" SEEDS=\"$seeds\" STEPS=$steps EVAL_EVERY=$eval_every SECTION=$section bench/search_shapes.sh NAMES_TXT $dir"
