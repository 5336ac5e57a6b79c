//! Whose turn it is in run order: at each judged evaluation count, the runs in that count's
//! order take their turns as each reaches it or ends; a turn keeps what the run is compared
//! with (hyperband's threshold, the median) or, under ASHA, decides it there and then. The
//! waiting runs whose measures are known are then decided.

use results::{Decision, RunId};

use super::super::{Basis, Decided, Judgement, stop_if};
use super::InRunOrder;
use crate::stopping::asha::{Asha, AtRung, nan_last};
use crate::stopping::median::median;
use crate::stopping::{EarlyTerminate, sorted_values};

/// One judged evaluation count: how far its runs have had their turns, and what they left.
#[derive(Clone, Debug, Default)]
pub(super) struct Turns {
    /// How many of its runs, in order, have had their turn.
    passed: usize,
    /// How many of those reached it.
    reached: usize,
    /// Their values there as a minimizer sees them, sorted (the finite ones for hyperband,
    /// as W&B's engine; not NaN for the median).
    sorted: Vec<f64>,
    /// ASHA: each that reached the rung, with its value and where it stands.
    at_rung: Vec<((RunId, u64), f64, AtRung)>,
}

/// What a run was compared with when its turn came.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Measure {
    /// Hyperband: the band's threshold over the runs up to it, and how many they were.
    Threshold(f64, usize),
    /// Median: how many runs before it reached the evaluation, and their median.
    Median { earlier: usize, median: Option<f64> },
}

/// A run's turn at a judged evaluation count.
enum Turn {
    /// It reached it: (step, loss).
    Reached(u64, f64),
    /// It ended before it.
    Skipped,
    /// Not yet known: the runs after it wait.
    Waits,
}

impl Turns {
    /// Where the run at `key` stands at the rung after a verdict there (ASHA).
    pub(super) fn stand(&mut self, key: (RunId, u64), decision: Decision) {
        if let Some(entry) = self.at_rung.iter_mut().find(|entry| entry.0 == key) {
            entry.2 = match decision {
                Decision::Continue => AtRung::Promoted,
                Decision::Pause => AtRung::Paused,
                Decision::Stop => AtRung::Ended,
            };
        }
    }
}

impl InRunOrder {
    /// Gives every run whose turn has come its turn, at each judged evaluation count in
    /// ascending order (ASHA sends runs on to the next rung), then decides the waiting runs
    /// whose measures are now known.
    pub(super) fn advance(&mut self) {
        for index in 0..self.judged.len() {
            self.take_turns(self.judged[index]);
        }
        self.decide_waiting();
    }

    /// A run has reported `evaluations` evaluations: the judged counts up to there take turns.
    pub(super) fn reported(&mut self, evaluations: usize) {
        while self.checked < evaluations {
            self.checked += 1;
            if self.is_judged(self.checked) {
                self.judged.push(self.checked);
            }
        }
    }

    fn is_judged(&self, evaluations: usize) -> bool {
        match self.rule {
            EarlyTerminate::Hyperband(rule) => rule.last_band(evaluations) == Some(evaluations),
            EarlyTerminate::Median(rule) => evaluations > rule.n_warmup_evals,
            EarlyTerminate::Asha(rule) => rule.is_rung(evaluations),
        }
    }

    /// The runs that take turns at `evaluations`, in order.
    fn order(&self, evaluations: usize) -> &[RunId] {
        match self.rule {
            EarlyTerminate::Asha(rule) if evaluations != rule.min_iter as usize => {
                self.sent_on.get(&evaluations).map_or(&[], Vec::as_slice)
            }
            _ => &self.runs,
        }
    }

    fn take_turns(&mut self, evaluations: usize) {
        let mut turns = self.turns.remove(&evaluations).unwrap_or_default();
        while let Some(&run) = self.order(evaluations).get(turns.passed) {
            match self.turn(run, evaluations) {
                Turn::Waits => break,
                Turn::Skipped => {}
                Turn::Reached(step, loss) => self.reached(&mut turns, run, evaluations, (step, loss)),
            }
            turns.passed += 1;
        }
        self.turns.insert(evaluations, turns);
    }

