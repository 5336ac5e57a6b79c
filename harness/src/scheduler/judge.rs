//! Early termination inside the scheduler: every run's validation curve as its points
//! arrive, and the verdict on each evaluation a judged run waits at. A verdict is given once
//! per (run, evaluation) — only ASHA's `pause` is revised, to `continue` when promoted or
//! `stop` when the sweep ends —, recorded in the store before the worker hears it, and read
//! back by a resumed session, so an evaluation judged before a crash is never judged again.
//! The unit of progress is the evaluation: the n-th validation point after step 0.

use std::collections::{BTreeSet, HashMap, HashSet};

use model::Verdict;
use results::{Decision, RunId, VerdictRecord};

use crate::spec::Goal;
use crate::stopping::asha::{Asha, AtRung};
use crate::stopping::hyperband::Hyperband;
use crate::stopping::median::Median;
use crate::stopping::{EarlyTerminate, sorted_values};

#[derive(Clone, Debug)]
pub struct Judge {
    rule: EarlyTerminate,
    goal: Goal,
    /// Each run's validation points after step 0: (step, loss), in step order.
    curves: HashMap<RunId, Vec<(u64, f64)>>,
    /// The same losses as a minimizer sees them, and of those the finite ones (W&B's
    /// hyperband leaves the others out): what a run adds to `completed_at` when it completes,
    /// and what a restart takes out of `finite_at`.
    losses: HashMap<RunId, Minimized>,
    /// Runs that trained to their end (the median compares with these).
    completed: HashSet<RunId>,
    /// For each evaluation (0-based), the completed runs' values at it as a minimizer sees
    /// them, sorted, NaN left out: the median's input, kept as runs complete.
    completed_at: Vec<Vec<f64>>,
    /// For each index e, every run's (e + 1)-th finite value, sorted, no trailing empty list:
    /// hyperband's input, kept as points arrive.
    finite_at: Vec<Vec<f64>>,
    /// Verdicts already given, this session or an earlier one, as they stand now.
    given: HashMap<(RunId, u64), Decision>,
    /// The (run, step) of each `pause` in `given`, by run: which runs are held is asked for
    /// every run at a session's start and every worker's end.
    paused: BTreeSet<(RunId, u64)>,
}

/// A run's losses as a minimizer sees them: all, and the finite ones.
#[derive(Clone, Debug, Default)]
struct Minimized {
    all: Vec<f64>,
    finite: Vec<f64>,
}

impl Minimized {
    fn push(&mut self, value: f64) {
        self.all.push(value);
        if value.is_finite() {
            self.finite.push(value);
        }
    }
}

/// The verdict on one evaluation, and what to record before the worker hears it.
#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
    pub decision: Decision,
    /// The new verdict (none when it was given before), and the revisions of the paused
    /// runs it promotes.
    pub records: Vec<VerdictRecord>,
    /// Paused runs to resume now (ASHA).
    pub promoted: Vec<RunId>,
}

impl Judgement {
    /// A decision with nothing to record: given before, or between ASHA's rungs.
    fn unrecorded(decision: Decision) -> Self {
        Self {
            decision,
            records: Vec::new(),
            promoted: Vec::new(),
        }
    }
}

impl Judge {
    /// `curves`: the stored validation curves; `completed`: the runs stored as completed;
    /// `given`: the stored verdicts.
    pub fn new(
        rule: EarlyTerminate,
        goal: Goal,
        curves: impl IntoIterator<Item = (RunId, Vec<(u64, f64)>)>,
        completed: impl IntoIterator<Item = RunId>,
        given: impl IntoIterator<Item = VerdictRecord>,
    ) -> Self {
        let given: HashMap<(RunId, u64), Decision> = given.into_iter().map(|v| ((v.run, v.step), v.decision)).collect();
        let completed: Vec<RunId> = completed.into_iter().collect();
        let mut judge = Self {
            rule,
            goal,
            curves: HashMap::new(),
            losses: HashMap::new(),
            completed: HashSet::new(),
            completed_at: Vec::new(),
            finite_at: Vec::new(),
            paused: given
                .iter()
                .filter(|(_, decision)| **decision == Decision::Pause)
                .map(|(key, _)| *key)
                .collect(),
            given,
        };
        for (run, curve) in curves {
            judge.restart(run, &curve);
        }
        for run in completed {
            judge.completed(run);
        }
        judge
    }

    /// A validation point arrived.
    pub fn observe(&mut self, run: RunId, step: u64, loss: f64) {
        if step > 0 {
            self.curves.entry(run).or_default().push((step, loss));
            let value = self.goal.minimized(loss);
            let losses = self.losses.entry(run).or_default();
            losses.push(value);
            if value.is_finite() {
                let at = losses.finite.len() - 1;
                if self.finite_at.len() <= at {
                    self.finite_at.resize_with(at + 1, Vec::new);
                }
                sorted_values::insert(&mut self.finite_at[at], value);
            }
        }
    }

