//! What the scheduler does when a run cannot go on as planned: a run no slot can take fails,
//! a worker that ended without a result is retried from its checkpoint (up to
//! `max_retries`), marked interrupted (the user stopped it) or failed (its timeout), and
//! attempts past their timeout are killed.

use std::time::Duration;

use results::RunId;
use tokio::time::Instant;

use super::{Active, Exit, Launcher, QueuedRun, RunStore, Scheduler, SweepDisplay};

impl<L: Launcher + ?Sized, S: RunStore, D: SweepDisplay> Scheduler<'_, '_, L, S, D> {
    /// Runs that ask for a device no slot serves (checked before a session, so only a bug
    /// or a changed pool gets here) fail instead of waiting for ever.
    pub(super) fn fail_unplaceable(&mut self) -> anyhow::Result<()> {
        let (stuck, placeable): (Vec<_>, Vec<_>) =
            self.queue.drain(..).partition(|run| !self.slots.exists(run.request));
        self.queue = placeable.into();
        for run in stuck {
            let error = format!("no worker slot runs device `{}` ({})", run.request, self.limits.slots);
            self.store.mark_failed(run.id, &error, false)?;
            self.display.ended(run.id, &format!("failed: {error}"), true);
            self.tally.failed += 1;
            self.failed_for_good(run.id)?;
        }
        Ok(())
    }

    /// The worker ended without a result: timed out, stopped by the user, or failed.
    pub(super) fn worker_lost(&mut self, active: Active, exit: &Exit) -> anyhow::Result<()> {
        let id = active.run.id;
        if active.timed_out {
            let limit = self.limits.timeout.unwrap_or_default();
            let error = format!("exceeded the timeout of {}", humanize(limit));
            self.store.mark_failed(id, &error, false)?;
            self.display.ended(id, &format!("failed: {error}"), true);
            self.tally.failed += 1;
            self.failed_for_good(id)?;
        } else if self.stopping {
            self.store.mark_interrupted(id)?;
            self.display.ended(id, "interrupted", true);
            self.tally.interrupted += 1;
        } else if active.stopped_unasked || exit.succeeded {
            // Succeeded, yet no result: stopped from outside too, its last lines lost (srun
            // relays nothing more once Slurm cancels the step).
            let error = "the worker was stopped by a signal this scheduler did not send \
                         (a time limit, preemption or scancel?)";
            self.attempt_failed(active.run, error)?;
        } else {
            let mut error = format!("the worker {}", exit.description);
            if !exit.stderr_tail.is_empty() {
                error = format!("{error}; its last output:\n{}", exit.stderr_tail);
            }
            self.attempt_failed(active.run, &error)?;
        }
        Ok(())
    }

    pub(super) fn attempt_failed(&mut self, mut run: QueuedRun, error: &str) -> anyhow::Result<()> {
        run.failures += 1;
        let retry = run.failures <= self.limits.max_retries;
        self.store.mark_failed(run.id, error, retry)?;
        let first_line = error.lines().next().unwrap_or_default();
        if retry {
            let outcome = format!("failed ({first_line}); retrying from its last checkpoint");
            self.display.ended(run.id, &outcome, false);
            self.tally.retried += 1;
            self.queue.push_back(run);
        } else {
            self.display.ended(run.id, &format!("failed: {first_line}"), true);
            self.tally.failed += 1;
            self.failed_for_good(run.id)?;
        }
        Ok(())
    }

    /// The runs judged after a failed run need not wait for it, nor the proposals after it.
    fn failed_for_good(&mut self, id: RunId) -> anyhow::Result<()> {
        if let Some(proposer) = self.proposer.as_deref_mut() {
            proposer.ended(id, None);
        }
        if let Some(judge) = &mut self.limits.judge {
            judge.ended(id, false);
        }
        self.apply_decided()
    }

    pub(super) fn enforce_timeouts(&mut self) {
        let now = Instant::now();
        for active in self.active.values_mut() {
            let waiting = active.waiting_at.is_some();
            if !active.timed_out && !waiting && active.deadline.is_some_and(|d| d <= now) {
                active.timed_out = true;
                active.control.kill();
            }
        }
    }
}

/// `90 s`, `30 min`, `2 h`.
fn humanize(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}
