//! A search that proposes its runs as it goes (`bayes`): the scheduler asks it for a run
//! whenever a slot is free and nothing waits, and tells it how each run ended.

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

/// A search that proposes each run when a slot is free, from the results so far (`bayes`).
pub trait Propose {
    /// Where its runs ask to compute.
    fn request(&self) -> DeviceRequest;
    /// The next run, already stored; `None` once the search has all its runs.
    fn propose(&mut self, store: &mut dyn RunStore) -> anyhow::Result<Option<QueuedRun>>;
    /// A run ended: its value of the sweep's metric, `None` without a result.
    fn finished(&mut self, run: RunId, value: Option<f64>);
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
        let Some(run) = proposer.propose(self.store)? else {
            return Ok(false);
        };
        if let Some(judge) = &mut self.limits.judge {
            judge.add_run(run.id);
        }
        self.queue.push_back(run);
        self.placement_unchecked = true;
        Ok(true)
    }
}