    /// The run trained to its end.
    pub fn completed(&mut self, run: RunId) {
        if !self.completed.insert(run) {
            return;
        }
        let values = self.losses.get(&run).map_or(&[][..], |losses| losses.all.as_slice());
        if self.completed_at.len() < values.len() {
            self.completed_at.resize_with(values.len(), Vec::new);
        }
        for (at, &value) in self.completed_at.iter_mut().zip(values) {
            if !value.is_nan() {
                sorted_values::insert(at, value);
            }
        }
    }

    /// The run (re)started with `curve` (from its checkpoint): points past it are gone.
    pub fn restart(&mut self, run: RunId, curve: &[(u64, f64)]) {
        if let Some(gone) = self.losses.remove(&run) {
            for (at, value) in self.finite_at.iter_mut().zip(gone.finite) {
                sorted_values::remove(at, value);
            }
            while self.finite_at.last().is_some_and(Vec::is_empty) {
                self.finite_at.pop();
            }
        }
        self.curves.insert(run, Vec::new());
        for &(step, loss) in curve {
            self.observe(run, step, loss);
        }
    }

    /// Whether the run is held at a rung (its pause not revised).
    pub fn is_paused(&self, run: RunId) -> bool {
        self.paused.range((run, 0)..=(run, u64::MAX)).next().is_some()
    }

    /// The sweep ends: every pause becomes a stop (records to write, by run).
    pub fn stop_paused(&mut self) -> Vec<VerdictRecord> {
        let paused: Vec<(RunId, u64)> = self.paused.iter().copied().collect();
        paused
            .into_iter()
            .map(|(run, step)| self.decide(run, step, Decision::Stop))
            .collect()
    }

    /// The verdict on `run`'s evaluation at `step`: the one given before, or the rule's over
    /// every run's curve as it is now.
    pub fn verdict(&mut self, run: RunId, step: u64) -> Judgement {
        if let Some(&decision) = self.given.get(&(run, step)) {
            return Judgement::unrecorded(decision);
        }
        let own = self.curve_to(run, step);
        let (decision, promoted) = match self.rule {
            EarlyTerminate::Hyperband(rule) => (stop_if(self.hyperband_stops(rule, &own)), Vec::new()),
            EarlyTerminate::Median(rule) => (stop_if(self.median_stops(rule, &own)), Vec::new()),
            EarlyTerminate::Asha(rule) if rule.is_rung(own.len()) => self.asha(rule, run, own.len()),
            // Between rungs a run goes on, unrecorded.
            EarlyTerminate::Asha(_) => return Judgement::unrecorded(Decision::Continue),
        };
        let mut records = vec![self.decide(run, step, decision)];
        for &(other, other_step) in &promoted {
            records.push(self.decide(other, other_step, Decision::Continue));
        }
        Judgement {
            decision,
            records,
            promoted: promoted.into_iter().map(|(other, _)| other).collect(),
        }
    }

    fn decide(&mut self, run: RunId, step: u64, decision: Decision) -> VerdictRecord {
        self.given.insert((run, step), decision);
        if decision == Decision::Pause {
            self.paused.insert((run, step));
        } else {
            self.paused.remove(&(run, step));
        }
        let value = self.curve_to(run, step).last().map_or(f64::NAN, |(_, loss)| *loss);
        VerdictRecord {
            run,
            step,
            value,
            decision,
        }
    }

    /// The run's validation points up to `step`.
    fn curve_to(&self, run: RunId, step: u64) -> Vec<(u64, f64)> {
        self.curves
            .get(&run)
            .map(|curve| curve.iter().copied().filter(|(s, _)| *s <= step).collect())
            .unwrap_or_default()
    }

    /// W&B's hyperband verdict: thresholds from every run's values (the judged run's own
    /// included: its curve ends at the step it waits at) as `finite_at` keeps them.
    fn hyperband_stops(&self, rule: Hyperband, own: &[(u64, f64)]) -> bool {
        // W&B's engine leaves non-finite values out.
        let own: Vec<f64> = self.minimized(own).into_iter().filter(|v| v.is_finite()).collect();
        rule.stops_given(&own, &self.finite_at)
    }

    fn median_stops(&self, rule: Median, own: &[(u64, f64)]) -> bool {
        // The judged run is running: it is not among the completed.
        let own = self.minimized(own);
        let at_evaluation = own
            .len()
            .checked_sub(1)
            .and_then(|evaluation| self.completed_at.get(evaluation))
            .map_or(&[][..], Vec::as_slice);
        rule.stops(&own, self.completed.len(), at_evaluation)
    }

