//! The sweep scheduler: keeps the CPU and GPU worker slots (`slots`) busy with the queued
//! runs, giving each GPU run its GPU; turns the workers' events into store writes (it is the
//! only writer), retries failed runs from their checkpoints and enforces timeouts
//! (`failures`), judges evaluations under early termination (`judge`, `verdicts`), asks a
//! search for runs as slots free (`proposals`) and stops at a target or Ctrl-C (`ending`).
//! Processes, the store and the display sit behind the traits below, so tests drive it with
//! fakes and tokio's paused clock; `launcher::ProcessLauncher` and `results::Store` are the
//! real ones.

mod ending;
mod exploits;
mod failures;
pub mod judge;
mod proposals;
pub mod slots;
mod store;
#[cfg(test)]
mod tests;
mod verdicts;

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use model::{Ending, Progress};
use results::{CurvePoint, RanOn, RunId, RunStatus};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::recording::PendingPoints;
use crate::recording::{curve_point, run_result};
use crate::spec::Metric;
pub use crate::workers::launcher::{Exit, Launcher, WorkerControl, WorkerMessage};
use crate::workers::placement::DeviceRequest;
use crate::workers::protocol::{Event, Job};
pub use judge::Judge;
pub use proposals::{Proposal, Propose, Work};
pub use slots::Slots;
pub use store::RunStore;

/// A run waiting for a worker.
#[derive(Clone, Debug)]
pub struct QueuedRun {
    pub id: RunId,
    /// How the display names it (variant and varied values).
    pub label: String,
    /// Where it asks to compute; the scheduler sets `job.device` when it starts it.
    pub request: DeviceRequest,
    pub job: Job,
    /// Failed attempts in this session; retried while ≤ `Limits::max_retries`.
    pub failures: u32,
}

#[derive(Clone, Debug)]
pub struct Limits {
    /// Where runs may start: worker slots on the CPU and the GPUs, or cluster jobs.
    pub slots: Slots,
    pub max_retries: u32,
    pub timeout: Option<Duration>,
    /// Judges completed runs; once one reaches its target, no new run starts.
    pub metric: Metric,
    /// Early termination: judges each evaluation of a running run.
    pub judge: Option<Judge>,
}

/// What the user sees of a sweep in progress.
pub trait SweepDisplay {
    fn started(&mut self, run: &QueuedRun, steps_done: u64);
    fn progress(&mut self, run: RunId, progress: &Progress);
    /// The run left its worker slot; `outcome` says how (`completed, val 2.0312`);
    /// `settled`: it will not run again in this session (false for a retry).
    fn ended(&mut self, run: RunId, outcome: &str, settled: bool);
    fn notice(&mut self, message: &str);
}

/// How the runs of this session ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub completed: usize,
    pub diverged: usize,
    /// Ended early by early termination (a result, like `completed`).
    pub stopped: usize,
    pub failed: usize,
    pub interrupted: usize,
    /// Failed attempts that were queued again.
    pub retried: usize,
    /// Runs still queued when the session was stopped (Ctrl-C): never started in it.
    pub not_started: usize,
    /// Runs left queued because a run reached the metric's target: the search is done.
    pub after_target: usize,
    /// Runs held at an ASHA rung when the session ended (stopped before the sweep's end).
    pub paused: usize,
}

struct Active {
    run: QueuedRun,
    control: Box<dyn WorkerControl>,
    started: Instant,
    deadline: Option<Instant>,
    /// Written at each validation point, checkpoint and end, or every few seconds.
    points: PendingPoints,
    finished: bool,
    timed_out: bool,
    /// The worker stopped (checkpointed) without being asked to.
    stopped_unasked: bool,
    /// Told to pause (at an ASHA rung, or until its turn): its end is a pause, not an
    /// interruption.
    pausing: bool,
    /// Waiting at this step, with its worker, for its turn to be judged, since then: the wait
    /// does not count towards its timeout.
    waiting_at: Option<(u64, Instant)>,
}

pub struct Scheduler<'a, 'p, L: ?Sized, S, D> {
    limits: Limits,
    proposer: Option<&'p mut dyn Propose>,
    slots: Slots,
    launcher: &'a L,
    store: &'a mut S,
    display: &'a mut D,
    queue: VecDeque<QueuedRun>,
    /// Runs held at an ASHA rung, waiting for a promotion or the sweep's end.
    paused: HashMap<RunId, QueuedRun>,
    active: HashMap<RunId, Active>,
    messages: mpsc::UnboundedSender<(RunId, WorkerMessage)>,
    stopping: bool,
    target_reached: bool,
    /// Runs entered the queue from outside (the session, a proposal) since the last check
    /// that some slot can ever take each (`fail_unplaceable`); retried and promoted runs
    /// passed it already.
    placement_unchecked: bool,
    tally: Tally,
}

