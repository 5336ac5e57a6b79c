"""Issue 14's search benchmark, Optuna's side: Optuna's TPE sampler with its
SuccessiveHalvingPruner, training the lecture's WaveNet in PyTorch (torch.nn, torch.optim SGD,
the lecture's initialisation and step schedule) on the same search space, run budget, steps
and evaluations as bench/search.sh gives the harness, on the harness's own train/val items
(`harness split`). One study per sampler seed, two worker processes of one thread each (as the
harness's two workers), trials in one Optuna journal file so that an interrupted benchmark
resumes: finished trials are kept, trials cut off mid-way are failed and run again.

    python bench/search_optuna.py SPLIT_DIR JOURNAL [--seeds 1 2 3] [--run-cap 24]
        [--steps 20000] [--eval-every 2000] [--workers 2]

Prints one row per study: the best val, the training steps all trials did, the minutes from
the first trial's start to the last one's end, trials, and trials pruned.
"""

import argparse
import math
import multiprocessing
import time
import warnings

warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
import optuna  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from optuna.storages import JournalStorage  # noqa: E402
from optuna.storages.journal import JournalFileBackend  # noqa: E402
from optuna.trial import TrialState  # noqa: E402

from torch_models import WaveNet, examples  # noqa: E402

COUNTED = (TrialState.COMPLETE, TrialState.PRUNED)


def lecture_init(model):
    """The lecture's initialisation: Linear weights ~ N(0, 1/fan_in), the last layer's scaled
    by 0.1 and its bias zero (torch.nn's defaults are uniform and smaller)."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Linear):
                torch.nn.init.normal_(module.weight, std=module.in_features**-0.5)
        model.head.weight *= 0.1
        model.head.bias.zero_()


def load_splits(split_dir):
    words = {part: open(f"{split_dir}/{part}.txt").read().splitlines() for part in ("train", "val")}
    chars = sorted(set("".join(words["train"] + words["val"])))
    stoi = {c: i + 1 for i, c in enumerate(chars)}
    stoi["."] = 0
    return words, stoi


class Objective:
    def __init__(self, args):
        self.args = args
        self.words, self.stoi = load_splits(args.split_dir)
        self.data = {}

    def split(self, block):
        if block not in self.data:
            self.data[block] = {part: examples(w, self.stoi, block) for part, w in self.words.items()}
        return self.data[block]

    def __call__(self, trial):
        args = self.args
        lr = trial.suggest_float("lr", 0.003, 0.5, log=True)
        n_embd = trial.suggest_int("n_embd", 8, 32)
        n_hidden = trial.suggest_int("n_hidden", 32, 128, step=32)
        block = trial.suggest_categorical("block_size", [4, 8, 16])
        torch.manual_seed(trial.number)
        data = self.split(block)
        (xtr, ytr), (xval, yval) = data["train"], data["val"]
        model = WaveNet(len(self.stoi), n_embd, n_hidden, block)
        lecture_init(model)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        evaluations = args.steps // args.eval_every
        for evaluation in range(1, evaluations + 1):
            model.train()
            for step in range((evaluation - 1) * args.eval_every, evaluation * args.eval_every):
                # The lecture's (and the harness's default) step schedule: lr / 10 after 75%.
                optimizer.param_groups[0]["lr"] = lr if step < 0.75 * args.steps else lr / 10
                ix = torch.randint(0, xtr.shape[0], (32,))
                loss = F.cross_entropy(model(xtr[ix]), ytr[ix])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            model.eval()
            with torch.no_grad():
                val = F.cross_entropy(model(xval), yval).item()
            trial.set_user_attr("steps", evaluation * args.eval_every)
            trial.set_user_attr("val", val)
            if not math.isfinite(val):
                # Diverged: a result with no value, as the harness records it.
                raise optuna.TrialPruned()
            trial.report(val, evaluation)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return val


def storage(journal):
    return JournalStorage(JournalFileBackend(journal))


def sampler(seed):
    # As the harness's bayes: 10 random trials first, running trials as the constant liar.
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=10, constant_liar=True)


def pruner():
    # As the harness's asha (min_iter 2, eta 3): rungs at 2 and 6 evaluations.
    return optuna.pruners.SuccessiveHalvingPruner(min_resource=2, reduction_factor=3)


def worker(args, name, seed):
    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=name, storage=storage(args.journal), sampler=sampler(seed), pruner=pruner())
    stop = optuna.study.MaxTrialsCallback(args.run_cap, states=COUNTED + (TrialState.RUNNING,))
    if len(study.get_trials(deepcopy=False, states=COUNTED + (TrialState.RUNNING,))) < args.run_cap:
        study.optimize(Objective(args), callbacks=[stop])


def run_study(args, seed):
    name = f"optuna-tpe-sha-seed{seed}"
    journal = storage(args.journal)
    study = optuna.create_study(study_name=name, storage=journal, direction="minimize", load_if_exists=True)
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        # Cut off by an earlier interruption: no process of ours runs it now.
        journal.set_trial_state_values(trial._trial_id, TrialState.FAIL)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=worker, args=(args, name, seed)) for _ in range(args.workers)]
    for process in workers:
        process.start()
    for process in workers:
        process.join()
        if process.exitcode != 0:
            raise SystemExit(f"a worker of {name} exited with {process.exitcode}")
    return name, summary(study, args.run_cap)


def summary(study, run_cap):
    # A race between the workers can start one trial too many: the first run_cap count.
    trials = sorted(study.get_trials(deepcopy=False, states=COUNTED), key=lambda t: t.number)[:run_cap]
    vals = [t.user_attrs["val"] for t in trials if math.isfinite(t.user_attrs.get("val", math.nan))]
    start = min(t.datetime_start for t in trials)
    end = max(t.datetime_complete for t in trials)
    return {
        "best_val": f"{min(vals):.4f}",
        "steps_trained": sum(t.user_attrs.get("steps", 0) for t in trials),
        "minutes": f"{(end - start).total_seconds() / 60:.1f}",
        "runs": len(trials),
        "stopped": sum(t.state == TrialState.PRUNED for t in trials),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("split_dir", help="folder with train.txt and val.txt from `harness split`")
    parser.add_argument("journal", help="Optuna journal file (created, or resumed)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--run-cap", type=int, default=24)
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--eval-every", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    started = time.perf_counter()
    rows = [run_study(args, seed) for seed in args.seeds]
    columns = ["best_val", "steps_trained", "minutes", "runs", "stopped"]
    print("\t".join(["study"] + columns))
    for name, row in rows:
        print("\t".join([name] + [str(row[c]) for c in columns]))
    print(f"# {time.perf_counter() - started:.0f} s in this invocation")


if __name__ == "__main__":
    main()
