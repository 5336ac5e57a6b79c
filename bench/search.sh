#!/usr/bin/env bash
# Issue 14's search benchmark, our side: on one search space — the lecture's WaveNet with lr
# (log-uniform), n_embd, n_hidden and block_size — and one budget of runs and steps, the best
# val found by random, bayes, each alone, with asha and with halving, each over several sampler seeds, with
# the training steps each spent and its wall time. Then the same for Optuna (TPE with its
# SuccessiveHalvingPruner, bench/search_optuna.py: PyTorch, the lecture's model) on the same
# items (`harness split`), space and budget. Every sweep goes into one database, every study
# into one Optuna journal beside it, and both are resumed if there already, so an interrupted
# benchmark continues where it stopped.
#
#   bench/search.sh [NAMES_TXT] [DB]   (defaults ../shared/data/names.txt, bench-search.db)
#   RUN_CAP=24 STEPS=20000 EVAL_EVERY=2000 SEEDS="1 2 3" WORKERS=2 bench/search.sh
#   VARIANTS="random:asha bayes:asha" runs only those searches (each METHOD:plain, :asha or
#   :halving, successive halving with restarts: HALVING_CAP configurations, default 29, the most
#   whose steps stay within 40% of random's, from HALVING_MIN_STEPS, default STEPS / 10, at
#   HALVING_ETA, default 6: one cut, from a sixth of the steps, see docs/search.md);
#   RANDOM_FRACTION=F gives bayes searches `random_fraction: F`; ORDERS="run arrival" runs
#   each asha search in both orders of verdicts (`early_terminate.order`; arrival ones are
#   named METHOD-asha-arrival-seedN). bench/verdict_order.sh uses both.
#   HARNESS_BIN=PATH runs that binary instead of building this checkout (to measure another
#   commit's searches beside these). OPTUNA=0 skips Optuna's side. It needs torch
#   (scripts/setup-libtorch.sh's venv) and optuna==5.0.0, which it installs once into a venv of
#   its own that sees that torch.
# bench/search_table.py then writes the table into docs/search.md (with OPTUNA=0, prints it).
# bench/search_shapes.sh compares halving's shapes on more sampler seeds with this script.
# bench/fidelity.sh measures, on the same random searches, why early termination errs here.
set -euo pipefail
cd "$(dirname "$0")/.."

data="$(realpath "${1:-../shared/data/names.txt}")"
db="${2:-bench-search.db}"
run_cap="${RUN_CAP:-24}"
steps="${STEPS:-20000}"
eval_every="${EVAL_EVERY:-2000}"
seeds="${SEEDS:-1 2 3}"
workers="${WORKERS:-2}"
variants="${VARIANTS:-random:plain bayes:plain random:asha bayes:asha random:halving bayes:halving}"
halving_cap="${HALVING_CAP:-29}"
halving_min_steps="${HALVING_MIN_STEPS:-$((steps / 10))}"
halving_eta="${HALVING_ETA:-6}"
orders="${ORDERS:-run}"
random_fraction="${RANDOM_FRACTION:-}"

specs=$(mktemp -d)
trap 'rm -rf "$specs"' EXIT
. bench/harness_copy.sh
harness=$(harness_copy "$specs")

# One sweep file per method and seed: the same space, budget and evaluations for all.
sweep() {
    local method=$1 kind=$2 seed=$3 name=$4 order=$5
    cat <<YAML
name: $name
method: $method
run_cap: $([ "$kind" = halving ] && echo "$halving_cap" || echo "$run_cap")
sampler_seed: $seed
$([ "$method" = bayes ] && [ -n "$random_fraction" ] && echo "random_fraction: $random_fraction")
metric: {name: val_loss, goal: minimize}
checkpoint_every: $eval_every
parameters:
  model: {value: wavenet}
  lr: {distribution: log_uniform_values, min: 0.003, max: 0.5}
  n_embd: {distribution: int_uniform, min: 8, max: 32}
  n_hidden: {distribution: q_uniform, min: 32, max: 128, q: 32}
  block_size: {values: [4, 8, 16]}
  steps: {value: $steps}
  eval_every: {value: $eval_every}
YAML
    case $kind in
        asha) echo "early_terminate: {type: asha, min_iter: 2, eta: 3, order: $order}" ;;
        halving) echo "halving: {min_steps: $halving_min_steps, eta: $halving_eta}" ;;
    esac
}

names=()
for seed in $seeds; do
    for variant in $variants; do
        for order in $orders; do
            method=${variant%%:*} kind=${variant##*:}
            name="$method-$kind-seed$seed"
            if [ "$order" != run ]; then
                [ "$kind" = asha ] || continue
                name="$method-$kind-$order-seed$seed"
            fi
            names+=("$name")
            sweep "$method" "$kind" "$seed" "$name" "$order" > "$specs/$name.yaml"
            if "$harness" status "$name" --db "$db" > /dev/null 2>&1; then
                "$harness" resume "$name" --db "$db" --workers "$workers" --threads 1 > /dev/null
            else
                "$harness" launch "$specs/$name.yaml" --data "$data" --db "$db" --workers "$workers" --threads 1 > /dev/null
            fi
        done
    done
done
if [ "${TABLE:-1}" = 0 ]; then
    exit 0
fi

command="${VARIANTS:+VARIANTS=\"$variants\" }${random_fraction:+RANDOM_FRACTION=$random_fraction }RUN_CAP=$run_cap HALVING_CAP=$halving_cap ${HALVING_MIN_STEPS:+HALVING_MIN_STEPS=$halving_min_steps }HALVING_ETA=$halving_eta STEPS=$steps EVAL_EVERY=$eval_every SEEDS=\"$seeds\" WORKERS=$workers bench/search.sh NAMES_TXT $db"
if [ "${OPTUNA:-1}" = 0 ]; then
    python3 bench/search_table.py "$db" --run-cap "$run_cap" --steps "$steps"
    exit 0
fi
eval "$(scripts/setup-libtorch.sh)"
optuna_venv="$(dirname "$HARNESS_TORCH_VENV")/optuna-5.0.0"
if ! "$optuna_venv/bin/python" -c 'import optuna, torch' 2>/dev/null; then
    python3 -m venv "$optuna_venv"
    "$optuna_venv/bin/pip" install --quiet --disable-pip-version-check optuna==5.0.0 >&2
    # The torch of setup-libtorch.sh's venv, seen through a .pth file rather than installed twice.
    torch_site=$("$HARNESS_TORCH_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
    optuna_site=$("$optuna_venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
    echo "$torch_site" > "$optuna_site/torch-venv.pth"
fi
"$harness" split --data "$data" --out-dir "$specs/split" 2> /dev/null
"$optuna_venv/bin/python" bench/search_optuna.py "$specs/split" "${db%.db}-optuna.journal" \
    --seeds $seeds --run-cap "$run_cap" --steps "$steps" --eval-every "$eval_every" --workers "$workers" \
    > "$specs/optuna.tsv"
python3 bench/search_table.py "$db" --run-cap "$run_cap" --steps "$steps" --optuna "$specs/optuna.tsv" \
    --doc docs/search.md --command "$command"