impl<'a, 'p, L: Launcher + ?Sized, S: RunStore, D: SweepDisplay> Scheduler<'a, 'p, L, S, D> {
    /// Runs `queue` to the end, or until `interrupts` says stop: the first message stops
    /// launching and asks each worker to checkpoint and stop; a second kills them.
    pub async fn run(
        work: Work<'p>,
        limits: Limits,
        launcher: &'a L,
        store: &'a mut S,
        display: &'a mut D,
        mut interrupts: mpsc::UnboundedReceiver<()>,
    ) -> anyhow::Result<Tally> {
        let (messages, mut inbox) = mpsc::unbounded_channel();
        let mut scheduler = Self {
            slots: limits.slots.clone(),
            limits,
            proposer: work.proposer,
            launcher,
            store,
            display,
            queue: work.queue.into(),
            paused: work.paused.into_iter().map(|run| (run.id, run)).collect(),
            active: HashMap::new(),
            messages,
            stopping: false,
            target_reached: false,
            placement_unchecked: true,
            tally: Tally::default(),
        };
        let mut interrupts_open = true;
        // Decisions the judge made from the store (a crashed session's) come first.
        scheduler.apply_decided()?;
        loop {
            scheduler.fill_slots()?;
            if scheduler.active.is_empty() && scheduler.settle_paused()? {
                continue;
            }
            if scheduler.active.is_empty() {
                scheduler.tally.paused = scheduler.paused.len();
                let left = scheduler.queue.len();
                if scheduler.target_reached {
                    scheduler.tally.after_target = left;
                } else {
                    scheduler.tally.not_started = left;
                }
                return Ok(scheduler.tally);
            }
            // Without a timeout no run has a deadline: the active runs are not looked through.
            let deadline = scheduler.limits.timeout.and_then(|_| {
                scheduler
                    .active
                    .values()
                    .filter(|a| !a.timed_out && a.waiting_at.is_none())
                    .filter_map(|a| a.deadline)
                    .min()
            });
            tokio::select! {
                Some((run, message)) = inbox.recv() => scheduler.handle(run, message)?,
                interrupt = interrupts.recv(), if interrupts_open => match interrupt {
                    Some(()) => scheduler.interrupt(),
                    None => interrupts_open = false,
                },
                () = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                    scheduler.enforce_timeouts();
                }
            }
        }
    }

    /// Starts queued runs while a slot of the kind each asks for is free (a GPU run may pass
    /// CPU runs waiting for a CPU slot); a run no slot can ever take fails.
    fn fill_slots(&mut self) -> anyhow::Result<()> {
        while !self.stopping && !self.target_reached {
            // Every event comes here: with every slot busy, the queue is not looked through.
            let next = if self.slots.any_free() {
                self.queue
                    .iter()
                    .enumerate()
                    .find_map(|(i, run)| Some((i, self.slots.free(run.request)?)))
            } else {
                None
            };
            let Some((index, device)) = next else {
                if self.queue.is_empty() && self.propose()? {
                    continue;
                }
                break;
            };
            let Some(mut run) = self.queue.remove(index) else { break };
            run.job.device = device;
            self.store.mark_running(run.id)?;
            match self.launcher.start(&run.job, self.messages.clone()) {
                Ok(control) => {
                    self.slots.take(device);
                    let now = Instant::now();
                    let active = Active {
                        control,
                        started: now,
                        deadline: self.limits.timeout.map(|t| now + t),
                        points: PendingPoints::new(),
                        finished: false,
                        timed_out: false,
                        stopped_unasked: false,
                        pausing: false,
                        waiting_at: None,
                        run,
                    };
                    self.active.insert(active.run.id, active);
                }
                Err(err) => self.attempt_failed(run, &format!("cannot start a worker process: {err}"))?,
            }
        }
        if self.target_reached {
            return self.abandon_unstarted();
        }
        if self.stopping {
            return Ok(());
        }
        self.make_way();
        if std::mem::take(&mut self.placement_unchecked) {
            self.fail_unplaceable()?;
        }
        Ok(())
    }

    fn handle(&mut self, id: RunId, message: WorkerMessage) -> anyhow::Result<()> {
        let Some(active) = self.active.get_mut(&id) else {
            tracing::warn!(run = id.0, "a message from a worker that is not running");
            return Ok(());
        };
        match message {
            WorkerMessage::Event(Event::Started {
                device,
                device_name,
                host,
                slurm_job,
                steps_done,
                history,
                ..
            }) => {
                let points: Vec<CurvePoint> = history.iter().map(curve_point).collect();
                exploits::store_resumed_curve(self.store, self.limits.judge.as_ref(), id, &points)?;
                let val = val_points(&history);
                if let Some(judge) = &mut self.limits.judge {
                    judge.restart(id, &val);
                }
                // Its checkpoint may hold points the store lost with a killed scheduler.
                if let Some(proposer) = self.proposer.as_deref_mut() {
                    val.iter().for_each(|&(step, loss)| proposer.point(id, step, loss));
                }
                let ran_on = RanOn {
                    device: device.to_string(),
                    device_name,
                    host,
                    slurm_job,
                };
                self.store.record_ran_on(id, &ran_on)?;
                self.display.started(&active.run, steps_done);
                // Its points may give the runs waiting after it their turn.
                self.apply_decided()?;
            }
            WorkerMessage::Event(Event::Point { progress }) => {
                self.display.progress(id, &progress);
                if active.points.push(&progress) {
                    flush(self.store, active)?;
                }
                if let (Some(proposer), Progress::Val { step, loss }) = (self.proposer.as_deref_mut(), &progress) {
                    proposer.point(id, *step, *loss);
                }
                if let (Some(judge), Progress::Val { step, loss }) = (&mut self.limits.judge, &progress) {
                    judge.observe(id, *step, *loss);
                    self.apply_decided()?;
                }
            }
            WorkerMessage::Event(Event::Checkpointed { .. }) => flush(self.store, active)?,
            WorkerMessage::Event(Event::AwaitingVerdict { step }) => {
                flush(self.store, active)?;
                self.answer(id, step)?;
            }
            WorkerMessage::Event(Event::Finished { outcome })
                if outcome.ending == Ending::Interrupted && active.pausing =>
            {
                flush(self.store, active)?;
                active.finished = true;
                self.paused_at(id, outcome.steps_done)?;
            }
            WorkerMessage::Event(Event::Finished { outcome })
                if outcome.ending == Ending::Interrupted && !self.stopping =>
            {
                // Stopped by a signal we did not send (Slurm's time limit, preemption,
                // scancel): its checkpoint is written; it is retried when its worker exits.
                active.stopped_unasked = true;
            }
            WorkerMessage::Event(Event::Finished { outcome }) => {
                let result = run_result(&outcome, active.started.elapsed().as_secs_f64());
                self.store.finish_run(id, &result, &active.points.take())?;
                active.finished = true;
                let summary = match (result.status, result.losses) {
                    (RunStatus::Completed, Some([_, val, _])) => format!("completed, val {val:.4}"),
                    (RunStatus::Stopped, Some([_, val, _])) => {
                        format!("stopped early at step {}, val {val:.4}", result.steps_done)
                    }
                    (status, _) => format!("{status} at step {}", result.steps_done),
                };
                self.display.ended(id, &summary, true);
                if let (RunStatus::Completed | RunStatus::Stopped, Some(losses)) = (result.status, result.losses) {
                    self.check_target(id, losses);
                }
                if let Some(judge) = &mut self.limits.judge
                    && result.status != RunStatus::Interrupted
                {
                    judge.ended(id, result.status == RunStatus::Completed);
                }
                self.apply_decided()?;
                if let Some(proposer) = self.proposer.as_deref_mut() {
                    proposer.ended(id, result.losses.map(|losses| self.limits.metric.loss.pick(losses)));
                }
                match result.status {
                    RunStatus::Completed => self.tally.completed += 1,
                    RunStatus::Diverged => self.tally.diverged += 1,
                    RunStatus::Stopped => self.tally.stopped += 1,
                    _ => self.tally.interrupted += 1,
                }
            }
            WorkerMessage::Garbled(line) => {
                tracing::warn!(run = id.0, line, "the worker wrote a line that is not an event");
            }
            WorkerMessage::Exited(exit) => {
                let Some(mut active) = self.active.remove(&id) else {
                    return Ok(());
                };
                self.slots.release(active.run.job.device);
                if !active.finished {
                    flush(self.store, &mut active)?;
                    self.worker_lost(active, &exit)?;
                } else if active.pausing {
                    // Promoted already while it was ending: it goes first.
                    if self.limits.judge.as_ref().is_some_and(|judge| judge.is_held(id)) {
                        self.paused.insert(id, active.run);
                    } else {
                        self.queue.push_front(active.run);
                    }
                }
            }
        }
        Ok(())
    }
}

/// The validation points of a curve: (step, loss).
fn val_points(history: &[Progress]) -> Vec<(u64, f64)> {
    history
        .iter()
        .filter_map(|p| match *p {
            Progress::Val { step, loss } => Some((step, loss)),
            Progress::Train { .. } => None,
        })
        .collect()
}

fn flush(store: &mut impl RunStore, active: &mut Active) -> anyhow::Result<()> {
    let points = active.points.take();
    if !points.is_empty() {
        store.append_curve(active.run.id, &points)?;
    }
    Ok(())
}
