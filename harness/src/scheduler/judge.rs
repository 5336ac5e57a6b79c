//! Early termination inside the scheduler: every run's validation curve as its points
//! arrive, and the verdict on each evaluation a judged run waits at. A verdict is given once
//! per (run, evaluation), recorded in the store before the worker hears it, and read back
//! by a resumed session, so an evaluation judged before a crash is never judged again.
//! The unit of progress is the evaluation: the n-th validation point after step 0.

use std::collections::{HashMap, HashSet};

use model::Verdict;
use results::RunId;
use serde::{Deserialize, Serialize};

use super::hyperband::{History, Hyperband};
use super::median::Median;
use crate::spec::Goal;

/// A sweep's `early_terminate:` rule, validated.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EarlyTerminate {
    Hyperband(Hyperband),
    Median(Median),
}

impl EarlyTerminate {
    /// One line for `--dry-run`, for runs of at most `longest` evaluations.
    pub fn describe(&self, longest: usize) -> String {
        match self {
            Self::Hyperband(rule) => rule.describe(longest),
            Self::Median(rule) => format!(
                "median: from {} completed runs on, a run whose best val so far is worse than their median at \
                 the same evaluation stops (its first {} evaluations are not judged)",
                rule.n_startup_runs, rule.n_warmup_evals
            ),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Judge {
    rule: EarlyTerminate,
    goal: Goal,
    /// Each run's validation points after step 0: (step, loss), in step order.
    curves: HashMap<RunId, Vec<(u64, f64)>>,
    /// Runs that trained to their end (the median compares with these).
    completed: HashSet<RunId>,
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
    /// `curves`: the stored validation curves; `completed`: the runs stored as completed;
    /// `given`: the stored verdicts (run, step, stop).
    pub fn new(
        rule: EarlyTerminate,
        goal: Goal,
        curves: impl IntoIterator<Item = (RunId, Vec<(u64, f64)>)>,
        completed: impl IntoIterator<Item = RunId>,
        given: impl IntoIterator<Item = (RunId, u64, bool)>,
    ) -> Self {
        let mut judge = Self {
            rule,
            goal,
            curves: HashMap::new(),
            completed: completed.into_iter().collect(),
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

    /// The run trained to its end.
    pub fn completed(&mut self, run: RunId) {
        self.completed.insert(run);
    }

    /// The run (re)started with `curve` (from its checkpoint): points past it are gone.
    pub fn restart(&mut self, run: RunId, curve: &[(u64, f64)]) {
        self.curves
            .insert(run, curve.iter().copied().filter(|(step, _)| *step > 0).collect());
    }

    /// The verdict on `run`'s evaluation at `step`, and the new record when it was not given
    /// before: the rule's, over every run's curve as it is now.
    pub fn verdict(&mut self, run: RunId, step: u64) -> (Verdict, Option<NewVerdict>) {
        if let Some(&stop) = self.given.get(&(run, step)) {
            return (verdict(stop), None);
        }
        let own: Vec<f64> = self
            .curves
            .get(&run)
            .map(|curve| {
                curve
                    .iter()
                    .filter(|(s, _)| *s <= step)
                    .map(|(_, loss)| *loss)
                    .collect()
            })
            .unwrap_or_default();
        let value = own.last().copied().unwrap_or(f64::NAN);
        let others = self.curves.iter().filter(|(other, _)| **other != run);
        let stop = match self.rule {
            EarlyTerminate::Hyperband(rule) => {
                // W&B's engine leaves non-finite values out.
                let history = |values: &[f64], running| History {
                    running,
                    values: self.minimized(values).into_iter().filter(|v| v.is_finite()).collect(),
                };
                let mut histories = vec![history(&own, true)];
                histories.extend(others.map(|(_, curve)| history(&losses(curve), false)));
                rule.runs_to_stop(&histories).contains(&0)
            }
            EarlyTerminate::Median(rule) => {
                let completed: Vec<Vec<f64>> = others
                    .filter(|(other, _)| self.completed.contains(other))
                    .map(|(_, curve)| self.minimized(&losses(curve)))
                    .collect();
                let completed: Vec<&[f64]> = completed.iter().map(Vec::as_slice).collect();
                rule.stops(&self.minimized(&own), &completed)
            }
        };
        self.given.insert((run, step), stop);
        (verdict(stop), Some(NewVerdict { step, value, stop }))
    }

    /// Values as a minimizer sees them.
    fn minimized(&self, values: &[f64]) -> Vec<f64> {
        let sign = if self.goal == Goal::Maximize { -1.0 } else { 1.0 };
        values.iter().map(|v| sign * v).collect()
    }
}

fn losses(curve: &[(u64, f64)]) -> Vec<f64> {
    curve.iter().map(|(_, loss)| *loss).collect()
}

fn verdict(stop: bool) -> Verdict {
    if stop { Verdict::Stop } else { Verdict::Continue }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::hyperband::Bands;

    fn hyperband() -> EarlyTerminate {
        EarlyTerminate::Hyperband(Hyperband::new(Bands::Up { min_iter: 1 }, 2.0, true).unwrap())
    }

    fn judge(given: Vec<(RunId, u64, bool)>) -> Judge {
        let curves = vec![
            (RunId(1), vec![(0, 3.3), (100, 2.0), (200, 1.9)]),
            (RunId(2), vec![(0, 3.3), (100, 2.2)]),
        ];
        Judge::new(hyperband(), Goal::Minimize, curves, [], given)
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
        let curves = vec![(RunId(1), vec![(100, 0.9)]), (RunId(2), vec![(100, 0.8)])];
        let mut judge = Judge::new(hyperband(), Goal::Maximize, curves, [], vec![]);
        judge.observe(RunId(3), 100, 0.5);
        assert_eq!(judge.verdict(RunId(3), 100).0, Verdict::Stop);
        judge.observe(RunId(4), 100, 0.95);
        assert_eq!(judge.verdict(RunId(4), 100).0, Verdict::Continue);
    }

    #[test]
    fn the_median_compares_with_completed_runs_only() {
        let rule = EarlyTerminate::Median(Median {
            n_startup_runs: 1,
            n_warmup_evals: 0,
        });
        // Run 1 completed at 2.0; run 2, still running, is far better.
        let curves = vec![(RunId(1), vec![(100, 2.0)]), (RunId(2), vec![(100, 1.0)])];
        let mut judge = Judge::new(rule, Goal::Minimize, curves, [RunId(1)], vec![]);
        judge.observe(RunId(3), 100, 1.5);
        assert_eq!(
            judge.verdict(RunId(3), 100).0,
            Verdict::Continue,
            "1.5 is below run 1's 2.0"
        );
        judge.observe(RunId(4), 100, 2.5);
        assert_eq!(judge.verdict(RunId(4), 100).0, Verdict::Stop);
        // Once run 2 completes, the median of 2.0 and 1.0 is 1.5.
        judge.completed(RunId(2));
        judge.observe(RunId(5), 100, 1.6);
        assert_eq!(judge.verdict(RunId(5), 100).0, Verdict::Stop);
    }
}
