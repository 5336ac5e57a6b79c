//! How a session stops launching: a completed run reaches the metric's target (running runs
//! finish, queued ones never start), or the user presses Ctrl-C (workers checkpoint and stop;
//! a second Ctrl-C kills them).

use results::RunId;

use super::{Launcher, RunStore, Scheduler, SweepDisplay};

impl<L: Launcher + ?Sized, S: RunStore, D: SweepDisplay> Scheduler<'_, '_, L, S, D> {
    /// Stops launching once a completed run reaches the metric's target (running runs finish).
    pub(super) fn check_target(&mut self, id: RunId, losses: [f64; 3]) {
        let metric = self.limits.metric;
        let value = metric.loss.pick(losses);
        if self.target_reached || !metric.reaches_target(value) {
            return;
        }
        self.target_reached = true;
        let waiting = self.queue.len();
        self.display.notice(&format!(
            "{}: the {waiting} queued run{} will not start",
            metric.target_reached_message(id, value),
            if waiting == 1 { "" } else { "s" }
        ));
    }

    /// Once the target is reached the queued and held runs never start again: the runs judged
    /// after them need not wait for them (a run queued later, a retry or a promotion, too).
    pub(super) fn abandon_unstarted(&mut self) -> anyhow::Result<()> {
        if let Some(judge) = &mut self.limits.judge {
            let unstarted = self.queue.iter().map(|run| run.id).chain(self.paused.keys().copied());
            unstarted.for_each(|run| judge.ended(run, false));
        }
        self.apply_decided()
    }

    pub(super) fn interrupt(&mut self) {
        if self.stopping {
            self.display.notice("killing the workers");
            self.active.values_mut().for_each(|a| a.control.kill());
        } else {
            self.stopping = true;
            self.display
                .notice("stopping: no new runs; running ones checkpoint and stop (Ctrl-C again to kill them)");
            for active in self.active.values_mut() {
                // One waiting for its turn hears nothing else.
                if active.waiting_at.take().is_some() {
                    active.control.send_verdict(model::Verdict::Interrupt);
                } else {
                    active.control.stop();
                }
            }
        }
    }
}
