//! Running a stored sweep, for `launch` and `resume` alike, on the worker slots they resolved
//! (`worker_slots`): lock it (one scheduler per sweep), turn its unfinished runs into worker
//! jobs, and run the scheduler on a tokio runtime with Ctrl-C and SIGTERM wired to it.
//! The commands then show how it ended (`view::sweep_table::report`).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::{Context, anyhow};
use model::TrainConfig;
use results::{RunId, RunRecord, RunStatus, Store, SweepRecord};
use tokio::sync::mpsc;

use crate::data_file;
use crate::error::usage;
use crate::scheduler::judge::Population;
use crate::scheduler::{Judge, Limits, Propose, QueuedRun, Scheduler, Tally, Work};
use crate::session::jobs::JobTemplate;
use crate::session::proposer::BayesProposer;
use crate::session::proposer::halving::{HalvingProposer, sends_more, settled_runs, stored_runs};
use crate::session::proposer::search::Search;
use crate::session::worker_slots::WorkerSlots;
use crate::spec::SweepSettings;
use crate::stored::{self, checkpoint_dir, requested_device};
use crate::view::labels::labels;
use crate::view::plural;
use crate::view::sweep_progress::SweepProgress;
use crate::workers;

/// Holds the sweep's lock file until dropped (or the process dies, even by SIGKILL).
fn lock(dir: &Path, sweep: &SweepRecord) -> anyhow::Result<File> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join("lock");
    let file = File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
    file.try_lock().map_err(|_| {
        usage(anyhow!(
            "sweep `{}` is being run by another harness process (it holds {}); wait for it or stop it first",
            sweep.name,
            path.display()
        ))
    })?;
    Ok(file)
}

pub struct Session<'a> {
    pub db: &'a Path,
    pub sweep: &'a SweepRecord,
    pub settings: SweepSettings,
    pub slots: WorkerSlots,
}

