//! Early termination in run order (`order: run`, the default): a run's verdict at a judged
//! evaluation is made from the runs before it in that evaluation's order — run order, or at
//! ASHA's later rungs the order runs were sent on to them — once each of those has reached
//! it or ended. So verdicts do not depend on how many workers there are, their speed, or
//! crashes. A run that gets there before its turn waits: the scheduler holds it in place
//! (hyperband, median) or pauses it (ASHA) until `take_decided` hands its verdict over.

mod turns;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use results::{Decision, RunId, VerdictRecord};

use super::{Basis, Decided, Decides, Judgement, Replayed, best_to_finish};
use crate::spec::Goal;
use crate::stopping::EarlyTerminate;
use turns::{Measure, Turns};

/// A run's validation curve, (step, loss).
type ValCurve = (RunId, Vec<(u64, f64)>);

#[derive(Clone, Debug)]
pub struct InRunOrder {
    rule: EarlyTerminate,
    goal: Goal,
    /// Every run of the sweep, in run order.
    runs: Vec<RunId>,
    /// Each run's validation points after step 0 as first reported, (step, loss): a run
    /// restarted from a checkpoint reports the same points again.
    points: HashMap<RunId, Vec<(u64, f64)>>,
    /// Runs that will report no more points: completed, stopped, diverged, failed for good.
    ended: HashSet<RunId>,
    completed: HashSet<RunId>,
    given: HashMap<(RunId, u64), Decision>,
    /// The (run, step) of each `pause` in `given`.
    paused: BTreeSet<(RunId, u64)>,
    /// Runs that asked for a verdict not given yet, and the step they wait at.
    waiting: BTreeMap<RunId, u64>,
    /// Replaying a sweep: the evaluations its runs asked to be judged at.
    replaying: BTreeSet<(RunId, u64)>,
    /// Turn-taking at each judged evaluation count reached so far.
    turns: BTreeMap<usize, Turns>,
    /// ASHA's rungs past the first: the runs sent on to each, in the order they were.
    sent_on: BTreeMap<usize, Vec<RunId>>,
    /// What a run was compared with at a judged evaluation count (hyperband, median).
    measures: HashMap<(RunId, usize), Measure>,
    /// The judged evaluation counts up to `checked`, the most evaluations a run has reported.
    judged: Vec<usize>,
    checked: usize,
    /// Replaying a sweep to explain this run: each verdict given on it (and each revision),
    /// with what it was made from, by step.
    explaining: Option<RunId>,
    bases: BTreeMap<u64, Vec<(Decision, Basis)>>,
    /// Verdicts made since the scheduler last took them.
    decided: Vec<Decided>,
    /// The run ASHA sends on to its budget past every rung (see `finish_best`).
    finishing: Option<RunId>,
}

impl InRunOrder {
    /// `runs`: the sweep's runs and whether each ended (and completed); `curves`: their
    /// stored validation curves; `given`: the stored verdicts in the order they were given.
    /// No run has had its turn yet: `advanced` gives the runs theirs.
    pub fn new(
        rule: EarlyTerminate,
        goal: Goal,
        runs: impl IntoIterator<Item = (RunId, bool, bool)>,
        curves: impl IntoIterator<Item = (RunId, Vec<(u64, f64)>)>,
        given: impl IntoIterator<Item = VerdictRecord>,
    ) -> Self {
        let mut judge = Self {
            rule,
            goal,
            runs: Vec::new(),
            points: HashMap::new(),
            ended: HashSet::new(),
            completed: HashSet::new(),
            given: HashMap::new(),
            paused: BTreeSet::new(),
            waiting: BTreeMap::new(),
            replaying: BTreeSet::new(),
            turns: BTreeMap::new(),
            sent_on: BTreeMap::new(),
            measures: HashMap::new(),
            judged: Vec::new(),
            checked: 0,
            explaining: None,
            bases: BTreeMap::new(),
            decided: Vec::new(),
            finishing: None,
        };
        for (run, ended, completed) in runs {
            judge.runs.push(run);
            if ended {
                judge.ended.insert(run);
            }
            if completed {
                judge.completed.insert(run);
            }
        }
        judge.runs.sort_unstable();
        for (run, curve) in curves {
            let points: Vec<(u64, f64)> = curve.into_iter().filter(|(step, _)| *step > 0).collect();
            judge.reported(points.len());
            judge.points.insert(run, points);
        }
        for verdict in given {
            judge.decide(verdict.run, verdict.step, verdict.decision);
        }
        judge
    }

    /// The judge with `run` sent on to its budget before (see `finish_best`).
    pub fn finishing(mut self, run: Option<RunId>) -> Self {
        self.finishing = run;
        self
    }

