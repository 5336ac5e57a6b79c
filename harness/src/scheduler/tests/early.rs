//! Early termination in the scheduler: judged fake workers follow scripted validation
//! curves; the scheduler stops the runs hyperband names, pauses and promotes as ASHA says,
//! records each verdict once, and a session stopped midway then resumed reaches the
//! verdicts and statuses of an undisturbed one.

use super::fake_store::FakeStore;
use super::fakes::{FakeLauncher, Script};
use super::*;
use crate::spec::Goal;
use crate::stopping::asha::Asha;
use crate::stopping::hyperband::{Bands, Hyperband};
use crate::stopping::median::Median;
use crate::stopping::{EarlyTerminate, Order};
use results::{Decision, Split};

/// A rule and four runs' validation curves (one point per 100 steps; each run judged at
/// every evaluation but its last), on one worker in run order.
struct Case {
    rule: EarlyTerminate,
    curves: [&'static [f64]; 4],
}

/// Hyperband with bands of 1, 2, 4 evaluations and eta 2:
/// - runs 1 and 2 set the thresholds and go on;
/// - run 3's 2.5 at its first evaluation is worse than 2.1, the middle of (2.0, 2.1, 2.5):
///   stopped at step 100;
/// - run 4's 1.85 at its second equals the middle of (1.8, 1.85, 1.9): it goes on.
fn hyperband() -> Case {
    Case {
        rule: EarlyTerminate::Hyperband(Hyperband::new(Bands::Up { min_iter: 1 }, 2.0, true).unwrap()),
        curves: [
            &[2.0, 1.8, 1.6, 1.5],
            &[2.1, 1.9, 1.7, 1.6],
            &[2.5, 2.4, 2.3, 2.2],
            &[1.9, 1.85, 1.9, 1.4],
        ],
    }
}

/// ASHA with rungs at 1, 2 (and 4) evaluations, eta 2 — half of a rung goes on:
/// - run 1 is alone at rung 1: paused; run 2, better, goes on, and is alone at rung 2: paused;
/// - run 3, worst at rung 1: paused (the one promotion of three is used by run 2);
/// - run 4 makes four at rung 1, two may go on: run 1 (2.0) is promoted, run 4 (2.5) pauses;
/// - run 1 resumes, reaches rung 2 behind run 2 (1.8 against 1.4): run 2 is promoted, run 1
///   pauses; run 2 completes;
/// - nothing is left to promote: runs 1, 3 and 4 stop where they are paused.
fn asha() -> Case {
    Case {
        rule: EarlyTerminate::Asha(Asha { min_iter: 1, eta: 2.0 }),
        curves: [
            &[2.0, 1.8, 1.6, 1.5],
            &[1.5, 1.4, 1.3, 1.2],
            &[3.0, 2.9, 2.8, 2.7],
            &[2.5, 1.0, 0.9, 0.8],
        ],
    }
}

/// The median from two runs on, after one evaluation:
/// - run 3's best at its second evaluation, 2.2, is worse than the median of runs 1 and 2
///   there (1.85): stopped at step 200;
/// - run 4's 1.85 is not worse than the median of runs 1 to 3 there (1.9), but at its third
///   its 1.7 is worse than that of runs 1 and 2 (1.65): stopped at step 300.
fn median() -> Case {
    Case {
        rule: EarlyTerminate::Median(Median {
            n_startup_runs: 2,
            n_warmup_evals: 1,
        }),
        curves: [
            &[2.0, 1.8, 1.6, 1.5],
            &[2.1, 1.9, 1.7, 1.6],
            &[2.3, 2.2, 2.1, 2.0],
            &[1.9, 1.85, 1.7, 1.4],
        ],
    }
}

/// `asha()` with a fifth evaluation, so that rung 4 is judged: run 2 reaches it alone and
/// pauses (⌊1/2⌋ = 0 may go on), and every run waits paused when nothing is left. No run
/// would train to its end; the best at the highest rung, run 2, is sent on to it.
fn asha_to_the_end() -> Case {
    Case {
        rule: EarlyTerminate::Asha(Asha { min_iter: 1, eta: 2.0 }),
        curves: [
            &[2.0, 1.8, 1.6, 1.5, 1.45],
            &[1.5, 1.4, 1.3, 1.2, 1.1],
            &[3.0, 2.9, 2.8, 2.7, 2.6],
            &[2.5, 1.0, 0.9, 0.8, 0.7],
        ],
    }
}

impl Case {
    fn queue(&self) -> Vec<QueuedRun> {
        queue(4)
            .into_iter()
            .map(|mut run| {
                run.job.judged = true;
                run
            })
            .collect()
    }

    /// Limits with a judge that knows what `store` holds (as `Session` builds it).
    fn limits(&self, store: &FakeStore) -> Limits {
        self.limits_for(store, Order::Run, 1)
    }

