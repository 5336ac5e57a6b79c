//! Sweep files: `load` reads one YAML file (W&B Sweeps syntax plus `variants`), checks
//! every value, and expands it into the list of runs to train, or returns one error that
//! names the file, line, column and key. Nothing here writes or starts anything:
//! `commands::launch` stores what this returns and hands it to the scheduler.

mod devices;
mod domain;
mod early_terminate;
mod error;
mod expand;
mod halving;
mod metric;
mod pbt;
mod planner;
mod raw;
#[cfg(test)]
mod tests;
pub mod tpe;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use model::{Backend, TrainConfig};
use results::Loss;

use crate::pbt::Pbt;
use crate::stopping::halving::Halving;
use crate::stopping::{EarlyTerminate, Order};
use crate::workers::cluster::{LauncherKind, SlurmOptions};
use crate::workers::placement::DeviceRequest;
use serde::{Deserialize, Serialize};

pub use error::SpecError;
pub use expand::BAYES_STARTUP;
pub use metric::{Goal, Metric};
pub use planner::Planner;
pub use raw::Scalar;

/// A checked sweep file and the runs it expands to.
#[derive(Clone, Debug)]
pub struct SweepSpec {
    pub name: String,
    pub description: Option<String>,
    pub method: Method,
    /// The data file, resolved against the sweep file's folder; `None`: the default dataset.
    pub data: Option<PathBuf>,
    pub settings: SweepSettings,
    /// Each parameter and the values it ranges over, as `--dry-run` shows them.
    pub parameters: Vec<String>,
    /// For a grid or random search every run; for `bayes` the random first ones.
    pub runs: Vec<PlannedRun>,
    /// How a `bayes` search plans the rest.
    pub bayes: Option<Bayes>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Grid,
    Random,
    /// TPE proposes each run after the first `expand::BAYES_STARTUP` random ones.
    Bayes,
}

impl Method {
    pub const ALL: [Self; 3] = [Self::Grid, Self::Random, Self::Bayes];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Grid => "grid",
            Self::Random => "random",
            Self::Bayes => "bayes",
        }
    }
}

/// A `bayes` search: its `run_cap`, the seed of its proposals, how many of the latest runs a
/// proposal counts as still training, the share of proposals drawn at random, and how to
/// plan one.
#[derive(Clone, Debug)]
pub struct Bayes {
    pub run_cap: u64,
    pub sampler_seed: u64,
    pub proposal_lag: usize,
    /// In [0, 1).
    pub random_fraction: f64,
    pub planner: Planner,
}

impl Bayes {
    /// Whether TPE's turn number `turn` (0-based, counted from the first run it proposes) is
    /// drawn at random instead: `random_fraction` of the turns, spread evenly (with 0.5, every
    /// second one).
    pub fn random_turn(&self, turn: usize) -> bool {
        let fraction = self.random_fraction;
        ((turn + 1) as f64 * fraction).floor() > (turn as f64 * fraction).floor()
    }

    /// The runs the search has in all: `run_cap`, or every configuration of a smaller space.
    pub fn runs(&self) -> u64 {
        self.planner
            .configurations()
            .map_or(self.run_cap, |n| n.min(self.run_cap))
    }
}

/// Published numbers a variant is compared against (a paper's, a lecture's).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub train_loss: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub val_loss: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_loss: Option<f64>,
}

impl Reference {
    pub fn get(&self, loss: Loss) -> Option<f64> {
        *self.slot(loss)
    }

    pub fn set(&mut self, loss: Loss, value: f64) {
        *self.slot_mut(loss) = Some(value);
    }

    fn slot(&self, loss: Loss) -> &Option<f64> {
        match loss {
            Loss::Train => &self.train_loss,
            Loss::Val => &self.val_loss,
            Loss::Test => &self.test_loss,
        }
    }

    fn slot_mut(&mut self, loss: Loss) -> &mut Option<f64> {
        match loss {
            Loss::Train => &mut self.train_loss,
            Loss::Val => &mut self.val_loss,
            Loss::Test => &mut self.test_loss,
        }
    }
}

