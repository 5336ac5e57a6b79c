//! W&B's rules as W&B applies them (`order: arrival`): every run's validation curve as its
//! points arrive, and the verdict on each evaluation from the curves as they stand when the
//! run asks, so a verdict depends on which runs got there first. A verdict is given once per
//! (run, evaluation) — only ASHA's `pause` is revised, to `continue` when promoted or `stop`
//! when the sweep ends — and a resumed session reads back those given before.

use std::collections::{BTreeSet, HashMap, HashSet};

use results::{Decision, RunId, VerdictRecord};

use super::{Decides, Judgement, best_to_finish, stop_if};

use crate::spec::Goal;
use crate::stopping::asha::{Asha, AtRung};
use crate::stopping::hyperband::Hyperband;
use crate::stopping::median::Median;
use crate::stopping::{EarlyTerminate, sorted_values};

#[derive(Clone, Debug)]
pub struct ByArrival {
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
    /// The run ASHA sends on to its budget past every rung, when the sweep would otherwise
    /// end with no run trained to its end (`finish_best`).
    finishing: Option<RunId>,
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

impl ByArrival {
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
            finishing: None,
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

    /// Nothing is left to start or promote and no run trained to its end: as successive
    /// halving keeps at least one configuration to the full budget, the best run paused at the
    /// highest rung reached goes on, and on past every later rung. Its revised verdict to
    /// record; `None` under another rule, once a run completed, or with no run paused.
    pub fn finish_best(&mut self) -> Option<VerdictRecord> {
        if !matches!(self.rule, EarlyTerminate::Asha(_)) || !self.completed.is_empty() {
            return None;
        }
        let (run, step) = best_to_finish(self.paused.iter().map(|&(run, step)| {
            let curve = self.curve_to(run, step);
            let value = curve.last().map_or(f64::NAN, |(_, loss)| self.goal.minimized(*loss));
            (run, step, curve.len(), value)
        }))?;
        self.finishing = Some(run);
        Some(self.decide(run, step, Decision::Continue))
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
            // The run sent on to its budget passes every rung.
            EarlyTerminate::Asha(rule) if rule.is_rung(own.len()) && self.finishing == Some(run) => {
                (Decision::Continue, Vec::new())
            }
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

    pub(super) fn decide(&mut self, run: RunId, step: u64, decision: Decision) -> VerdictRecord {
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

impl Decides for ByArrival {
    fn paused(&self) -> Vec<(RunId, u64)> {
        self.paused.iter().copied().collect()
    }

    fn decide(&mut self, run: RunId, step: u64, decision: Decision) -> VerdictRecord {
        ByArrival::decide(self, run, step, decision)
    }
}

#[cfg(test)]
#[path = "arrival_tests.rs"]
mod tests;