    /// `run` reached the rung of `evaluations`: it goes on or pauses, and the paused runs
    /// its arrival puts among the best go on (with the step each paused at).
    fn asha(&self, rule: Asha, run: RunId, evaluations: usize) -> (Decision, Vec<(RunId, u64)>) {
        let mut at_rung: Vec<((RunId, u64), f64, AtRung)> = self
            .curves
            .iter()
            .filter_map(|(&other, curve)| {
                let (step, loss) = *curve.get(evaluations - 1)?;
                let standing = if other == run {
                    AtRung::Arriving
                } else {
                    match self.given.get(&(other, step)) {
                        Some(Decision::Continue) => AtRung::Promoted,
                        Some(Decision::Pause) => AtRung::Paused,
                        Some(Decision::Stop) => AtRung::Ended,
                        None if self.completed.contains(&other) => AtRung::Ended,
                        None if curve.len() > evaluations => AtRung::Promoted,
                        // There now, and about to be judged: it counts when it is.
                        None => return None,
                    }
                };
                Some(((other, step), self.goal.minimized(loss), standing))
            })
            .collect();
        // By run, so that equal values rank the same in every session (a map has no order).
        at_rung.sort_by_key(|((other, _), _, _)| *other);
        let mut promoted = rule.promote(&at_rung);
        let goes_on = promoted.iter().any(|(other, _)| *other == run);
        promoted.retain(|(other, _)| *other != run);
        let decision = if goes_on { Decision::Continue } else { Decision::Pause };
        (decision, promoted)
    }

    /// Losses as a minimizer sees them.
    fn minimized(&self, curve: &[(u64, f64)]) -> Vec<f64> {
        curve.iter().map(|(_, loss)| self.goal.minimized(*loss)).collect()
    }
}

fn stop_if(stop: bool) -> Decision {
    if stop { Decision::Stop } else { Decision::Continue }
}

