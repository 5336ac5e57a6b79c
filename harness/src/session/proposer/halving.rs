//! A `halving:` sweep's proposer. Its first rung's runs are those planned at launch and,
//! under `bayes`, those the `BayesProposer` adds (TPE learning from first-rung results alone).
//! Once every run of a rung has ended, each configuration `stopping::halving` sends on is
//! stored as a new run at the next rung's steps and queued, the best first. The decisions
//! read the runs' results alone: any number of workers, their speed or crashes give the same.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use anyhow::Context;
use model::{Backend, TrainConfig};
use results::{RunId, RunRecord, SweepId};

use super::BayesProposer;
use super::search::minimized;
use crate::data_file::LoadedData;
use crate::recording;
use crate::scheduler::{Proposal, Propose, QueuedRun, RunStore};
use crate::session::jobs::JobTemplate;
use crate::spec::Metric;
use crate::stopping::halving::{Halving, Next, RungRun};
use crate::stored::requested_device;
use crate::workers::placement::DeviceRequest;

/// A run of the sweep, as the rule sees it and as a run at the next rung is made from it.
pub struct RunAtRung {
    pub id: RunId,
    /// Its configuration apart from its steps (settings, backend, device), as the rule
    /// compares them.
    key: String,
    pub rung: usize,
    /// As the rule ranks it; `None` until it ends.
    pub result: Option<f64>,
    config: TrainConfig,
    variant: Option<String>,
    place: (Backend, DeviceRequest),
    label: String,
}

impl RunAtRung {
    fn new(
        id: RunId,
        config: TrainConfig,
        (variant, place, label): (Option<String>, (Backend, DeviceRequest), String),
        rung: usize,
    ) -> Self {
        Self {
            id,
            key: configuration(&config, place),
            rung,
            result: None,
            config,
            variant,
            place,
            label,
        }
    }

    /// Whether `other` trains this run's configuration (at whatever steps).
    pub fn same_configuration(&self, other: &RunAtRung) -> bool {
        self.key == other.key
    }

    /// Its configuration apart from its steps, as text that is the same for the same one.
    pub fn configuration(&self) -> &str {
        &self.key
    }

    fn view(&self) -> RungRun<&str> {
        RungRun {
            config: &self.key,
            rung: self.rung,
            result: self.result,
        }
    }
}

/// What the rule sends on next among `runs`.
fn next(halving: &Halving, runs: &[RunAtRung]) -> Next {
    halving.next(&runs.iter().map(RunAtRung::view).collect::<Vec<_>>())
}

/// The run one rung below `run` whose configuration it trains again.
pub fn parent_of<'a>(runs: &'a [RunAtRung], run: &RunAtRung) -> Option<&'a RunAtRung> {
    runs.iter()
        .find(|r| r.rung + 1 == run.rung && r.same_configuration(run))
}

/// The runs at rung `rung`, in run order.
pub fn at_rung(runs: &[RunAtRung], rung: usize) -> Vec<&RunAtRung> {
    runs.iter().filter(|r| r.rung == rung).collect()
}

/// The settings, backend and device of a run, apart from its steps.
fn configuration(config: &TrainConfig, (backend, request): (Backend, DeviceRequest)) -> String {
    let mut settings = config.applicable_settings();
    settings.remove("steps");
    let settings = serde_json::to_string(&settings).expect("settings always serialize");
    format!("{settings}|{backend}|{request}")
}

/// The runs of a settled halving sweep (every run's result counts), for `explain`, `replay`
/// and `resume`.
pub fn settled_runs(halving: &Halving, metric: Metric, all: &[RunRecord]) -> anyhow::Result<Vec<RunAtRung>> {
    stored_runs(halving, metric, all, &HashSet::new(), &HashMap::new())
}

/// The runs of a halving sweep so far, each at its rung with its result where it has one;
/// `unsettled`: runs this session trains (again), whose results do not count yet; `labels`:
/// how the display names them.
pub fn stored_runs(
    halving: &Halving,
    metric: Metric,
    all: &[RunRecord],
    unsettled: &HashSet<RunId>,
    labels: &HashMap<RunId, String>,
) -> anyhow::Result<Vec<RunAtRung>> {
    let mut runs = Vec::with_capacity(all.len());
    for run in all {
        let label = labels.get(&run.id).cloned().unwrap_or_default();
        let config: TrainConfig = serde_json::from_str(&run.config_json)
            .with_context(|| format!("run {} has a configuration this harness cannot use", run.id))?;
        // A run whose steps are no rung's is not the rule's.
        let Some(rung) = halving.rung_of(config.steps) else {
            continue;
        };
        let mut entry = RunAtRung::new(
            run.id,
            config,
            (run.variant.clone(), requested_device(run)?, label),
            rung,
        );
        if run.status.has_ended() && !unsettled.contains(&run.id) {
            entry.result = Some(result(metric, metric.loss.of(run)));
        }
        runs.push(entry);
    }
    Ok(runs)
}

/// A result as the rule ranks it, as the search sees results: minimized, a run that failed
/// or diverged the worst.
fn result(metric: Metric, value: Option<f64>) -> f64 {
    minimized(metric.goal, value.unwrap_or(f64::INFINITY))
}