    /// The judge once every run whose turn has come has had it.
    pub fn advanced(mut self) -> Self {
        self.advance();
        self
    }

    /// Whether a run waiting for its turn keeps its worker: not under ASHA.
    pub fn waits_in_place(&self) -> bool {
        !matches!(self.rule, EarlyTerminate::Asha(_))
    }

    /// The verdicts this judge gives the sweep `runs` and `curves` hold, made again from them
    /// alone as if it ran once more, at each evaluation where a verdict is `stored` (where a
    /// run asked). The two decisions the scheduler takes when it is idle are taken where the
    /// store shows them taken: sending ASHA's best on, and stopping the runs still paused.
    /// `runs` says whether each ended and completed, as for `new`. With `explaining`, what
    /// each of that run's verdicts was made from.
    pub fn replay(
        rule: EarlyTerminate,
        goal: Goal,
        (runs, curves): (Vec<(RunId, bool, bool)>, Vec<ValCurve>),
        stored: &[VerdictRecord],
        explaining: Option<RunId>,
    ) -> Replayed {
        let stored: HashMap<(RunId, u64), Decision> = stored.iter().map(|v| ((v.run, v.step), v.decision)).collect();
        let completed: Vec<RunId> = runs.iter().filter(|run| run.2).map(|run| run.0).collect();
        // Which runs completed matters only to `finish_best`, asked once all else is done.
        let runs = runs.into_iter().map(|(run, ended, _)| (run, ended, false));
        let mut judge = Self::new(rule, goal, runs, curves, []);
        judge.replaying = stored.keys().copied().collect();
        judge.explaining = explaining;
        loop {
            judge.advance();
            let measured: Vec<(RunId, u64, (Decision, Basis))> = judge
                .replaying
                .iter()
                .filter(|key| !judge.given.contains_key(key))
                .filter_map(|&(run, step)| Some((run, step, judge.measured_decision(run, step)?)))
                .collect();
            for (run, step, (decision, basis)) in measured {
                judge.decide_for(run, step, decision, basis);
            }
            // A run sent on by `finish_best` paused at a rung; one that completed past every
            // rung on its own did not.
            judge.completed = completed.iter().copied().filter(|run| !judge.is_held(*run)).collect();
            let sent_on = judge.to_finish();
            if !sent_on.is_some_and(|key| stored.get(&key) == Some(&Decision::Continue)) {
                break;
            }
            judge.finish_best();
        }
        if judge.paused.iter().any(|key| stored.get(key) == Some(&Decision::Stop)) {
            judge.stop_paused();
        }
        let mut verdicts: Vec<VerdictRecord> = judge
            .given
            .iter()
            .map(|(&(run, step), &decision)| judge.record(run, step, decision))
            .collect();
        verdicts.sort_by_key(|v| (v.run, v.step));
        Replayed {
            verdicts,
            bases: judge.bases,
            finishing: judge.finishing,
        }
    }

    /// The search added a run (after every other).
    pub fn add_run(&mut self, run: RunId) {
        self.runs.push(run);
    }

    /// A validation point arrived (one already reported, after a restart, changes nothing).
    pub fn observe(&mut self, run: RunId, step: u64, loss: f64) {
        let points = self.points.entry(run).or_default();
        if step > 0 && points.last().is_none_or(|(last, _)| step > *last) {
            points.push((step, loss));
            let evaluations = points.len();
            self.reported(evaluations);
            self.advance();
        }
    }

    /// The run will report no more points; `completed`: it trained to its end.
    pub fn ended(&mut self, run: RunId, completed: bool) {
        if completed {
            self.completed.insert(run);
        }
        // One that waited for its turn and failed for good, or will never start, waits no more.
        self.waiting.remove(&run);
        if self.ended.insert(run) {
            self.advance();
        }
    }

    /// Whether the run is held at an evaluation: paused at a rung, or waiting for its turn.
    pub fn is_held(&self, run: RunId) -> bool {
        self.waiting.contains_key(&run) || self.paused.range((run, 0)..=(run, u64::MAX)).next().is_some()
    }

    /// The verdict on `run`'s evaluation at `step`: the one given before, or the rule's once
    /// every run before it there has had its turn (`None` until then: it waits).
    pub fn verdict(&mut self, run: RunId, step: u64) -> Option<Judgement> {
        if let Some(&decision) = self.given.get(&(run, step)) {
            return Some(Judgement::unrecorded(decision));
        }
        if let EarlyTerminate::Asha(rule) = self.rule
            && !rule.is_rung(self.evaluations_at(run, step))
        {
            return Some(Judgement::unrecorded(Decision::Continue));
        }
        self.waiting.insert(run, step);
        self.advance();
        let at = self.decided.iter().position(|d| (d.run, d.step) == (run, step))?;
        Some(self.decided.remove(at).judgement)
    }

