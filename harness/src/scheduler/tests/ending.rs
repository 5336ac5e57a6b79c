//! How a session stops launching: Ctrl-C (the first stops workers gracefully, a second kills
//! them) and a metric target reached (running runs finish, queued ones never start, and runs
//! waiting for their turn behind those need not wait).

use super::*;
use crate::spec::Goal;
use crate::stopping::hyperband::{Bands, Hyperband};
use crate::stopping::{EarlyTerminate, Order};

#[test]
fn the_first_interrupt_stops_workers_gracefully_and_launches_nothing_more() {
    let launcher = FakeLauncher::new(|_, _| Script::Endless);
    let (tally, store, transcript) = schedule(queue(4), limits(2), &launcher, &[30]);
    assert_eq!(
        tally.unwrap(),
        Tally {
            interrupted: 2,
            not_started: 2,
            ..Tally::default()
        }
    );
    assert_eq!(launcher.counters.borrow().starts, [RunId(1), RunId(2)]);
    assert_eq!(
        (status(&store, 1), status(&store, 2)),
        (RunStatus::Interrupted, RunStatus::Interrupted)
    );
    assert!(!store.0.contains_key(&RunId(3)), "run 3 never started");
    // Stopped gracefully: each worker reported its steps.
    assert!(store.0[&RunId(1)].result.as_ref().unwrap().steps_done > 0);
    assert!(transcript.0.iter().any(|l| l.starts_with("stopping")));
}

/// A worker that ignores SIGTERM, as one stuck in a long evaluation would.
struct Stubborn(FakeLauncher);

impl Launcher for Stubborn {
    fn start(&self, job: &Job, messages: MessageSender) -> std::io::Result<Box<dyn WorkerControl>> {
        struct IgnoresStop(Box<dyn WorkerControl>);
        impl WorkerControl for IgnoresStop {
            fn stop(&mut self) {}
            fn kill(&mut self) {
                self.0.kill();
            }
            fn send_verdict(&mut self, verdict: model::Verdict) {
                self.0.send_verdict(verdict);
            }
        }
        Ok(Box::new(IgnoresStop(self.0.start(job, messages)?)))
    }
}

#[test]
fn a_second_interrupt_kills_the_workers_and_marks_their_runs_interrupted() {
    let launcher = Stubborn(FakeLauncher::new(|_, _| Script::Endless));
    let (tally, store, transcript) = schedule(queue(2), limits(2), &launcher, &[20, 40]);
    assert_eq!(
        tally.unwrap(),
        Tally {
            interrupted: 2,
            ..Tally::default()
        }
    );
    assert_eq!(status(&store, 1), RunStatus::Interrupted);
    assert!(store.0[&RunId(1)].result.is_none(), "killed: no result");
    assert!(!store.0[&RunId(1)].curve.is_empty(), "the points received are kept");
    assert!(transcript.0.iter().any(|l| l == "killing the workers"));
}

#[test]
fn runs_that_finish_after_an_interrupt_leave_the_rest_of_the_queue_not_started() {
    // Both workers are in their final evaluation when Ctrl-C comes: they finish anyway.
    let launcher = Stubborn(FakeLauncher::new(|_, _| Script::Complete {
        points: 5,
        resume_at: 0,
    }));
    let (tally, store, _) = schedule(queue(5), limits(2), &launcher, &[5]);
    assert_eq!(
        tally.unwrap(),
        Tally {
            completed: 2,
            not_started: 3,
            ..Tally::default()
        }
    );
    assert_eq!(launcher.0.counters.borrow().starts, [RunId(1), RunId(2)]);
    assert!(!store.0.contains_key(&RunId(3)));
}

/// `limits(workers)` whose metric stops the search at val_loss ≤ `target`.
fn with_target(workers: usize, target: f64) -> Limits {
    Limits {
        metric: Metric {
            target: Some(target),
            ..Metric::default()
        },
        ..limits(workers)
    }
}

#[test]
fn a_run_reaching_the_target_starts_no_new_run_and_lets_running_ones_finish() {
    // Run 1 finishes first (the fakes end at val 2.0); run 2 is still training then.
    let launcher = FakeLauncher::new(|run, _| Script::Complete {
        points: if run.0 == 1 { 1 } else { 5 },
        resume_at: 0,
    });
    let (tally, store, transcript) = schedule(queue(5), with_target(2, 2.0), &launcher, &[]);
    assert_eq!(
        tally.unwrap(),
        Tally {
            completed: 2,
            after_target: 3,
            ..Tally::default()
        }
    );
    assert_eq!(launcher.counters.borrow().starts, [RunId(1), RunId(2)]);
    assert_eq!(status(&store, 2), RunStatus::Completed);
    assert!(
        transcript
            .0
            .iter()
            .any(|l| l.contains("reached the target val_loss ≤ 2"))
    );
}

#[test]
fn a_target_no_run_reaches_lets_every_run_train() {
    let launcher = FakeLauncher::new(|_, _| Script::Complete {
        points: 2,
        resume_at: 0,
    });
    let (tally, _, _) = schedule(queue(4), with_target(2, 1.99), &launcher, &[]);
    assert_eq!(
        tally.unwrap(),
        Tally {
            completed: 4,
            ..Tally::default()
        }
    );
}

#[test]
fn a_run_behind_one_the_target_leaves_unstarted_is_judged_without_it() {
    // Hyperband in run order, two workers. Run 1 crashes at once and is queued again behind
    // run 3, which, judged nowhere, completes at the target (the fakes end at val 2.0) before
    // run 2 reaches its first evaluation. Run 1 will never start, so run 2 need not wait for
    // its turn there, and trains to its end. (Waiting on, it would be interrupted at 60 s.)
    let rule = EarlyTerminate::Hyperband(Hyperband::new(Bands::Up { min_iter: 1 }, 2.0, true).unwrap());
    let stored = judge::Stored {
        runs: (1..=3).map(|id| (RunId(id), RunStatus::Pending)).collect(),
        curves: Vec::new(),
        given: Vec::new(),
    };
    let limits = Limits {
        judge: Some(Judge::new(rule, Order::Run, Goal::Minimize, stored)),
        ..with_target(2, 2.0)
    };
    let launcher = FakeLauncher::new(|run, attempt| match (run.0, attempt) {
        (1, _) => Script::Crash { points: 0 },
        (2, _) => Script::Judged {
            val: &[2.3, 2.2, 2.1],
            resume_at: 0,
            step_ms: 20,
            dies_after: None,
        },
        _ => Script::Judged {
            val: &[2.0],
            resume_at: 0,
            step_ms: 1,
            dies_after: None,
        },
    });
    let mut runs = queue(3);
    runs.iter_mut().for_each(|run| run.job.judged = true);
    let (tally, store, _) = schedule(runs, limits, &launcher, &[60_000]);
    assert_eq!(
        tally.unwrap(),
        Tally {
            completed: 2,
            retried: 1,
            after_target: 1,
            ..Tally::default()
        }
    );
    assert_eq!(status(&store, 2), RunStatus::Completed);
    assert_eq!(launcher.counters.borrow().starts, [RunId(1), RunId(2), RunId(3)]);
}