impl Session<'_> {
    /// Trains `todo` (runs of the sweep, in order; paused ones wait for a promotion) and
    /// returns how they ended.
    pub fn run(&self, store: &mut Store, todo: &[RunRecord], all: &[RunRecord]) -> anyhow::Result<Tally> {
        let metric = self.settings.metric;
        if let Some((run, value)) = metric.target_reached_by(all) {
            let reached = metric.target_reached_message(run.id, value);
            eprintln!("sweep {}: {reached}; no run starts", self.sweep.name);
            return Ok(Tally {
                after_target: todo.len(),
                ..Tally::default()
            });
        }
        let dir = checkpoint_dir(self.db, self.sweep);
        let _lock = lock(&dir, self.sweep)?;
        let labels: HashMap<RunId, String> = all.iter().map(|r| r.id).zip(labels(all)?).collect();
        let queued = |run: &RunRecord| self.queued(run, labels.get(&run.id).cloned().unwrap_or_default(), &dir);
        let judge = self.judge(store, all, todo)?;
        // Paused runs wait for a promotion; one promoted (or stopped) before the last session
        // ended goes first.
        let (still_paused, promoted): (Vec<&RunRecord>, Vec<&RunRecord>) = all
            .iter()
            .filter(|run| run.status == RunStatus::Paused)
            .partition(|run| judge.as_ref().is_some_and(|judge| judge.is_held(run.id)));
        let queue = promoted
            .into_iter()
            .chain(todo.iter().filter(|run| run.status != RunStatus::Paused))
            .map(queued)
            .collect::<anyhow::Result<Vec<_>>>()?;
        let paused = still_paused
            .into_iter()
            .map(queued)
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut proposer = self.proposer(store, (all, todo), &labels, &dir)?;
        let planned = proposer.as_ref().map_or(all.len(), |p| p.runs_in_all().max(all.len()));
        let settled = all.len() - queue.len() - paused.len();
        eprintln!(
            "sweep {}: {} of {} runs to train, {}",
            self.sweep.name,
            planned - settled,
            planned,
            self.where_runs_go(&queue)
        );
        let limits = Limits {
            slots: self.slots.slots(),
            max_retries: self.settings.max_retries,
            timeout: self.settings.timeout,
            metric: self.settings.metric,
            judge,
        };
        let exe = std::env::current_exe().context("cannot find the harness executable to start workers")?;
        let mut display = SweepProgress::new(planned, settled);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let launcher = workers::launcher_for(self.slots.launcher, exe, &self.settings.slurm, self.settings.timeout);
        let work = Work {
            queue,
            paused,
            proposer: proposer.as_mut().map(|p| &mut **p as &mut dyn Propose),
        };
        let tally = runtime.block_on(async {
            let interrupts = forward_signals()?;
            Scheduler::run(work, limits, &*launcher, store, &mut display, interrupts).await
        });
        display.finish();
        tally
    }

    /// Whether `sweep`, all of whose runs (`all` so far) are settled, has more to propose: a
    /// `bayes` search short of its `run_cap`, or a `halving:` rung with runs to send on. A
    /// resume then has work (the scheduler stopped between one run's end and the next).
    pub fn proposes_more(
        store: &Store,
        (sweep, settings): (&SweepRecord, &SweepSettings),
        all: &[RunRecord],
    ) -> anyhow::Result<bool> {
        let search = Search::stored(store, sweep, settings.metric, all)?;
        if search.is_some_and(|search| search.len() < search.bayes.runs() as usize) {
            return Ok(true);
        }
        let Some(halving) = &settings.halving else {
            return Ok(false);
        };
        Ok(sends_more(halving, &settled_runs(halving, settings.metric, all)?))
    }

    /// The search that proposes runs as results arrive, if the sweep has one: `bayes`'s,
    /// `halving:`'s around it or alone. From the sweep file stored with the sweep and its runs
    /// so far (`all`; `todo`: those this session trains), each run with the data and device
    /// of the first.
    fn proposer(
        &self,
        store: &Store,
        (all, todo): (&[RunRecord], &[RunRecord]),
        labels: &HashMap<RunId, String>,
        dir: &Path,
    ) -> anyhow::Result<Option<Box<dyn Propose>>> {
        let Some(first) = all.first() else {
            return Ok(None);
        };
        let metric = self.settings.metric;
        let search = Search::stored(store, self.sweep, metric, all)?;
        if search.is_none() && self.settings.halving.is_none() {
            return Ok(None);
        }
        let since = format!("sweep `{}` was launched", self.sweep.name);
        let data = Rc::new(data_file::load_recorded(
            first.data_path.as_ref(),
            &first.data_sha256,
            &since,
        )?);
        let (_, request) = requested_device(first)?;
        let bayes = search
            .map(|search| BayesProposer::new((search, self.sweep.id), all, (data.clone(), self.jobs(dir), request)));
        let Some(halving) = self.settings.halving.clone() else {
            return Ok(bayes.map(|bayes| Box::new(bayes) as Box<dyn Propose>));
        };
        let unsettled: HashSet<RunId> = todo.iter().map(|run| run.id).collect();
        let runs = stored_runs(&halving, metric, all, &unsettled, labels)?;
        let halving = HalvingProposer::new(
            (halving, metric, self.sweep.id),
            bayes,
            runs,
            (data, self.jobs(dir), request),
        );
        Ok(Some(Box::new(halving)))
    }

    /// Early termination's judge, with every run's status and stored validation curve and
    /// the verdicts earlier sessions gave; `todo`: the runs this session trains.
    fn judge(&self, store: &Store, all: &[RunRecord], todo: &[RunRecord]) -> anyhow::Result<Option<Judge>> {
        let again = |run: RunId| todo.iter().any(|again| again.id == run);
        if let Some(pbt) = &self.settings.pbt {
            let mut stored = stored::population(store, self.sweep, all)?;
            for member in &mut stored.members {
                if member.status == RunStatus::Failed && again(member.run) {
                    member.status = RunStatus::Pending;
                }
            }
            let population = Population::new(pbt.clone(), self.settings.metric.goal, stored);
            return Ok(Some(Judge::Population(Box::new(population))));
        }
        let Some(rule) = self.settings.early_terminate else {
            return Ok(None);
        };
        let order = self.settings.verdict_order;
        let mut judged = stored::judged(store, self.sweep, all)?;
        // A failed run this session trains again (`--retry-failed`) has not ended.
        for (run, status) in &mut judged.runs {
            if *status == RunStatus::Failed && again(*run) {
                *status = RunStatus::Pending;
            }
        }
        Ok(Some(Judge::new(rule, order, self.settings.metric.goal, judged)))
    }

    /// "2 CPU workers × 1 thread and GPUs 0,1 × 2 runs", or "Slurm jobs × 1 thread".
    fn where_runs_go(&self, queue: &[QueuedRun]) -> String {
        let threads = self.slots.threads;
        let threads = format!("{threads} thread{}", plural(threads));
        if self.slots.launcher == workers::cluster::LauncherKind::Slurm {
            return match self.slots.workers {
                Some(cap) => format!("Slurm jobs (at most {cap} at once) × {threads}"),
                None => format!("Slurm jobs × {threads}"),
            };
        }
        let cpu_runs = queue.iter().filter(|run| !run.request.is_gpu()).count();
        let mut slots = Vec::new();
        if cpu_runs > 0 {
            let workers = self.slots.workers.unwrap_or(1).min(cpu_runs);
            slots.push(format!("{workers} CPU worker{} × {threads}", plural(workers)));
        }
        if cpu_runs < queue.len() {
            slots.push(self.slots.gpus.to_string());
        }
        slots.join(" and ")
    }

    fn queued(&self, run: &RunRecord, label: String, dir: &Path) -> anyhow::Result<QueuedRun> {
        let config: TrainConfig = serde_json::from_str(&run.config_json)
            .with_context(|| format!("run {} has a configuration this harness cannot use", run.id))?;
        let (backend, request) = requested_device(run)?;
        let data = (PathBuf::from(&run.data_path), run.data_sha256.clone());
        Ok(self.jobs(dir).queued(run.id, label, config, (backend, request), data))
    }

    /// How this session turns a run into a worker's job.
    fn jobs(&self, dir: &Path) -> JobTemplate {
        JobTemplate {
            threads: self.slots.threads,
            dir: dir.to_path_buf(),
            checkpoint_every: self.settings.checkpoint_every,
            judged: self.settings.early_terminate.is_some() || self.settings.pbt.is_some(),
            settings_change: self.settings.pbt.is_some(),
        }
    }
}

/// Ctrl-C and SIGTERM, each delivery one message.
fn forward_signals() -> anyhow::Result<mpsc::UnboundedReceiver<()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let (sender, receiver) = mpsc::unbounded_channel();
    for kind in [SignalKind::interrupt(), SignalKind::terminate()] {
        let mut signals = signal(kind).context("cannot listen for Ctrl-C")?;
        let sender = sender.clone();
        tokio::spawn(async move {
            while signals.recv().await.is_some() {
                if sender.send(()).is_err() {
                    break;
                }
            }
        });
    }
    Ok(receiver)
}
