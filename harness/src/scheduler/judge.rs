//! Early termination inside the scheduler: every run's validation curve as its points
//! arrive, and the verdict on each evaluation a judged run waits at. A verdict is given once
//! per (run, evaluation), recorded in the store before the worker hears it, and read back
//! by a resumed session, so an evaluation judged before a crash is never judged again.
//! The unit of progress is the evaluation: the n-th validation point after step 0.

use std::collections::HashMap;

use model::Verdict;
use results::RunId;

use super::hyperband::{History, Hyperband};
use crate::spec::Goal;

#[derive(Clone, Debug)]
pub struct Judge {
    rule: Hyperband,
    goal: Goal,
    /// Each run's validation points after step 0: (step, loss), in step order.
    curves: HashMap<RunId, Vec<(u64, f64)>>,
    /// Verdicts already given, this session or an earlier one: stop or go on.
    given: HashMap<(RunId, u64), bool>,
}

/// A verdict given now, to record before the worker hears it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NewVerdict {
    pub step: u64,
    /// The run's validation loss at that evaluation.
    pub value: f64,
    pub stop: bool,
}

impl Judge {
    /// `curves`: the stored validation curves; `given`: the stored verdicts (run, step, stop).
    pub fn new(
        rule: Hyperband,
        goal: Goal,
        curves: impl IntoIterator<Item = (RunId, Vec<(u64, f64)>)>,
        given: impl IntoIterator<Item = (RunId, u64, bool)>,
    ) -> Self {
        let mut judge = Self {
            rule,
            goal,
            curves: HashMap::new(),
            given: given.into_iter().map(|(run, step, stop)| ((run, step), stop)).collect(),
        };
        for (run, curve) in curves {
            judge.restart(run, &curve);
        }
        judge
    }

    /// A validation point arrived.
    pub fn observe(&mut self, run: RunId, step: u64, loss: f64) {
        if step > 0 {
            self.curves.entry(run).or_default().push((step, loss));
        }
    }

    /// The run (re)started with `curve` (from its checkpoint): points past it are gone.
    pub fn restart(&mut self, run: RunId, curve: &[(u64, f64)]) {
        self.curves
            .insert(run, curve.iter().copied().filter(|(step, _)| *step > 0).collect());
    }

    /// The verdict on `run`'s evaluation at `step`, and the new record when it was not given
    /// before: stop when the run is worse than its band's threshold, over every run's curve.
    pub fn verdict(&mut self, run: RunId, step: u64) -> (Verdict, Option<NewVerdict>) {
        if let Some(&stop) = self.given.get(&(run, step)) {
            return (verdict(stop), None);
        }
        let own: Vec<(u64, f64)> = self
            .curves
            .get(&run)
            .map(|curve| curve.iter().copied().filter(|(s, _)| *s <= step).collect())
            .unwrap_or_default();
        let value = own.last().map_or(f64::NAN, |(_, loss)| *loss);
        let mut histories = vec![self.history(own.iter().map(|(_, loss)| *loss), true)];
        histories.extend(
            self.curves
                .iter()
                .filter(|(other, _)| **other != run)
                .map(|(_, curve)| self.history(curve.iter().map(|(_, loss)| *loss), false)),
        );
        let stop = self.rule.runs_to_stop(&histories).contains(&0);
        self.given.insert((run, step), stop);
        (verdict(stop), Some(NewVerdict { step, value, stop }))
    }

    /// A curve as a minimizer sees it, without non-finite values (as W&B's engine).
    fn history(&self, losses: impl Iterator<Item = f64>, running: bool) -> History {
        let sign = if self.goal == Goal::Maximize { -1.0 } else { 1.0 };
        History {
            running,
            values: losses.filter(|v| v.is_finite()).map(|v| sign * v).collect(),
        }
    }
}

fn verdict(stop: bool) -> Verdict {
    if stop { Verdict::Stop } else { Verdict::Continue }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::hyperband::Bands;

    fn judge(given: Vec<(RunId, u64, bool)>) -> Judge {
        let rule = Hyperband::new(Bands::Up { min_iter: 1 }, 2.0, true).unwrap();
        let curves = vec![
            (RunId(1), vec![(0, 3.3), (100, 2.0), (200, 1.9)]),
            (RunId(2), vec![(0, 3.3), (100, 2.2)]),
        ];
        Judge::new(rule, Goal::Minimize, curves, given)
    }

    #[test]
    fn a_run_behind_the_threshold_of_its_band_is_stopped_and_one_ahead_goes_on() {
        let mut judge = judge(vec![]);
        // Band 1 (one evaluation): 2.0, 2.2 and the candidate's 2.5, sorted; the threshold
        // is the one at index ⌊3/2⌋: 2.2, and 2.5 is worse. A fourth run at 2.1 is not.
        judge.observe(RunId(3), 100, 2.5);
        let (verdict, record) = judge.verdict(RunId(3), 100);
        assert_eq!(verdict, Verdict::Stop);
        assert_eq!(
            record,
            Some(NewVerdict {
                step: 100,
                value: 2.5,
                stop: true
            })
        );
        judge.observe(RunId(4), 100, 2.1);
        assert_eq!(judge.verdict(RunId(4), 100).0, Verdict::Continue);
    }

    #[test]
    fn a_verdict_given_before_is_given_again_and_not_recorded_twice() {
        // Stored: run 3 went on at 100, although its value would stop it now.
        let mut judge = judge(vec![(RunId(3), 100, false)]);
        judge.observe(RunId(3), 100, 2.5);
        assert_eq!(judge.verdict(RunId(3), 100), (Verdict::Continue, None));
        // Asked again in the same session (a worker resumed at that evaluation): the same.
        let mut fresh = judge.clone();
        let first = fresh.verdict(RunId(2), 100);
        assert!(first.1.is_some());
        assert_eq!(fresh.verdict(RunId(2), 100), (first.0, None));
    }

    #[test]
    fn a_restarted_run_is_judged_on_its_checkpoint_s_curve() {
        let mut judge = judge(vec![]);
        judge.observe(RunId(3), 100, 1.0);
        judge.observe(RunId(3), 200, 9.0);
        // Resumed from step 100: the 9.0 it had reached is gone.
        judge.restart(RunId(3), &[(0, 3.3), (100, 1.0)]);
        judge.observe(RunId(3), 200, 1.5);
        assert_eq!(judge.verdict(RunId(3), 200).0, Verdict::Continue);
    }

    #[test]
    fn when_maximizing_the_higher_value_is_the_better() {
        let rule = Hyperband::new(Bands::Up { min_iter: 1 }, 2.0, true).unwrap();
        let curves = vec![(RunId(1), vec![(100, 0.9)]), (RunId(2), vec![(100, 0.8)])];
        let mut judge = Judge::new(rule, Goal::Maximize, curves, vec![]);
        judge.observe(RunId(3), 100, 0.5);
        assert_eq!(judge.verdict(RunId(3), 100).0, Verdict::Stop);
        judge.observe(RunId(4), 100, 0.95);
        assert_eq!(judge.verdict(RunId(4), 100).0, Verdict::Continue);
    }
}
