//! The `bayes` method's proposer: after the random first runs the sweep file planned, each
//! new run's values come from TPE over every run so far — a run still training counts as the
//! worst (the constant liar) — drawn with a generator seeded by `sampler_seed` and the run's
//! number, so a resumed search proposes what an undisturbed one would from the same results.
//! It plans the run as the sweep file would, stores it, and queues it like any other.

use std::collections::HashSet;

use anyhow::Context;
use model::rng::Rng;
use results::{RunId, RunRecord, SweepId};

use crate::data_file::{self, LoadedData};
use crate::recording;
use crate::scheduler::{Propose, QueuedRun, RunStore};
use crate::session::jobs::JobTemplate;
use crate::spec::{Bayes, Metric, Scalar};
use crate::view::table;
use crate::workers::placement::DeviceRequest;

/// Proposals that repeat a configuration already in the sweep are drawn again, this often.
const TRIES: usize = 20;

pub struct BayesProposer {
    bayes: Bayes,
    sweep: SweepId,
    metric: Metric,
    /// Every run so far, in id order: its values and its metric as a minimizer sees it
    /// (`None` while it trains).
    runs: Vec<(RunId, Vec<Scalar>, Option<f64>)>,
    /// Run keys in the sweep: a configuration runs once.
    keys: HashSet<String>,
    data: LoadedData,
    jobs: JobTemplate,
    request: DeviceRequest,
}

impl BayesProposer {
    /// For the sweep whose runs are `all` so far; `request`: where its runs compute.
    pub fn new(
        bayes: Bayes,
        sweep: SweepId,
        metric: Metric,
        all: &[RunRecord],
        (data, jobs, request): (LoadedData, JobTemplate, DeviceRequest),
    ) -> anyhow::Result<Self> {
        let mut proposer = Self {
            bayes,
            sweep,
            metric,
            runs: Vec::new(),
            keys: all.iter().map(|run| run.run_key.clone()).collect(),
            data,
            jobs,
            request,
        };
        for run in all {
            let config: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&run.config_json)
                .with_context(|| format!("run {} has an unreadable configuration", run.id))?;
            let values = proposer.bayes.planner.values_of(&config);
            let value = proposer.minimized(proposer.metric.loss.of(run));
            proposer.runs.push((run.id, values, value));
        }
        Ok(proposer)
    }

    /// Runs the search has in all.
    pub fn run_cap(&self) -> usize {
        self.bayes.run_cap as usize
    }

    fn minimized(&self, value: Option<f64>) -> Option<f64> {
        // A run that diverged is the worst there is.
        value.map(|v| {
            if v.is_finite() {
                self.metric.goal.minimized(v)
            } else {
                f64::INFINITY
            }
        })
    }

    /// `lr=0.0123 n_hidden=96`, as the sweep's other runs are labelled: the varied settings
    /// in their declared order, values as tables show them.
    fn label(&self, values: &[Scalar]) -> String {
        let order: Vec<&str> = model::all_settings().iter().map(|s| s.name).collect();
        let mut varied = self.bayes.planner.varied(values);
        varied.sort_by_key(|(key, _)| order.iter().position(|name| name == key));
        varied
            .iter()
            .map(|(key, value)| format!("{key}={}", table::cell(Some(&value.to_json()))))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// TPE's values for run number `index` (0-based), or random ones when TPE repeats a
    /// configuration the sweep has.
    fn values(&self, index: usize, attempt: usize) -> Vec<Scalar> {
        let seed = self.bayes.sampler_seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ attempt as u64;
        let mut rng = Rng::seed_from(seed);
        if attempt > 0 {
            return self.bayes.planner.draw(&mut rng);
        }
        let observations: Vec<(Vec<Scalar>, Option<f64>)> = self
            .runs
            .iter()
            .map(|(_, values, value)| (values.clone(), *value))
            .collect();
        self.bayes.planner.propose(&observations, &mut rng)
    }
}

impl Propose for BayesProposer {
    fn request(&self) -> DeviceRequest {
        self.request
    }

    fn propose(&mut self, store: &mut dyn RunStore) -> anyhow::Result<Option<QueuedRun>> {
        let index = self.runs.len();
        if index as u64 >= self.bayes.run_cap {
            return Ok(None);
        }
        for attempt in 0..TRIES {
            let values = self.values(index, attempt);
            let planned = self.bayes.planner.plan(values.clone())?;
            data_file::check_fits(&planned.config, &self.data)?;
            let new_run = recording::new_run(
                &planned.config,
                None,
                planned.backend,
                planned.device,
                self.jobs.threads,
                &self.data,
            );
            if !self.keys.insert(new_run.run_key.clone()) {
                continue;
            }
            let id = store.add_run(self.sweep, &new_run)?;
            let label = self.label(&values);
            self.runs.push((id, values, None));
            let data = (self.data.path.clone(), self.data.sha256.clone());
            return Ok(Some(self.jobs.queued(
                id,
                label,
                planned.config,
                (planned.backend, planned.device),
                data,
            )));
        }
        // The space has no configuration left that the sweep has not run.
        Ok(None)
    }

    fn finished(&mut self, run: RunId, value: Option<f64>) {
        let value = self.minimized(Some(value.unwrap_or(f64::INFINITY)));
        // By id: the stored runs come in id order and each proposal gets the next id.
        if let Ok(at) = self.runs.binary_search_by_key(&run, |(id, _, _)| *id) {
            self.runs[at].2 = value;
        }
    }
}
