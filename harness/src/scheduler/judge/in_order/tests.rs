//! The run-order judge's tests: twelve runs train through a simulated scheduler that lets them
//! reach their evaluations in random interleavings, and — for ASHA, hyperband and the median
//! alike — every interleaving, with or without a crash of the judge midway, ends with the
//! verdicts of the one that trains the runs one at a time. The same simulation tells the
//! arrival-order judge's interleavings apart, so it can see a difference. Then a finite ASHA
//! sweep's run sent on to its budget, and a judge rebuilt while it trains.

use std::collections::BTreeMap;

use results::{Decision, RunId, RunStatus, VerdictRecord};

use super::super::{Judge, Judgement, Stored, replay};
use crate::spec::Goal;
use crate::stopping::asha::Asha;
use crate::stopping::hyperband::{Bands, Hyperband};
use crate::stopping::median::Median;
use crate::stopping::{EarlyTerminate, Order};

const RUNS: usize = 12;
const EVALUATIONS: usize = 8;

/// Run `run`'s validation loss at its evaluation `at` (0-based): falling curves whose ranks
/// cross, no two values equal.
fn loss(run: usize, at: usize) -> f64 {
    let hash = ((run * 31 + at) as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let noise = ((hash >> 40) % 1000) as f64 / 1000.0;
    2.0 + (1.0 + noise) / (1.0 + at as f64) + run as f64 * 1e-6
}

fn rules() -> [EarlyTerminate; 3] {
    [
        EarlyTerminate::Asha(Asha { min_iter: 1, eta: 2.0 }),
        EarlyTerminate::Hyperband(Hyperband::new(Bands::Up { min_iter: 1 }, 2.0, true).unwrap()),
        EarlyTerminate::Median(Median {
            n_startup_runs: 2,
            n_warmup_evals: 1,
        }),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    /// Next reports its evaluation at this index.
    Trains(usize),
    /// Asked at this index; waits for its turn.
    Waits(usize),
    /// Paused at this index until promoted.
    Paused(usize),
    Ended(RunStatus),
}

struct Simulation {
    rule: EarlyTerminate,
    order: Order,
    judge: Judge,
    states: Vec<State>,
    /// How many evaluations each run has reported.
    reported: Vec<usize>,
    /// The verdicts as the store keeps them: a revision moves to the end.
    given: Vec<VerdictRecord>,
    /// Drawn with a linear congruential generator; `None`: always the first run that can.
    seed: Option<u64>,
}

fn id(index: usize) -> RunId {
    RunId(index as i64 + 1)
}

fn step(at: usize) -> u64 {
    (at as u64 + 1) * 100
}

impl Simulation {
    fn new(rule: EarlyTerminate, order: Order, seed: Option<u64>) -> Self {
        let stored = Stored {
            runs: (0..RUNS).map(|i| (id(i), RunStatus::Pending)).collect(),
            curves: Vec::new(),
            given: Vec::new(),
        };
        Self {
            rule,
            order,
            judge: Judge::new(rule, order, Goal::Minimize, stored),
            states: vec![State::Trains(0); RUNS],
            reported: vec![0; RUNS],
            given: Vec::new(),
            seed,
        }
    }

    /// The next run to move, among those training.
    fn pick(&mut self) -> Option<usize> {
        let training: Vec<usize> = (0..self.states.len())
            .filter(|&i| matches!(self.states[i], State::Trains(_)))
            .collect();
        let seed = self.seed.as_mut();
        match seed {
            None => training.first().copied(),
            Some(seed) if !training.is_empty() => {
                *seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                Some(training[(*seed >> 33) as usize % training.len()])
            }
            Some(_) => None,
        }
    }

    /// Runs until every run ended; the judge is rebuilt from what is stored after
    /// `crash_after` moves.
    fn run(&mut self, crash_after: Option<usize>) -> Vec<(i64, u64, &'static str)> {
        let mut moves = 0;
        loop {
            if crash_after == Some(moves) {
                self.crash();
            }
            moves += 1;
            if let Some(run) = self.pick() {
                self.train(run);
            } else if let Some(record) = self.judge.finish_best() {
                self.record(&[record]);
                let State::Paused(at) = self.states[record.run.0 as usize - 1] else {
                    panic!("not paused")
                };
                self.states[record.run.0 as usize - 1] = State::Trains(at + 1);
            } else {
                let stopped = self.judge.stop_paused();
                self.record(&stopped);
                for record in stopped {
                    self.states[record.run.0 as usize - 1] = State::Ended(RunStatus::Stopped);
                }
                break;
            }
            self.take_decided();
        }
        assert!(
            self.states.iter().all(|s| matches!(s, State::Ended(_))),
            "runs left waiting: {:?}",
            self.states
        );
        let mut verdicts: Vec<(i64, u64, &'static str)> = self
            .given
            .iter()
            .map(|v| (v.run.0, v.step, v.decision.as_str()))
            .collect();
        verdicts.sort_by_key(|v| (v.0, v.1));
        verdicts
    }

    /// The run reports its next evaluation and asks for a verdict (or ends there).
    fn train(&mut self, run: usize) {
        let State::Trains(at) = self.states[run] else {
            unreachable!()
        };
        self.judge.observe(id(run), step(at), loss(run, at));
        self.reported[run] = at + 1;
        if at + 1 == EVALUATIONS {
            self.states[run] = State::Ended(RunStatus::Completed);
            self.judge.ended(id(run), true);
            return;
        }
        match self.judge.verdict(id(run), step(at)) {
            Some(judgement) => self.apply(run, at, judgement),
            None => self.states[run] = State::Waits(at),
        }
    }

    fn take_decided(&mut self) {
        for decided in self.judge.take_decided() {
            let run = decided.run.0 as usize - 1;
            assert_eq!(self.states[run], State::Waits((decided.step / 100 - 1) as usize));
            self.apply(run, (decided.step / 100 - 1) as usize, decided.judgement);
        }
    }

    fn apply(&mut self, run: usize, at: usize, judgement: Judgement) {
        self.record(&judgement.records);
        self.states[run] = match judgement.decision {
            Decision::Continue => State::Trains(at + 1),
            Decision::Pause => State::Paused(at),
            Decision::Stop => {
                self.judge.ended(id(run), false);
                State::Ended(RunStatus::Stopped)
            }
        };
        for promoted in judgement.promoted {
            let State::Paused(at) = self.states[promoted.0 as usize - 1] else {
                panic!("promoted, not paused")
            };
            self.states[promoted.0 as usize - 1] = State::Trains(at + 1);
        }
    }

    fn record(&mut self, records: &[VerdictRecord]) {
        for record in records {
            self.given.retain(|v| (v.run, v.step) != (record.run, record.step));
            self.given.push(*record);
        }
    }

    /// The judge is lost and rebuilt from the store; runs waiting for their turn start again
    /// from their checkpoint at that evaluation, and ask again.
    fn crash(&mut self) {
        for state in &mut self.states {
            if let State::Waits(at) = *state {
                *state = State::Trains(at);
            }
        }
        self.judge = Judge::new(self.rule, self.order, Goal::Minimize, self.stored());
    }

    /// What the store holds: each run's status and reported curve, the verdicts in order.
    fn stored(&self) -> Stored {
        let mut runs = Vec::new();
        let mut curves = Vec::new();
        for (i, state) in self.states.iter().enumerate() {
            let status = match *state {
                State::Trains(_) | State::Waits(_) => RunStatus::Running,
                State::Paused(_) => RunStatus::Paused,
                State::Ended(status) => status,
            };
            runs.push((id(i), status));
            let curve = (0..self.reported[i]).map(|at| (step(at), loss(i, at))).collect();
            curves.push((id(i), curve));
        }
        Stored {
            runs,
            curves,
            given: self.given.clone(),
        }
    }
}

/// The verdicts of 200 random interleavings, each with a crash after `crash` moves (or none).
fn interleavings(
    rule: EarlyTerminate,
    order: Order,
    crash: impl Fn(u64) -> Option<usize>,
) -> BTreeMap<Vec<(i64, u64, &'static str)>, u64> {
    let mut seen = BTreeMap::new();
    for seed in 1..=200 {
        let verdicts = Simulation::new(rule, order, Some(seed)).run(crash(seed));
        *seen.entry(verdicts).or_default() += 1;
    }
    seen
}

#[test]
fn every_interleaving_of_the_runs_gets_the_verdicts_of_one_run_at_a_time() {
    for rule in rules() {
        let serial = Simulation::new(rule, Order::Run, None).run(None);
        assert!(
            serial.iter().any(|v| v.2 != "continue"),
            "{rule:?} decides something: {serial:?}"
        );
        let seen = interleavings(rule, Order::Run, |_| None);
        assert_eq!(seen.keys().collect::<Vec<_>>(), [&serial], "{rule:?}");
    }
}

#[test]
fn a_judge_rebuilt_from_the_store_midway_goes_on_to_the_same_verdicts() {
    for rule in rules() {
        let serial = Simulation::new(rule, Order::Run, None).run(None);
        let seen = interleavings(rule, Order::Run, |seed| Some((seed % 100) as usize));
        assert_eq!(seen.keys().collect::<Vec<_>>(), [&serial], "{rule:?}");
    }
}

#[test]
fn in_arrival_order_the_same_interleavings_reach_different_verdicts() {
    for rule in rules() {
        let seen = interleavings(rule, Order::Arrival, |_| None);
        assert!(seen.len() > 1, "{rule:?}: one outcome only");
    }
}

#[test]
fn hyperband_judges_a_run_against_the_runs_before_it_once_they_reached_the_band() {
    let stored = Stored {
        runs: (0..3).map(|i| (id(i), RunStatus::Running)).collect(),
        curves: Vec::new(),
        given: Vec::new(),
    };
    let mut judge = Judge::new(rules()[1], Order::Run, Goal::Minimize, stored);
    // Run 3 gets to the first band first: it waits for runs 1 and 2.
    judge.observe(id(2), 100, 2.5);
    assert_eq!(judge.verdict(id(2), 100), None);
    judge.observe(id(0), 100, 2.0);
    assert_eq!(judge.verdict(id(0), 100).map(|j| j.decision), Some(Decision::Continue));
    assert!(judge.take_decided().is_empty(), "run 2 has not reached the band");
    // Now the band holds 2.0, 2.1 and 2.5: the threshold is the value at index ⌊3/2⌋, 2.1,
    // and run 3's 2.5 is worse. (Judged on arrival, alone, it would have gone on.)
    judge.observe(id(1), 100, 2.1);
    let decided = judge.take_decided();
    assert_eq!(decided.len(), 1);
    assert_eq!((decided[0].run, decided[0].judgement.decision), (id(2), Decision::Stop));
    assert_eq!(decided[0].judgement.records[0].value, 2.5);
}

impl Simulation {
    /// The verdicts stored so far (by run and step), and those `replay` makes again.
    fn replayed(&self) -> (Vec<VerdictRecord>, Vec<VerdictRecord>) {
        let mut given = self.given.clone();
        given.sort_by_key(|v| (v.run, v.step));
        let again = replay((self.rule, Order::Run, Goal::Minimize), self.stored(), None);
        (given, again.unwrap().verdicts)
    }
}

#[test]
fn replaying_a_sweep_from_its_curves_makes_every_verdict_again() {
    for rule in rules() {
        for seed in [None, Some(7), Some(8)] {
            let mut sweep = Simulation::new(rule, Order::Run, seed);
            sweep.run(None);
            let (given, again) = sweep.replayed();
            assert_eq!(again, given, "{rule:?}");
        }
    }
}

#[test]
fn replaying_a_sweep_stopped_midway_makes_its_verdicts_so_far_again() {
    for rule in rules() {
        for (seed, moves) in [(3, 10), (4, 40), (5, 70)] {
            let mut sweep = Simulation::new(rule, Order::Run, Some(seed));
            for _ in 0..moves {
                let Some(run) = sweep.pick() else { break };
                sweep.train(run);
                sweep.take_decided();
            }
            let (given, again) = sweep.replayed();
            assert_eq!(again, given, "{rule:?} after {moves} moves");
        }
    }
}

/// The verdict on `run`'s evaluation, which must come at once; its records go to `given`.
fn ask(judge: &mut Judge, given: &mut Vec<VerdictRecord>, (run, step, loss): (i64, u64, f64)) -> Decision {
    judge.observe(RunId(run), step, loss);
    let judgement = judge.verdict(RunId(run), step).expect("its turn has come");
    given.extend(judgement.records);
    judgement.decision
}

#[test]
fn the_run_asha_sent_on_to_its_budget_passes_later_rungs_after_a_restart() {
    // Rungs at 1, 2 and 4 evaluations; half of each rung goes on.
    let rule = rules()[0];
    let runs = |statuses: [RunStatus; 3]| (1..=3).map(RunId).zip(statuses).collect::<Vec<_>>();
    let fresh = Stored {
        runs: runs([RunStatus::Running; 3]),
        curves: Vec::new(),
        given: Vec::new(),
    };
    let mut judge = Judge::new(rule, Order::Run, Goal::Minimize, fresh);
    let mut given = Vec::new();
    for (asked, decision) in [
        ((1, 100, 2.0), Decision::Pause),
        ((2, 100, 1.5), Decision::Continue),
        ((3, 100, 2.5), Decision::Pause),
        // Alone at the second rung: ⌊1/2⌋ = 0 may go on.
        ((2, 200, 1.4), Decision::Pause),
    ] {
        assert_eq!(ask(&mut judge, &mut given, asked), decision, "{asked:?}");
    }
    let sent_on = judge.finish_best().expect("nothing else is left");
    assert_eq!((sent_on.run, sent_on.step), (RunId(2), 200));
    given.retain(|v| (v.run, v.step) != (sent_on.run, sent_on.step));
    given.push(sent_on);
    // The scheduler dies while run 2 trains on; the judge is rebuilt from the store.
    let curves = vec![
        (RunId(1), vec![(100, 2.0)]),
        (RunId(2), vec![(100, 1.5), (200, 1.4)]),
        (RunId(3), vec![(100, 2.5)]),
    ];
    let stored = Stored {
        runs: runs([RunStatus::Paused, RunStatus::Running, RunStatus::Paused]),
        curves,
        given: given.clone(),
    };
    let mut rebuilt = Judge::new(rule, Order::Run, Goal::Minimize, stored);
    for judge in [&mut judge, &mut rebuilt] {
        let mut given = given.clone();
        assert_eq!(ask(judge, &mut given, (2, 300, 1.35)), Decision::Continue);
        assert_eq!(
            ask(judge, &mut given, (2, 400, 1.3)),
            Decision::Continue,
            "past the third rung"
        );
    }
}
