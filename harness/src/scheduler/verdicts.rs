//! The scheduler's side of early termination and population-based training: answering a run
//! waiting at an evaluation (the judge's verdict recorded first, a population's exploits
//! carried out first), holding a run whose turn has not come (in place, or paused), promoting
//! paused runs ahead of new ones, and at the end sending ASHA's best on to its budget if no
//! run reached its end, then stopping the ones still paused.

use model::Verdict;
use results::{Decision, RunId};
use tokio::time::Instant;

use super::judge::{Judge, Judgement, worker_verdict};
use super::{Launcher, QueuedRun, RunStore, Scheduler, SweepDisplay};

impl<L: Launcher + ?Sized, S: RunStore, D: SweepDisplay> Scheduler<'_, '_, L, S, D> {
    /// Answers run `id`, waiting at its evaluation at `step`: `interrupt` while stopping,
    /// `continue` without a judge, else the judge's verdict, recorded before it is sent. A
    /// run whose turn has not come waits in place, or pauses until it has.
    pub(super) fn answer(&mut self, id: RunId, step: u64) -> anyhow::Result<()> {
        let judgement = match &mut self.limits.judge {
            _ if self.stopping => None,
            None => None,
            Some(judge) => match judge.verdict(id, step) {
                Some(judgement) => Some(judgement),
                None => {
                    self.await_turn(id, step);
                    return self.apply_decided();
                }
            },
        };
        // The last member to reach an exploit step decided it: carried out before it hears.
        self.carry_out_exploits()?;
        let verdict = match &judgement {
            _ if self.stopping => Verdict::Interrupt,
            None => Verdict::Continue,
            Some(judgement) => worker_verdict(judgement.decision),
        };
        if let Some(judgement) = &judgement {
            self.record(judgement)?;
        }
        if let Some(active) = self.active.get_mut(&id) {
            active.pausing = judgement.as_ref().is_some_and(|j| j.decision == Decision::Pause);
            active.control.send_verdict(verdict);
        }
        for run in judgement.map(|j| j.promoted).unwrap_or_default() {
            self.promote(run);
        }
        self.apply_decided()
    }

    /// Records a judgement's verdicts; a search learns where its run was held.
    fn record(&mut self, judgement: &Judgement) -> anyhow::Result<()> {
        self.store.record_verdicts(&judgement.records)?;
        // The first record is the judged run's own verdict, the others revisions.
        if let (Some(own), Some(proposer)) = (judgement.records.first(), self.proposer.as_deref_mut())
            && own.decision != Decision::Continue
        {
            proposer.held(own.run, own.step);
        }
        Ok(())
    }

    /// Run `id` reached `step` before its turn: it keeps its worker, or (ASHA) checkpoints
    /// and leaves it to other work until its turn comes.
    fn await_turn(&mut self, id: RunId, step: u64) {
        let in_place = self.limits.judge.as_ref().is_some_and(Judge::waits_in_place);
        if let Some(active) = self.active.get_mut(&id) {
            if in_place {
                active.waiting_at = Some((step, Instant::now()));
            } else {
                active.pausing = true;
                active.control.send_verdict(Verdict::Interrupt);
            }
        }
    }

    /// Records and delivers the verdicts on runs that waited for their turn: to the worker
    /// waiting in place, or, for a run paused meanwhile, by queuing it to hear it (a `pause`
    /// leaves it where it is). Then the paused runs those verdicts promote go on.
    pub(super) fn apply_decided(&mut self) -> anyhow::Result<()> {
        self.carry_out_exploits()?;
        let Some(judge) = &mut self.limits.judge else {
            return Ok(());
        };
        for decided in judge.take_decided() {
            let judgement = decided.judgement;
            self.record(&judgement)?;
            let pause = judgement.decision == Decision::Pause;
            match self.active.get_mut(&decided.run) {
                Some(active) if active.waiting_at.is_some_and(|(step, _)| step == decided.step) => {
                    if let (Some((_, since)), Some(deadline)) = (active.waiting_at.take(), &mut active.deadline) {
                        *deadline += since.elapsed();
                    }
                    active.pausing = pause;
                    active.control.send_verdict(worker_verdict(judgement.decision));
                }
                // Still ending its pause: queued when its worker exits, unless paused now.
                Some(_) => {}
                None if pause => {}
                None => self.promote(decided.run),
            }
            for run in judgement.promoted {
                self.promote(run);
            }
        }
        Ok(())
    }

    /// Runs waiting in place hold every slot a queued run earlier in run order could use: the
    /// latest of them pauses, so that the runs it waits for can get there.
    pub(super) fn make_way(&mut self) {
        // One pausing already frees a slot.
        if self.active.values().any(|active| active.pausing) {
            return;
        }
        let Some(first) = self.queue.iter().map(|run| run.id).min() else {
            return;
        };
        let latest = self
            .active
            .values_mut()
            .filter(|active| active.waiting_at.is_some() && active.run.id > first)
            .max_by_key(|active| active.run.id);
        if let Some(active) = latest {
            active.waiting_at = None;
            active.pausing = true;
            active.control.send_verdict(Verdict::Interrupt);
        }
    }

    /// The run's worker ended at its rung, as told: it waits for a promotion.
    pub(super) fn paused_at(&mut self, id: RunId, step: u64) -> anyhow::Result<()> {
        self.store.mark_paused(id)?;
        let message = match &self.limits.judge {
            // Told to pause after the decision: it exploited, and restarts from its new checkpoint.
            Some(judge @ Judge::Population(_)) if !judge.is_held(id) => {
                format!("stopped at step {step} to go on from its donor's checkpoint")
            }
            Some(judge) => format!("paused at step {step}, {}", judge.hold_words().0),
            None => format!("paused at step {step}"),
        };
        self.display.ended(id, &message, false);
        Ok(())
    }

    /// A paused run goes on: it takes the next free slot, ahead of new runs.
    fn promote(&mut self, run: RunId) {
        // One still ending its pause is queued when its worker exits.
        if let Some(queued) = self.paused.remove(&run) {
            let (_, goes_on) = self.limits.judge.as_ref().map_or(("", ""), Judge::hold_words);
            self.display.notice(&format!("run {run} {goes_on}"));
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
        if let Judge::Population(population) = judge {
            // Every member still training is held, yet some never arrived: nothing can go on.
            let missing: Vec<String> = population.missing().iter().map(ToString::to_string).collect();
            anyhow::bail!(
                "population-based training cannot go on: its members wait at an exploit step that run(s) {} never \
                 reached (please report this, with `harness status`)",
                missing.join(", ")
            );
        }
        if let Some(record) = judge.finish_best() {
            self.store.record_verdicts(&[record])?;
            self.display.notice(&format!(
                "no run has trained to its end: run {}, the best at the highest rung reached, goes on to its \
                 budget (successive halving keeps one)",
                record.run
            ));
            self.promote(record.run);
            return Ok(true);
        }
        self.store.record_verdicts(&judge.stop_paused())?;
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
