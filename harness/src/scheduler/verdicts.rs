//! The scheduler's side of early termination: answering a worker that waits at an
//! evaluation (the judge's verdict, recorded first), holding the runs ASHA pauses, promoting
//! them ahead of new runs, and — when nothing else is left — sending the best on to its budget
//! if no run reached its end, then stopping the ones still paused.

use model::Verdict;
use results::{Decision, RunId};

use super::judge::worker_verdict;
use super::{Launcher, QueuedRun, RunStore, Scheduler, SweepDisplay};

impl<L: Launcher + ?Sized, S: RunStore, D: SweepDisplay> Scheduler<'_, '_, L, S, D> {
    /// Answers run `id`, waiting at its evaluation at `step`: `interrupt` while stopping,
    /// `continue` without a judge, else the judge's verdict, recorded before it is sent.
    pub(super) fn answer(&mut self, id: RunId, step: u64) -> anyhow::Result<()> {
        let mut promoted = Vec::new();
        let (verdict, pausing) = match &mut self.limits.judge {
            _ if self.stopping => (Verdict::Interrupt, false),
            None => (Verdict::Continue, false),
            Some(judge) => {
                let judgement = judge.verdict(id, step);
                for record in &judgement.records {
                    self.store.record_verdict(record)?;
                }
                promoted = judgement.promoted;
                (
                    worker_verdict(judgement.decision),
                    judgement.decision == Decision::Pause,
                )
            }
        };
        if let Some(active) = self.active.get_mut(&id) {
            active.pausing = pausing;
            active.control.send_verdict(verdict);
        }
        for run in promoted {
            self.promote(run);
        }
        Ok(())
    }

    /// The run's worker ended at its rung, as told: it waits for a promotion.
    pub(super) fn paused_at(&mut self, id: RunId, step: u64) -> anyhow::Result<()> {
        self.store.mark_paused(id)?;
        self.display
            .ended(id, &format!("paused at step {step}, until promoted"), false);
        Ok(())
    }

    /// A paused run goes on: it takes the next free slot, ahead of new runs.
    fn promote(&mut self, run: RunId) {
        // One still ending its pause is queued when its worker exits.
        if let Some(queued) = self.paused.remove(&run) {
            self.display
                .notice(&format!("run {run} promoted: it resumes at its rung"));
            self.queue.push_front(queued);
        }
    }

    /// Once nothing runs or waits: if no run trained to its end, ASHA's best paused run goes
    /// on to its budget; else the runs still paused stop at their rungs, each resuming just to
    /// hear `stop` and be evaluated on the weights it has. Whether any run was queued.
    pub(super) fn settle_paused(&mut self) -> anyhow::Result<bool> {
        let Some(judge) = &mut self.limits.judge else {
            return Ok(false);
        };
        if self.paused.is_empty() || !self.queue.is_empty() || self.stopping || self.target_reached {
            return Ok(false);
        }
        if let Some(record) = judge.finish_best() {
            self.store.record_verdict(&record)?;
            self.display.notice(&format!(
                "no run has trained to its end: run {}, the best at the highest rung reached, goes on to its \
                 budget (successive halving keeps one)",
                record.run
            ));
            self.promote(record.run);
            return Ok(true);
        }
        for record in judge.stop_paused() {
            self.store.record_verdict(&record)?;
        }
        let mut paused: Vec<QueuedRun> = self.paused.drain().map(|(_, run)| run).collect();
        paused.sort_by_key(|run| run.id);
        self.display.notice(&format!(
            "no run left to promote: the {} paused run{} stop at their rungs",
            paused.len(),
            if paused.len() == 1 { "" } else { "s" }
        ));
        self.queue.extend(paused);
        Ok(true)
    }
}