    /// `limits` with verdicts in `order` and `workers` worker slots.
    fn limits_for(&self, store: &FakeStore, order: Order, workers: usize) -> Limits {
        let curves = store.0.iter().map(|(run, stored)| {
            let val = stored.curve.iter().filter(|p| p.split == Split::Val);
            (*run, val.map(|p| (p.step, p.loss)).collect())
        });
        let runs = (1..=4).map(|id| {
            let status = store.0.get(&RunId(id)).and_then(|stored| stored.status);
            (RunId(id), status.unwrap_or(RunStatus::Pending))
        });
        let stored = judge::Stored {
            runs: runs.collect(),
            curves: curves.collect(),
            given: store.1.clone(),
        };
        Limits {
            judge: Some(Judge::new(self.rule, order, Goal::Minimize, stored)),
            ..limits(workers)
        }
    }

    /// Each run follows its curve, resumed after the validation points it has in `store`.
    fn launcher(&self, store: &FakeStore) -> FakeLauncher {
        self.launcher_at(store, |_| 2)
    }

    /// `launcher`, each run taking `step_ms(run)` ms per evaluation.
    fn launcher_at(&self, store: &FakeStore, step_ms: fn(RunId) -> u64) -> FakeLauncher {
        let resume_at: HashMap<RunId, u64> = store
            .0
            .iter()
            .map(|(run, stored)| {
                let val = stored.curve.iter().filter(|p| p.split == Split::Val).count();
                (*run, val as u64)
            })
            .collect();
        let curves = self.curves;
        FakeLauncher::new(move |run, _| Script::Judged {
            val: curves[run.0 as usize - 1],
            resume_at: resume_at.get(&run).copied().unwrap_or(0),
            step_ms: step_ms(run),
            dies_after: None,
        })
    }

    /// The verdicts and statuses of the sweep on `workers` workers, each run taking
    /// `step_ms(run)` ms per evaluation.
    fn ended_on(&self, order: Order, workers: usize, step_ms: fn(RunId) -> u64) -> (Verdicts, Statuses) {
        let empty = FakeStore::default();
        let launcher = self.launcher_at(&empty, step_ms);
        let (tally, store, _) = schedule(self.queue(), self.limits_for(&empty, order, workers), &launcher, &[]);
        tally.unwrap();
        (verdicts(&store), statuses(&store))
    }

    fn undisturbed(&self) -> (Tally, FakeStore, Transcript, Vec<RunId>) {
        let empty = FakeStore::default();
        let launcher = self.launcher(&empty);
        let (tally, store, transcript) = schedule(self.queue(), self.limits(&empty), &launcher, &[]);
        let starts = launcher.counters.borrow().starts.clone();
        (tally.unwrap(), store, transcript, starts)
    }

    /// Stopped (Ctrl-C) `stop_at` ms in, then resumed as `Session` resumes: paused runs held
    /// (or queued first when promoted before the stop), unfinished ones queued. `None` when
    /// the sweep had ended by then.
    fn interrupted_then_resumed(&self, stop_at: u64) -> Option<FakeStore> {
        self.interrupted_then_resumed_on(1, SPEEDS[0], stop_at, false)
    }