/// Whether `run`'s rung has been ranked, its best sent on to the next: a rung is ranked once,
/// so a run that failed there is not trained again.
pub fn rung_ranked(runs: &[RunAtRung], run: RunId) -> bool {
    let Some(this) = runs.iter().find(|r| r.id == run) else {
        return false;
    };
    runs.iter().any(|r| r.rung == this.rung + 1)
}

/// Whether a halving sweep whose runs are `runs` (all ended) sends another one on.
pub fn sends_more(halving: &Halving, runs: &[RunAtRung]) -> bool {
    matches!(next(halving, runs), Next::Train { .. })
}

pub struct HalvingProposer {
    halving: Halving,
    metric: Metric,
    /// Proposes first-rung runs after those planned at launch (`bayes`).
    first: Option<BayesProposer>,
    /// Every run of the sweep, in run order.
    runs: Vec<RunAtRung>,
    sweep: SweepId,
    data: Rc<LoadedData>,
    jobs: JobTemplate,
    request: DeviceRequest,
}

impl HalvingProposer {
    pub fn new(
        (halving, metric, sweep): (Halving, Metric, SweepId),
        first: Option<BayesProposer>,
        runs: Vec<RunAtRung>,
        (data, jobs, request): (Rc<LoadedData>, JobTemplate, DeviceRequest),
    ) -> Self {
        Self {
            halving,
            metric,
            first,
            runs,
            sweep,
            data,
            jobs,
            request,
        }
    }

    /// The first rung's run just proposed, as the rule sees it.
    fn first_rung_run(&mut self, queued: &QueuedRun) {
        let place = (queued.job.backend, queued.request);
        let proposed = (None, place, queued.label.clone());
        self.runs
            .push(RunAtRung::new(queued.id, queued.job.config.clone(), proposed, 0));
    }

    /// The configuration of `runs[from]` again from the start at rung `rung`: stored, queued.
    fn send_on(&mut self, from: usize, rung: usize, store: &mut dyn RunStore) -> anyhow::Result<QueuedRun> {
        let steps = self.halving.rungs[rung];
        let parent = &self.runs[from];
        let config = parent.config.with_steps(steps)?;
        let (backend, request) = parent.place;
        let new_run = recording::new_run(
            &config,
            parent.variant.clone(),
            backend,
            request,
            self.jobs.threads,
            &self.data,
        );
        let id = store.add_run(self.sweep, &new_run)?;
        let label = parent
            .label
            .split(' ')
            .filter(|word| !word.starts_with("steps="))
            .chain([format!("steps={steps}").as_str()])
            .collect::<Vec<_>>()
            .join(" ");
        let variant = parent.variant.clone();
        self.runs.push(RunAtRung::new(
            id,
            config.clone(),
            (variant, (backend, request), label.clone()),
            rung,
        ));
        let data = (self.data.path.clone(), self.data.sha256.clone());
        Ok(self.jobs.queued(id, label, config, (backend, request), data))
    }

    fn rung_mut(&mut self, id: RunId) -> Option<&mut RunAtRung> {
        // Runs come in id order: those stored, then each one proposed with the next id.
        let at = self.runs.binary_search_by_key(&id, |rung| rung.id).ok()?;
        Some(&mut self.runs[at])
    }
}

impl Propose for HalvingProposer {
    fn request(&self) -> DeviceRequest {
        self.request
    }

    fn runs_in_all(&self) -> usize {
        let first = self.runs.iter().filter(|r| r.rung == 0).count();
        let first = self
            .first
            .as_ref()
            .map_or(first, |bayes| bayes.runs_in_all().max(first));
        self.halving.runs_per_rung(first).iter().sum()
    }

    fn propose(&mut self, store: &mut dyn RunStore) -> anyhow::Result<Proposal> {
        if let Some(first) = &mut self.first {
            match first.propose(store)? {
                Proposal::Run(queued) => {
                    self.first_rung_run(&queued);
                    return Ok(Proposal::Run(queued));
                }
                Proposal::NotYet => return Ok(Proposal::NotYet),
                Proposal::Done => {}
            }
        }
        match next(&self.halving, &self.runs) {
            Next::Train { from, rung } => Ok(Proposal::Run(Box::new(self.send_on(from, rung, store)?))),
            Next::Wait => Ok(Proposal::NotYet),
            Next::Done => Ok(Proposal::Done),
        }
    }

    fn point(&mut self, run: RunId, step: u64, loss: f64) {
        if let Some(first) = &mut self.first {
            first.point(run, step, loss);
        }
    }

    fn held(&mut self, run: RunId, step: u64) {
        if let Some(first) = &mut self.first {
            first.held(run, step);
        }
    }

    fn ended(&mut self, run: RunId, value: Option<f64>) {
        if let Some(first) = &mut self.first {
            first.ended(run, value);
        }
        let metric = self.metric;
        if let Some(rung) = self.rung_mut(run)
            && rung.result.is_none()
        {
            rung.result = Some(result(metric, value));
        }
    }
}
