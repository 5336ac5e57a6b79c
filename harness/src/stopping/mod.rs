//! Early termination's rules as pure functions of the runs' validation values — W&B's
//! `hyperband`, ASHA with promotion (`asha`), Optuna's `median`, counted in evaluations — and
//! successive halving with restarts (`halving`), which ranks complete short runs instead.
//! `spec` reads them from a sweep file; `scheduler::judge` applies the first three, the
//! halving proposer the last. Nothing here knows workers or the store.

pub mod asha;
pub mod halving;
pub mod hyperband;
pub mod median;
pub mod sorted_values;

use serde::{Deserialize, Serialize};

use asha::Asha;
use hyperband::Hyperband;
use median::Median;

/// Whose values a verdict is made from (`early_terminate.order`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// The runs before it in run order (at ASHA's later rungs, in the order they were sent
    /// on): the same verdicts whatever the workers, their speed or crashes.
    #[default]
    Run,
    /// Every run as it stands when the run asks, as W&B judges: verdicts depend on timing.
    Arrival,
}

impl Order {
    const NAMES: [(&str, Order); 2] = [("run", Order::Run), ("arrival", Order::Arrival)];

    /// How `--dry-run` says it.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Run => "verdicts in run order, the same whatever the workers and their timing",
            Self::Arrival => "verdicts as runs arrive (W&B's way): they depend on timing",
        }
    }
}

impl std::str::FromStr for Order {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let found = Self::NAMES.iter().find(|(name, _)| *name == text);
        found.map(|(_, order)| *order).ok_or_else(|| {
            let names: Vec<String> = Self::NAMES.iter().map(|(name, _)| format!("`{name}`")).collect();
            format!(
                "unknown order `{text}`; the orders are {} (run: verdicts in run order, the same whatever the \
                 timing; arrival: as W&B makes them, as runs get there)",
                names.join(" and ")
            )
        })
    }
}

/// A sweep's `early_terminate:` rule, validated.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EarlyTerminate {
    Hyperband(Hyperband),
    Median(Median),
    Asha(Asha),
}

impl EarlyTerminate {
    /// One line for `--dry-run`, for `runs` runs of at most `longest` evaluations.
    pub fn describe(&self, longest: usize, runs: usize) -> String {
        match self {
            Self::Hyperband(rule) => rule.describe(longest),
            Self::Median(rule) => format!(
                "median: from {} completed runs on, a run whose best val so far is worse than their median at \
                 the same evaluation stops (its first {} evaluations are not judged)",
                rule.n_startup_runs, rule.n_warmup_evals
            ),
            Self::Asha(rule) => {
                let rungs: Vec<usize> = (1..=longest).filter(|&n| rule.is_rung(n)).collect();
                let reach: Vec<String> = rule.reach(runs, rungs.len()).iter().map(usize::to_string).collect();
                let rungs: Vec<String> = rungs.iter().map(usize::to_string).collect();
                format!(
                    "asha: rungs at {} evaluations, reached by at most {} of the {runs} runs: the best 1/{} \
                     of each goes on, the rest pause until promoted; if no run trains to its end, the best at \
                     the highest rung reached goes on to it",
                    rungs.join(", "),
                    reach.join(", "),
                    rule.eta
                )
            }
        }
    }
}