    /// `interrupted_then_resumed` on `workers` workers, each run taking `step_ms(run)` ms per
    /// evaluation; `lose_last_points`: the store lost each unfinished run's last validation
    /// point (the scheduler was killed before writing it), which its worker's checkpoint holds.
    fn interrupted_then_resumed_on(
        &self,
        workers: usize,
        step_ms: fn(RunId) -> u64,
        stop_at: u64,
        lose_last_points: bool,
    ) -> Option<FakeStore> {
        let empty = FakeStore::default();
        let launcher = self.launcher_at(&empty, step_ms);
        let (tally, first, _) = schedule(
            self.queue(),
            self.limits_for(&empty, Order::Run, workers),
            &launcher,
            &[stop_at],
        );
        let tally = tally.unwrap();
        if tally.interrupted + tally.not_started + tally.paused == 0 {
            return None;
        }
        let launcher = self.launcher_at(&first, step_ms);
        let mut first = first;
        if lose_last_points {
            lose_last_point(&mut first);
        }
        let limits = self.limits_for(&first, Order::Run, workers);
        let judge = limits.judge.as_ref().unwrap();
        let status = |run: &QueuedRun| first.0.get(&run.id).and_then(|r| r.status);
        let (mut paused, mut todo) = (Vec::new(), Vec::new());
        for run in self.queue() {
            match status(&run) {
                Some(RunStatus::Paused) if judge.is_held(run.id) => paused.push(run),
                Some(RunStatus::Paused) => todo.insert(0, run),
                Some(RunStatus::Completed | RunStatus::Stopped) => {}
                _ => todo.push(run),
            }
        }
        let work = Work {
            queue: todo,
            paused,
            proposer: None,
        };
        let (tally, resumed, _) = schedule_on(first, work, limits, &launcher, &[]);
        tally.unwrap();
        Some(resumed)
    }
}

/// Drops the last validation point (and what follows it) of each run that has no result, where
/// no verdict was given on it (a verdict is written after its point).
fn lose_last_point(store: &mut FakeStore) {
    let judged: Vec<(RunId, u64)> = store.1.iter().map(|v| (v.run, v.step)).collect();
    for (id, run) in store.0.iter_mut().filter(|(_, run)| run.result.is_none()) {
        let last = run.curve.iter().rposition(|p| p.split == Split::Val);
        if let Some(last) = last.filter(|&at| !judged.contains(&(*id, run.curve[at].step))) {
            run.curve.truncate(last);
        }
    }
}

type Verdicts = Vec<(i64, u64, Decision)>;
type Statuses = Vec<(RunStatus, u64)>;

fn verdicts(store: &FakeStore) -> Verdicts {
    let mut verdicts: Vec<(i64, u64, Decision)> = store.1.iter().map(|v| (v.run.0, v.step, v.decision)).collect();
    verdicts.sort_by_key(|v| (v.0, v.1));
    verdicts
}

fn statuses(store: &FakeStore) -> Statuses {
    (1..=4)
        .map(|id| {
            let run = &store.0[&RunId(id)];
            (run.status.unwrap(), run.result.as_ref().map_or(0, |r| r.steps_done))
        })
        .collect()
}

use Decision::{Continue, Stop};

#[test]
fn hyperband_stops_the_run_behind_its_band_and_a_stopped_run_is_a_result() {
    let (tally, store, transcript, _) = hyperband().undisturbed();
    assert_eq!(
        tally,
        Tally {
            completed: 3,
            stopped: 1,
            ..Tally::default()
        }
    );
    assert_eq!(statuses(&store)[2], (RunStatus::Stopped, 100));
    let result = store.0[&RunId(3)].result.clone().unwrap();
    assert!(result.losses.is_some(), "a stopped run is evaluated where it stopped");
    assert!(
        transcript
            .0
            .contains(&"3 stopped early at step 100, val 2.0000".to_string())
    );
    let mut expected: Vec<(i64, u64, Decision)> = [1, 2, 4]
        .iter()
        .flat_map(|&run| [100, 200, 300].map(|step| (run, step, Continue)))
        .collect();
    expected.push((3, 100, Stop));
    expected.sort_by_key(|v| (v.0, v.1));
    assert_eq!(verdicts(&store), expected, "each evaluation judged once");
}

#[test]
fn asha_pauses_at_rungs_promotes_first_and_stops_the_runs_still_paused_at_the_end() {
    let (tally, store, transcript, starts) = asha().undisturbed();
    assert_eq!(
        tally,
        Tally {
            completed: 1,
            stopped: 3,
            ..Tally::default()
        }
    );
    assert_eq!(
        statuses(&store),
        [
            (RunStatus::Stopped, 200),
            (RunStatus::Completed, 400),
            (RunStatus::Stopped, 100),
            (RunStatus::Stopped, 100)
        ]
    );
    assert_eq!(
        verdicts(&store),
        [
            (1, 100, Continue),
            (1, 200, Stop),
            (2, 100, Continue),
            (2, 200, Continue),
            (3, 100, Stop),
            (4, 100, Stop)
        ],
        "pauses revised: promoted, or stopped at the end"
    );
    // Promotions go first; the runs still paused are started once more to be evaluated.
    let order: Vec<i64> = starts.iter().map(|run| run.0).collect();
    assert_eq!(order, [1, 2, 3, 4, 1, 2, 1, 3, 4]);
    assert!(
        transcript
            .0
            .contains(&"run 1 promoted: it resumes at its rung".to_string())
    );
    assert!(
        transcript
            .0
            .contains(&"1 paused at step 100, until promoted".to_string())
    );
}

#[test]
fn a_finite_asha_sweep_ends_with_its_best_run_trained_to_its_budget() {
    let (tally, store, transcript, _) = asha_to_the_end().undisturbed();
    // As `asha()` ends, but run 2, paused alone at rung 4, is sent on and completes.
    let (_, four_evaluations, _, _) = asha().undisturbed();
    let mut expected = statuses(&four_evaluations);
    expected[1] = (RunStatus::Completed, 500);
    assert_eq!(statuses(&store), expected);
    assert_eq!((tally.completed, tally.stopped), (1, 3));
    let mut expected = verdicts(&four_evaluations);
    expected.push((2, 400, Continue));
    expected.sort_by_key(|v| (v.0, v.1));
    assert_eq!(verdicts(&store), expected);
    assert!(
        transcript
            .0
            .iter()
            .any(|line| line.starts_with("no run has trained to its end: run 2"))
    );
}

#[test]
fn a_sweep_stopped_midway_and_resumed_reaches_the_verdicts_of_an_undisturbed_one() {
    for case in [hyperband(), asha(), asha_to_the_end()] {
        let (_, undisturbed, _, _) = case.undisturbed();
        // Stopped at every moment until the sweep ends (a run training, waiting, paused).
        let resumed: Vec<(u64, FakeStore)> = (1..)
            .map_while(|stop_at| Some((stop_at, case.interrupted_then_resumed(stop_at)?)))
            .collect();
        assert!(
            resumed.len() > 10,
            "the sweep was cut short at {} moments",
            resumed.len()
        );
        for (stop_at, resumed) in resumed {
            assert_eq!(verdicts(&resumed), verdicts(&undisturbed), "stopped at {stop_at} ms");
            assert_eq!(statuses(&resumed), statuses(&undisturbed), "stopped at {stop_at} ms");
        }
    }
}

/// Per-run speeds, ms per evaluation: all alike, the first runs slowest, the last slowest.
const SPEEDS: [fn(RunId) -> u64; 3] = [|_| 2, |run| 14 - 3 * run.0 as u64, |run| 1 + 3 * run.0 as u64];

#[test]
fn in_run_order_verdicts_and_statuses_are_the_same_whatever_the_workers_and_their_speed() {
    for case in [hyperband(), asha(), asha_to_the_end(), median()] {
        let alone = case.ended_on(Order::Run, 1, SPEEDS[0]);
        assert!(
            alone.0.iter().any(|v| v.2 != Continue),
            "{:?} decides something",
            case.rule
        );
        for workers in [1, 2, 3, 4] {
            for (speed, step_ms) in SPEEDS.iter().enumerate() {
                let ended = case.ended_on(Order::Run, workers, *step_ms);
                assert_eq!(ended, alone, "{:?}, {workers} workers, speeds {speed}", case.rule);
            }
        }
    }
}

#[test]
fn in_arrival_order_the_same_sweeps_end_differently_on_more_workers() {
    for case in [hyperband(), asha(), median()] {
        let alone = case.ended_on(Order::Arrival, 1, SPEEDS[0]);
        let differ = [2, 3, 4]
            .iter()
            .flat_map(|&workers| SPEEDS.iter().map(move |speed| (workers, speed)))
            .any(|(workers, step_ms)| case.ended_on(Order::Arrival, workers, *step_ms) != alone);
        assert!(differ, "{:?}: the same on every worker count", case.rule);
    }
}

#[test]
fn in_run_order_a_sweep_stopped_midway_on_several_workers_resumes_to_the_same_verdicts() {
    // On three workers the store also lost each unfinished run's last point, as after kill -9.
    for case in [hyperband(), asha(), asha_to_the_end(), median()] {
        let alone = case.ended_on(Order::Run, 1, SPEEDS[0]);
        for workers in [2, 3] {
            for step_ms in SPEEDS {
                let lose = workers == 3;
                let resumed: Vec<FakeStore> = (1..)
                    .map_while(|stop_at| case.interrupted_then_resumed_on(workers, step_ms, stop_at, lose))
                    .collect();
                assert!(resumed.len() > 5, "{:?}: cut short {} times", case.rule, resumed.len());
                for (at, store) in resumed.iter().enumerate() {
                    let ended = (verdicts(store), statuses(store));
                    assert_eq!(
                        ended,
                        alone,
                        "{:?}, {workers} workers, stopped at {} ms",
                        case.rule,
                        at + 1
                    );
                }
            }
        }
    }
}

#[test]
fn a_run_waiting_for_its_turn_is_not_timed_out_for_the_wait() {
    // Two workers, hyperband, a 21 ms timeout per attempt. Run 1 takes 10 ms an evaluation
    // and dies after its second (20 ms), then resumes fast; run 2 takes 2 ms an evaluation
    // but waits for run 1 at bands 1 and 2: 8 ms of training in 24 ms. Counted whole, the
    // wait would time run 2 out at 21 ms.
    let case = hyperband();
    let curves = case.curves;
    let launcher = FakeLauncher::new(move |run, attempt| Script::Judged {
        val: curves[run.0 as usize - 1],
        resume_at: 0,
        step_ms: if run.0 == 1 && attempt == 0 { 10 } else { 2 },
        dies_after: (run.0 == 1 && attempt == 0).then_some(2),
    });
    let limits = Limits {
        timeout: Some(Duration::from_millis(21)),
        ..case.limits_for(&FakeStore::default(), Order::Run, 2)
    };
    let (tally, _, _) = schedule(case.queue(), limits, &launcher, &[]);
    let tally = tally.unwrap();
    assert_eq!((tally.failed, tally.retried), (0, 1), "{tally:?}");
}