    /// The verdicts made since last asked, on runs that were waiting for their turn.
    pub fn take_decided(&mut self) -> Vec<Decided> {
        std::mem::take(&mut self.decided)
    }

    /// As `ByArrival::finish_best`: ASHA's best paused run at the highest rung goes on.
    pub fn finish_best(&mut self) -> Option<VerdictRecord> {
        let (run, step) = self.to_finish()?;
        self.finishing = Some(run);
        let evaluations = self.evaluations_at(run, step);
        Some(self.decide_for(run, step, Decision::Continue, Basis::SentOn { evaluations }))
    }

    /// The (run, step) `finish_best` would send on.
    fn to_finish(&self) -> Option<(RunId, u64)> {
        if !matches!(self.rule, EarlyTerminate::Asha(_)) || !self.completed.is_empty() {
            return None;
        }
        best_to_finish(self.paused.iter().map(|&(run, step)| {
            let evaluations = self.evaluations_at(run, step);
            (run, step, evaluations, self.minimized_at(run, evaluations))
        }))
    }

    /// `decide`, keeping what the verdict was made from for the run being explained.
    fn decide_for(&mut self, run: RunId, step: u64, decision: Decision, basis: Basis) -> VerdictRecord {
        if self.explaining == Some(run) {
            self.bases.entry(step).or_default().push((decision, basis));
        }
        self.decide(run, step, decision)
    }

    /// Gives (or revises) a verdict; a `continue` at an ASHA rung sends the run on to the
    /// next, after those sent on before it.
    pub(super) fn decide(&mut self, run: RunId, step: u64, decision: Decision) -> VerdictRecord {
        if decision == Decision::Stop
            && self.given.get(&(run, step)) == Some(&Decision::Pause)
            && self.explaining == Some(run)
        {
            self.bases.entry(step).or_default().push((decision, Basis::SweepEnded));
        }
        self.given.insert((run, step), decision);
        self.stand(run, step, decision);
        match decision {
            Decision::Pause => {
                self.paused.insert((run, step));
            }
            Decision::Continue => {
                self.paused.remove(&(run, step));
                if let EarlyTerminate::Asha(rule) = self.rule {
                    let evaluations = self.evaluations_at(run, step);
                    if rule.is_rung(evaluations) {
                        let next = (evaluations + 1..).find(|&n| rule.is_rung(n)).unwrap_or(usize::MAX);
                        self.sent_on.entry(next).or_default().push(run);
                    }
                }
            }
            Decision::Stop => {
                self.paused.remove(&(run, step));
                self.ended.insert(run);
            }
        }
        self.record(run, step, decision)
    }

    /// Where ASHA ranks the run at its rung after a verdict there, for the runs arriving
    /// after it: promoted, held, or ended (stopped when the sweep ends).
    fn stand(&mut self, run: RunId, step: u64, decision: Decision) {
        let evaluations = self.evaluations_at(run, step);
        let Some(turns) = self.turns.get_mut(&evaluations) else {
            return;
        };
        turns.stand((run, step), decision);
    }

    /// The verdict as stored: with the run's loss at `step`.
    fn record(&self, run: RunId, step: u64, decision: Decision) -> VerdictRecord {
        let loss = self
            .points
            .get(&run)
            .and_then(|points| points.iter().find(|(s, _)| *s == step))
            .map_or(f64::NAN, |(_, loss)| *loss);
        VerdictRecord {
            run,
            step,
            value: loss,
            decision,
        }
    }

    /// How many of the run's evaluations lie at or before `step`.
    fn evaluations_at(&self, run: RunId, step: u64) -> usize {
        self.points
            .get(&run)
            .map_or(0, |points| points.iter().take_while(|(s, _)| *s <= step).count())
    }

    /// The run's `evaluations`-th value as a minimizer sees it (NaN without one).
    fn minimized_at(&self, run: RunId, evaluations: usize) -> f64 {
        let point = evaluations.checked_sub(1).and_then(|at| self.points.get(&run)?.get(at));
        point.map_or(f64::NAN, |(_, loss)| self.goal.minimized(*loss))
    }
}

impl Decides for InRunOrder {
    fn paused(&self) -> Vec<(RunId, u64)> {
        self.paused.iter().copied().collect()
    }

    fn decide(&mut self, run: RunId, step: u64, decision: Decision) -> VerdictRecord {
        InRunOrder::decide(self, run, step, decision)
    }
}

#[cfg(test)]
mod tests;
