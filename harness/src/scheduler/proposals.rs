//! A search that proposes its runs as it goes (`bayes`): the scheduler asks it for a run
//! whenever a slot is free and nothing waits, and tells it each run's validation points and
//! how each run ended. A search may not be ready to propose: the slot then waits.

use results::RunId;

use super::{Launcher, QueuedRun, RunStore, Scheduler, SweepDisplay};
use crate::workers::placement::DeviceRequest;

/// The runs of a session: those queued, those an earlier session left paused at an ASHA
/// rung, and a search that proposes more as slots free up.
pub struct Work<'a> {
    pub queue: Vec<QueuedRun>,
    pub paused: Vec<QueuedRun>,
    pub proposer: Option<&'a mut dyn Propose>,
}

/// What a search answers when asked for a run.
pub enum Proposal {
    /// The next run, already stored.
    Run(Box<QueuedRun>),
    /// Not until more of the runs before it have a result.
    NotYet,
    /// The search has all its runs.
    Done,
}

/// A search that proposes each run when a slot is free, from the results so far (`bayes`).
pub trait Propose {
    /// Where its runs ask to compute.
    fn request(&self) -> DeviceRequest;
    /// How many runs the sweep has once the search is done (at most).
    fn runs_in_all(&self) -> usize;
    fn propose(&mut self, store: &mut dyn RunStore) -> anyhow::Result<Proposal>;
    /// A validation point of a run arrived.
    fn point(&mut self, run: RunId, step: u64, loss: f64);
    /// Early termination held the run at its evaluation at `step` (paused or stopped it):
    /// its first verdict there, not a revision.
    fn held(&mut self, run: RunId, step: u64);
    /// A run ended for good: its value of the sweep's metric, `None` without a result.
    fn ended(&mut self, run: RunId, value: Option<f64>);
}

impl<L: Launcher + ?Sized, S: RunStore, D: SweepDisplay> Scheduler<'_, '_, L, S, D> {
    /// Whether the search proposed a run (queued) for a free slot.
    pub(super) fn propose(&mut self) -> anyhow::Result<bool> {
        let Some(proposer) = self.proposer.as_deref_mut() else {
            return Ok(false);
        };
        if self.slots.free(proposer.request()).is_none() {
            return Ok(false);
        }
        let Proposal::Run(run) = proposer.propose(self.store)? else {
            return Ok(false);
        };
        let run = *run;
        if let Some(judge) = &mut self.limits.judge {
            judge.add_run(run.id);
        }
        self.queue.push_back(run);
        self.placement_unchecked = true;
        Ok(true)
    }
}