    fn turn(&self, run: RunId, evaluations: usize) -> Turn {
        match self.points.get(&run).and_then(|points| points.get(evaluations - 1)) {
            // ASHA ranks a run by where it stands, known once it asks or ends.
            Some(&(step, _))
                if matches!(self.rule, EarlyTerminate::Asha(_))
                    && !self.given.contains_key(&(run, step))
                    && !self.ended.contains(&run)
                    && !self.asked(run, step) =>
            {
                Turn::Waits
            }
            Some(&(step, loss)) => Turn::Reached(step, loss),
            None if self.ended.contains(&run) => Turn::Skipped,
            None => Turn::Waits,
        }
    }

    /// Whether the run asked for a verdict at `step` (and is waiting, or did in the sweep
    /// being replayed).
    fn asked(&self, run: RunId, step: u64) -> bool {
        self.waiting.get(&run) == Some(&step) || self.replaying.contains(&(run, step))
    }

    /// `run` reached `evaluations` at `step` and its turn came: what it is compared with is
    /// kept (hyperband, median), or ASHA decides it now.
    fn reached(&mut self, turns: &mut Turns, run: RunId, evaluations: usize, (step, loss): (u64, f64)) {
        let value = self.goal.minimized(loss);
        match self.rule {
            EarlyTerminate::Hyperband(rule) => {
                if value.is_finite() {
                    sorted_values::insert(&mut turns.sorted, value);
                }
                let threshold = rule.threshold(&turns.sorted);
                let measure = Measure::Threshold(threshold, turns.reached + 1);
                self.measures.insert((run, evaluations), measure);
            }
            EarlyTerminate::Median(_) => {
                let measure = Measure::Median {
                    earlier: turns.reached,
                    median: median(&turns.sorted),
                };
                self.measures.insert((run, evaluations), measure);
                if !value.is_nan() {
                    sorted_values::insert(&mut turns.sorted, value);
                }
            }
            EarlyTerminate::Asha(rule) => {
                let standing = match self.given.get(&(run, step)) {
                    Some(Decision::Continue) => AtRung::Promoted,
                    Some(Decision::Pause) => AtRung::Paused,
                    Some(Decision::Stop) => AtRung::Ended,
                    None if self.asked(run, step) => self.asha(rule, turns, (run, step), value),
                    None => AtRung::Ended,
                };
                turns.at_rung.push(((run, step), value, standing));
            }
        }
        turns.reached += 1;
    }