/// How the sweep's runs are scheduled and judged; stored with the sweep so `resume` (and
/// later reports) use the same values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSettings {
    /// Worker processes at once; `None`: one per core.
    pub workers: Option<usize>,
    /// CPU threads per worker; `None`: cores / workers.
    #[serde(default)]
    pub threads: Option<usize>,
    /// The GPUs GPU runs are scheduled on; `None`: every GPU the backends see.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpus: Option<Vec<usize>>,
    /// Runs at once on each GPU.
    #[serde(default = "one")]
    pub runs_per_gpu: usize,
    /// Restarts of a run whose worker failed, from its last checkpoint.
    pub max_retries: u32,
    /// Wall-clock limit of one attempt of a run.
    pub timeout: Option<Duration>,
    pub checkpoint_every: u64,
    #[serde(default)]
    pub metric: Metric,
    /// Stops runs whose validation curve falls behind (`early_terminate:`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_terminate: Option<EarlyTerminate>,
    /// The order early termination's verdicts are made in (`early_terminate.order`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub verdict_order: Order,
    /// Trains every configuration short first and the best again longer (`halving:`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halving: Option<Halving>,
    /// Trains a population whose worst copy the best and change their settings (`pbt:`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pbt: Option<Pbt>,
    /// How workers start: here, or as Slurm jobs with `slurm`'s options.
    #[serde(default)]
    pub launcher: LauncherKind,
    #[serde(default, skip_serializing_if = "is_default")]
    pub slurm: SlurmOptions,
    /// Reference numbers by variant label.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub references: BTreeMap<String, Reference>,
}

fn one() -> usize {
    1
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

impl Default for SweepSettings {
    fn default() -> Self {
        Self {
            workers: None,
            threads: None,
            gpus: None,
            runs_per_gpu: 1,
            max_retries: 1,
            timeout: None,
            checkpoint_every: 5_000,
            metric: Metric::default(),
            early_terminate: None,
            verdict_order: Order::default(),
            halving: None,
            pbt: None,
            launcher: LauncherKind::default(),
            slurm: SlurmOptions::default(),
            references: BTreeMap::new(),
        }
    }
}

/// One run of the sweep: its full configuration, and the values the sweep file set
/// (variant keys and parameters, in file order) for tables.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedRun {
    pub variant: Option<String>,
    /// The variant's reference numbers, if it gives any.
    pub reference: Option<Reference>,
    pub config: TrainConfig,
    pub backend: Backend,
    pub device: DeviceRequest,
    pub assigned: Vec<(String, serde_json::Value)>,
}

/// A loaded sweep and the warnings (W&B keys we ignore, run caps) to show the user.
#[derive(Debug)]
pub struct Loaded {
    pub spec: SweepSpec,
    pub text: String,
    pub warnings: Vec<String>,
}

/// Reads, checks and expands the sweep file at `path`.
pub fn load(path: &Path) -> Result<Loaded, SpecError> {
    let text = std::fs::read_to_string(path).map_err(|err| SpecError::unreadable(path, &err))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let (spec, warnings) = parse(&text, &path.display().to_string(), base)?;
    Ok(Loaded { spec, text, warnings })
}

/// Checks and expands sweep-file text; `file` names it in messages and relative paths
/// in it are read from `base`.
pub fn parse(text: &str, file: &str, base: &Path) -> Result<(SweepSpec, Vec<String>), SpecError> {
    let source = error::Source { file, text };
    let raw: raw::RawSpec = serde_saphyr::from_str(text).map_err(|err| source.yaml_error(&err))?;
    validate::validate(raw, &source, Some(base))
}

/// The method of the sweep file stored with sweep `sweep`.
pub fn stored_method(text: &str, sweep: &str) -> Result<Method, SpecError> {
    read_stored(text, sweep, |raw, source| validate::method(raw.method, source))
}

/// How a `bayes` search plans its further runs, from the sweep file stored with its sweep
/// (`data` is not looked for: the runs recorded theirs); `None` for any other method, whose
/// runs were all planned at launch (and are not expanded again: 10,000 of them take a while).
pub fn stored_bayes(text: &str, sweep: &str) -> Result<Option<Bayes>, SpecError> {
    read_stored(text, sweep, |raw, source| {
        if validate::method(raw.method.clone(), source)? != Method::Bayes {
            return Ok(None);
        }
        Ok(validate::validate(raw, source, None)?.0.bayes)
    })
}

/// `read` given the sweep file stored with sweep `sweep`, parsed.
fn read_stored<T>(
    text: &str,
    sweep: &str,
    read: impl FnOnce(raw::RawSpec, &error::Source) -> Result<T, SpecError>,
) -> Result<T, SpecError> {
    let file = format!("the file stored with sweep `{sweep}`");
    let source = error::Source { file: &file, text };
    let raw: raw::RawSpec = serde_saphyr::from_str(text).map_err(|err| source.yaml_error(&err))?;
    read(raw, &source)
}
