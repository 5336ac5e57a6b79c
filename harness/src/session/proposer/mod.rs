//! The `bayes` method's proposer: after the random first runs, run n's values come from TPE
//! over the runs before it (`search`: the last `proposal_lag` as still training, the rest
//! with their results, waited for if need be), drawn with a generator seeded by `sampler_seed`
//! and n — the results alone decide, not the workers, their speed or crashes. It plans, stores
//! and queues each run; under `halving:` it proposes the first rung's (`halving`).

pub mod halving;
pub mod search;

use std::collections::HashSet;
use std::rc::Rc;

use results::{RunId, RunRecord, SweepId};

use crate::data_file::{self, LoadedData};
use crate::recording;
use crate::scheduler::{Proposal, Propose, RunStore};
use crate::session::jobs::JobTemplate;
use crate::workers::placement::DeviceRequest;
use search::{Search, TRIES};

pub struct BayesProposer {
    search: Search,
    sweep: SweepId,
    /// Run keys in the sweep: a configuration runs once.
    keys: HashSet<String>,
    data: Rc<LoadedData>,
    jobs: JobTemplate,
    request: DeviceRequest,
}

impl BayesProposer {
    /// For `search`, of the sweep whose runs are `all` so far; `request`: where its runs
    /// compute.
    pub fn new(
        (search, sweep): (Search, SweepId),
        all: &[RunRecord],
        (data, jobs, request): (Rc<LoadedData>, JobTemplate, DeviceRequest),
    ) -> Self {
        Self {
            search,
            sweep,
            keys: all.iter().map(|run| run.run_key.clone()).collect(),
            data,
            jobs,
            request,
        }
    }
}

impl Propose for BayesProposer {
    fn request(&self) -> DeviceRequest {
        self.request
    }

    fn runs_in_all(&self) -> usize {
        self.search.bayes.runs() as usize
    }

    fn propose(&mut self, store: &mut dyn RunStore) -> anyhow::Result<Proposal> {
        let index = self.search.len();
        if index >= self.runs_in_all() {
            return Ok(Proposal::Done);
        }
        let Some(learned) = self.search.learned(index) else {
            return Ok(Proposal::NotYet);
        };
        for attempt in 0..TRIES {
            let values = self.search.draw(index, attempt, &learned).values();
            let planned = self.search.bayes.planner.plan(values.clone())?;
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
            let label = self.search.label(&values);
            self.search.push(id, values);
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
        self.search.point(run, step, loss);
    }

    fn held(&mut self, run: RunId, step: u64) {
        self.search.held(run, step);
    }

    fn ended(&mut self, run: RunId, value: Option<f64>) {
        self.search.ended(run, value);
    }
}