    /// ASHA's verdict on `run` arriving at the rung after the runs of `turns`: it goes on or
    /// pauses, and the paused runs its arrival puts among the best go on. Where it now stands.
    fn asha(&mut self, rule: Asha, turns: &mut Turns, (run, step): (RunId, u64), value: f64) -> AtRung {
        let mut rung = turns.at_rung.clone();
        rung.push(((run, step), value, AtRung::Arriving));
        let mut promoted = if self.finishing == Some(run) {
            vec![(run, step)]
        } else {
            rule.promote(&rung)
        };
        let goes_on = promoted.iter().any(|(other, _)| *other == run);
        promoted.retain(|(other, _)| *other != run);
        let decision = if goes_on { Decision::Continue } else { Decision::Pause };
        // What it was ranked among, for `harness explain` only: a pass over the rung.
        let explained = self
            .explaining
            .is_some_and(|explained| explained == run || promoted.iter().any(|p| p.0 == explained));
        let ranked: Vec<(RunId, f64)> = if explained {
            let mut ranked: Vec<(RunId, f64)> = rung.iter().map(|((other, _), value, _)| (*other, *value)).collect();
            ranked.sort_by(|a, b| nan_last(a.1).total_cmp(&nan_last(b.1)));
            ranked
        } else {
            Vec::new()
        };
        let (evaluations, may_go_on) = (self.evaluations_at(run, step), (rung.len() as f64 / rule.eta) as usize);
        let basis = match self.finishing {
            Some(finishing) if finishing == run => Basis::Unjudged,
            _ => Basis::Rung {
                evaluations,
                ranked: ranked.clone(),
                may_go_on,
                gone_on: turns.at_rung.iter().filter(|entry| entry.2 == AtRung::Promoted).count(),
            },
        };
        let mut records = vec![self.decide_for(run, step, decision, basis)];
        for entry in turns.at_rung.iter_mut().filter(|entry| promoted.contains(&entry.0)) {
            entry.2 = AtRung::Promoted;
            let basis = Basis::Promoted {
                evaluations,
                by: run,
                place: 1 + ranked.iter().position(|(other, _)| *other == entry.0.0).unwrap_or(0),
                ranked: rung.len(),
                may_go_on,
            };
            records.push(self.decide_for(entry.0.0, entry.0.1, Decision::Continue, basis));
        }
        self.waiting.remove(&run);
        let judgement = Judgement {
            decision,
            records,
            promoted: promoted.iter().map(|(other, _)| *other).collect(),
        };
        self.decided.push(Decided { run, step, judgement });
        if goes_on { AtRung::Promoted } else { AtRung::Paused }
    }

    /// Decides the waiting runs (hyperband, median) whose measures are known.
    fn decide_waiting(&mut self) {
        let ready: Vec<(RunId, u64, (Decision, Basis))> = self
            .waiting
            .iter()
            .filter_map(|(&run, &step)| Some((run, step, self.measured_decision(run, step)?)))
            .collect();
        for (run, step, (decision, basis)) in ready {
            self.waiting.remove(&run);
            let judgement = Judgement {
                decision,
                records: vec![self.decide_for(run, step, decision, basis)],
                promoted: Vec::new(),
            };
            self.decided.push(Decided { run, step, judgement });
        }
    }

    /// Hyperband's or the median's verdict at `step`, and what it is made from, once the run's
    /// measure there is known.
    pub(super) fn measured_decision(&self, run: RunId, step: u64) -> Option<(Decision, Basis)> {
        let own: Vec<f64> = self
            .points
            .get(&run)?
            .iter()
            .take_while(|(s, _)| *s <= step)
            .map(|(_, loss)| self.goal.minimized(*loss))
            .collect();
        let evaluations = own.len();
        match self.rule {
            _ if evaluations == 0 => None,
            EarlyTerminate::Hyperband(rule) => match rule.last_band(evaluations) {
                None => Some((Decision::Continue, Basis::Unjudged)),
                Some(band) => match *self.measures.get(&(run, band))? {
                    Measure::Threshold(threshold, runs) => {
                        let value = rule.judged_value(&own, band);
                        let basis = Basis::Band {
                            band,
                            value,
                            threshold,
                            runs,
                        };
                        Some((stop_if(rule.stops_past(&own, band, threshold)), basis))
                    }
                    Measure::Median { .. } => None,
                },
            },
            EarlyTerminate::Median(rule) if evaluations <= rule.n_warmup_evals => {
                Some((Decision::Continue, Basis::Unjudged))
            }
            EarlyTerminate::Median(rule) => match *self.measures.get(&(run, evaluations))? {
                Measure::Median { earlier, median } => {
                    let basis = Basis::Median {
                        evaluations,
                        best: own.iter().copied().filter(|v| !v.is_nan()).fold(f64::NAN, f64::min),
                        median,
                        earlier,
                        needed: rule.n_startup_runs,
                    };
                    Some((stop_if(rule.stops_against(&own, earlier, median)), basis))
                }
                Measure::Threshold(..) => None,
            },
            EarlyTerminate::Asha(_) => None,
        }
    }
}