/// What the worker hears: a paused run checkpoints and ends, to be resumed when promoted.
pub fn worker_verdict(decision: Decision) -> Verdict {
    match decision {
        Decision::Continue => Verdict::Continue,
        Decision::Stop => Verdict::Stop,
        Decision::Pause => Verdict::Interrupt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stopping::hyperband::Bands;
    use Decision::{Continue, Pause, Stop};

    fn hyperband() -> EarlyTerminate {
        EarlyTerminate::Hyperband(Hyperband::new(Bands::Up { min_iter: 1 }, 2.0, true).unwrap())
    }

    fn record(run: i64, step: u64, value: f64, decision: Decision) -> VerdictRecord {
        VerdictRecord {
            run: RunId(run),
            step,
            value,
            decision,
        }
    }

    fn judge(given: Vec<VerdictRecord>) -> Judge {
        let curves = vec![
            (RunId(1), vec![(0, 3.3), (100, 2.0), (200, 1.9)]),
            (RunId(2), vec![(0, 3.3), (100, 2.2)]),
        ];
        Judge::new(hyperband(), Goal::Minimize, curves, [], given)
    }

    /// `run` reports `loss` at `step` and asks.
    fn ask(judge: &mut Judge, run: i64, step: u64, loss: f64) -> Judgement {
        judge.observe(RunId(run), step, loss);
        judge.verdict(RunId(run), step)
    }

    #[test]
    fn a_run_behind_the_threshold_of_its_band_is_stopped_and_one_ahead_goes_on() {
        let mut judge = judge(vec![]);
        // Band 1 (one evaluation): 2.0, 2.2 and the candidate's 2.5, sorted; the threshold
        // is the one at index ⌊3/2⌋: 2.2, and 2.5 is worse. A fourth run at 2.1 is not.
        let stopped = ask(&mut judge, 3, 100, 2.5);
        assert_eq!(stopped.decision, Stop);
        assert_eq!(stopped.records, [record(3, 100, 2.5, Stop)]);
        assert_eq!(ask(&mut judge, 4, 100, 2.1).decision, Continue);
    }

    #[test]
    fn a_verdict_given_before_is_given_again_and_not_recorded_twice() {
        // Stored: run 3 went on at 100, although its value would stop it now.
        let mut judge = judge(vec![record(3, 100, 2.5, Continue)]);
        let again = ask(&mut judge, 3, 100, 2.5);
        assert_eq!((again.decision, again.records.len()), (Continue, 0));
        // Asked again in the same session (a worker resumed at that evaluation): the same.
        let first = judge.verdict(RunId(2), 100);
        assert_eq!(first.records.len(), 1);
        let second = judge.verdict(RunId(2), 100);
        assert_eq!((second.decision, second.records.len()), (first.decision, 0));
    }

    #[test]
    fn a_restarted_run_is_judged_on_its_checkpoint_s_curve() {
        let mut judge = judge(vec![]);
        judge.observe(RunId(3), 100, 1.0);
        judge.observe(RunId(3), 200, 9.0);
        // Resumed from step 100: the 9.0 it had reached is gone.
        judge.restart(RunId(3), &[(0, 3.3), (100, 1.0)]);
        assert_eq!(ask(&mut judge, 3, 200, 1.5).decision, Continue);
    }

    #[test]
    fn a_value_a_restart_took_away_counts_for_no_other_run() {
        let mut judge = judge(vec![]);
        // Run 4 reached 9.0 at its second evaluation, then resumed from its first. Band 2 then
        // holds 1.9 (run 1), 2.1 (run 6) and the judged run's 2.2: the threshold, at index
        // ⌊3/2⌋, is 2.1, and 2.2 is worse. With the 9.0 it would be 2.2, and the run go on.
        for (run, second) in [(4, 9.0), (6, 2.1)] {
            judge.observe(RunId(run), 100, 2.0);
            judge.observe(RunId(run), 200, second);
        }
        judge.restart(RunId(4), &[(100, 2.0)]);
        judge.observe(RunId(5), 100, 2.0);
        assert_eq!(ask(&mut judge, 5, 200, 2.2).decision, Stop);
    }

    #[test]
    fn when_maximizing_the_higher_value_is_the_better() {
        let curves = vec![(RunId(1), vec![(100, 0.9)]), (RunId(2), vec![(100, 0.8)])];
        let mut judge = Judge::new(hyperband(), Goal::Maximize, curves, [], vec![]);
        assert_eq!(ask(&mut judge, 3, 100, 0.5).decision, Stop);
        assert_eq!(ask(&mut judge, 4, 100, 0.95).decision, Continue);
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
        assert_eq!(ask(&mut judge, 3, 100, 1.5).decision, Continue, "below run 1's 2.0");
        assert_eq!(ask(&mut judge, 4, 100, 2.5).decision, Stop);
        // Once run 2 completes, the median of 2.0 and 1.0 is 1.5.
        judge.completed(RunId(2));
        assert_eq!(ask(&mut judge, 5, 100, 1.6).decision, Stop);
        // Runs completing in any order: the median of 2.0, 1.0, 3.0 and 0.5 is 1.5 (Optuna,
        // as above: pruned when the best so far is above it).
        for (run, loss) in [(6, 3.0), (7, 0.5)] {
            judge.observe(RunId(run), 100, loss);
            judge.completed(RunId(run));
        }
        assert_eq!(ask(&mut judge, 8, 100, 1.4).decision, Continue);
        assert_eq!(ask(&mut judge, 9, 100, 1.6).decision, Stop);
    }

    #[test]
    fn asha_pauses_at_a_rung_promotes_when_a_later_run_makes_room_and_stops_the_rest_at_the_end() {
        // Rungs at 1, 3, 9 evaluations; a third of each rung goes on.
        let rule = EarlyTerminate::Asha(Asha { min_iter: 1, eta: 3.0 });
        let mut judge = Judge::new(rule, Goal::Minimize, Vec::new(), [], vec![]);
        // The first two wait: ⌊2/3⌋ = 0 may go on.
        assert_eq!(ask(&mut judge, 1, 100, 2.0).decision, Pause);
        assert_eq!(ask(&mut judge, 2, 100, 1.5).decision, Pause);
        assert!(judge.is_paused(RunId(2)));
        // The third (worse) makes room for one: the best, run 2, is promoted.
        let third = ask(&mut judge, 3, 100, 2.5);
        assert_eq!((third.decision, third.promoted), (Pause, vec![RunId(2)]));
        assert_eq!(
            third.records,
            [record(3, 100, 2.5, Pause), record(2, 100, 1.5, Continue)]
        );
        assert!(!judge.is_paused(RunId(2)));
        // Run 2 resumes at its rung: it hears `continue`; between rungs nothing is recorded.
        assert_eq!(judge.verdict(RunId(2), 100).decision, Continue);
        let between = ask(&mut judge, 2, 200, 1.4);
        assert_eq!((between.decision, between.records.len()), (Continue, 0));
        // The sweep ends: the runs still paused stop where they are.
        let mut stopped = judge.stop_paused();
        stopped.sort_by_key(|r| r.run);
        assert_eq!(stopped, [record(1, 100, 2.0, Stop), record(3, 100, 2.5, Stop)]);
        assert!(!judge.is_paused(RunId(1)));
    }
}
