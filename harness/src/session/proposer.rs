//! The `bayes` method's proposer: after the random first runs the sweep file planned, run n's
//! values come from TPE over the runs before it — the last `proposal_lag` of them as still
//! training (the constant liar), the others with their results, waited for if need be — drawn
//! with a generator seeded by `sampler_seed` and n. A run's result is its metric at its end,
//! or under early termination its validation loss where it was first held (paused or stopped)
//! if it was. So the
//! proposals depend on the results alone, not on how many workers there are, their speed, or
//! crashes. It plans the run as the sweep file would, stores it, and queues it like any other.

use std::collections::{HashMap, HashSet};

use anyhow::Context;
use model::rng::Rng;
use results::{RunId, RunRecord, SweepId};

use crate::data_file::{self, LoadedData};
use crate::recording;
use crate::scheduler::{Proposal, Propose, RunStore};
use crate::session::jobs::JobTemplate;
use crate::spec::{Bayes, Goal, Metric, Scalar};
use crate::view::table;
use crate::workers::placement::DeviceRequest;

/// Proposals that repeat a configuration already in the sweep are drawn again, this often.
const TRIES: usize = 20;

/// A run as the search sees it.
struct Observed {
    id: RunId,
    values: Vec<Scalar>,
    result: Option<f64>,
    /// The last validation point reported: (step, loss).
    last: (u64, f64),
}

pub struct BayesProposer {
    bayes: Bayes,
    sweep: SweepId,
    metric: Metric,
    /// Every run so far, in id order: its values and its result as a minimizer sees it
    /// (`None` until known), and its last validation point.
    runs: Vec<Observed>,
    /// Run keys in the sweep: a configuration runs once.
    keys: HashSet<String>,
    data: LoadedData,
    jobs: JobTemplate,
    request: DeviceRequest,
}

impl BayesProposer {
    /// For the sweep whose runs are `all` so far, with the step and loss each run was first
    /// held at, if it was (`held`); `request`: where its runs compute.
    pub fn new(
        bayes: Bayes,
        (sweep, metric): (SweepId, Metric),
        (all, held): (&[RunRecord], &[(RunId, u64, f64)]),
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
        let held: HashMap<RunId, f64> = held.iter().map(|&(run, _, loss)| (run, loss)).collect();
        for run in all {
            let config: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&run.config_json)
                .with_context(|| format!("run {} has an unreadable configuration", run.id))?;
            proposer.runs.push(Observed {
                id: run.id,
                values: proposer.bayes.planner.values_of(&config),
                result: held.get(&run.id).and_then(|loss| proposer.minimized(Some(*loss))),
                last: (0, f64::NAN),
            });
            if run.status.has_ended() {
                proposer.ended(run.id, proposer.metric.loss.of(run));
            }
        }
        Ok(proposer)
    }

    /// Runs the search has in all.
    pub fn run_cap(&self) -> usize {
        self.bayes.run_cap as usize
    }

    fn minimized(&self, value: Option<f64>) -> Option<f64> {
        value.map(|v| minimized(self.metric.goal, v))
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

    /// The runs run number `index` (0-based) learns from: `None` until each of those before
    /// the last `proposal_lag` has its result.
    fn observations(&self, index: usize) -> Option<Vec<(Vec<Scalar>, Option<f64>)>> {
        let known = index.saturating_sub(self.bayes.proposal_lag);
        let (before, lying) = self.runs.split_at(known);
        if before.iter().any(|run| run.result.is_none()) {
            return None;
        }
        let with_results = before.iter().map(|run| (run.values.clone(), run.result));
        Some(
            with_results
                .chain(lying.iter().map(|run| (run.values.clone(), None)))
                .collect(),
        )
    }

    /// TPE's values for run number `index` (0-based) from `observations`, or random ones when
    /// TPE repeats a configuration the sweep has.
    fn values(&self, index: usize, attempt: usize, observations: &[(Vec<Scalar>, Option<f64>)]) -> Vec<Scalar> {
        let seed = self.bayes.sampler_seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ attempt as u64;
        let mut rng = Rng::seed_from(seed);
        if attempt > 0 {
            return self.bayes.planner.draw(&mut rng);
        }
        self.bayes.planner.propose(observations, &mut rng)
    }

    fn observed(&mut self, run: RunId) -> Option<&mut Observed> {
        // By id: the stored runs come in id order and each proposal gets the next id.
        let at = self.runs.binary_search_by_key(&run, |observed| observed.id).ok()?;
        Some(&mut self.runs[at])
    }
}

impl Propose for BayesProposer {
    fn request(&self) -> DeviceRequest {
        self.request
    }

    fn propose(&mut self, store: &mut dyn RunStore) -> anyhow::Result<Proposal> {
        let index = self.runs.len();
        if index as u64 >= self.bayes.run_cap {
            return Ok(Proposal::Done);
        }
        let Some(observations) = self.observations(index) else {
            return Ok(Proposal::NotYet);
        };
        for attempt in 0..TRIES {
            let values = self.values(index, attempt, &observations);
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
            self.runs.push(Observed {
                id,
                values,
                result: None,
                last: (0, f64::NAN),
            });
            let data = (self.data.path.clone(), self.data.sha256.clone());
            return Ok(Proposal::Run(Box::new(self.jobs.queued(
                id,
                label,
                planned.config,
                (planned.backend, planned.device),
                data,
            ))));
        }
        // The space has no configuration left that the sweep has not run.
        Ok(Proposal::Done)
    }

    fn point(&mut self, run: RunId, step: u64, loss: f64) {
        if let Some(observed) = self.observed(run)
            && step > observed.last.0
        {
            observed.last = (step, loss);
        }
    }

    fn held(&mut self, run: RunId, step: u64) {
        let goal = self.metric.goal;
        if let Some(observed) = self.observed(run)
            && observed.result.is_none()
            && observed.last.0 == step
        {
            observed.result = Some(minimized(goal, observed.last.1));
        }
    }

    fn ended(&mut self, run: RunId, value: Option<f64>) {
        let value = self.minimized(Some(value.unwrap_or(f64::INFINITY)));
        if let Some(observed) = self.observed(run)
            && observed.result.is_none()
        {
            observed.result = value;
        }
    }
}

/// A metric as the search minimizes it; a run that diverged is the worst there is.
fn minimized(goal: Goal, value: f64) -> f64 {
    if value.is_finite() {
        goal.minimized(value)
    } else {
        f64::INFINITY
    }
}
