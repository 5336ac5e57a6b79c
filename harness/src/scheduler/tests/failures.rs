//! A run's worker failing: retried from its checkpoint up to `max_retries`, also when a
//! signal nobody here sent stopped it; a diverged run is a result, and one past its timeout
//! is killed and failed without retry.

use super::*;

#[test]
fn a_failed_worker_is_retried_from_its_checkpoint_and_the_sweep_goes_on() {
    // Run 1 crashes after 3 points, then resumes from a checkpoint at point 2.
    let launcher = FakeLauncher::new(|run, attempt| match (run.0, attempt) {
        (1, 0) => Script::Crash { points: 3 },
        (1, _) => Script::Complete {
            points: 5,
            resume_at: 2,
        },
        _ => Script::Complete {
            points: 2,
            resume_at: 0,
        },
    });
    let (tally, store, transcript) = schedule(queue(3), limits(1), &launcher, &[]);
    assert_eq!(
        tally.unwrap(),
        Tally {
            completed: 3,
            retried: 1,
            ..Tally::default()
        }
    );
    let run = &store.0[&RunId(1)];
    assert_eq!(run.attempts, 2);
    // The crashed attempt's point 300 is replaced by the checkpoint's curve: no duplicates.
    let steps: Vec<u64> = run.curve.iter().map(|p| p.step).collect();
    assert_eq!(steps, [100, 200, 300, 400, 500]);
    assert!(
        run.error
            .as_deref()
            .unwrap()
            .contains("exited with status 1; its last output:\nerror: boom")
    );
    // The retry goes to the back of the queue.
    assert_eq!(
        launcher.counters.borrow().starts,
        [RunId(1), RunId(2), RunId(3), RunId(1)]
    );
    assert!(
        transcript
            .0
            .iter()
            .any(|l| l.contains("retrying from its last checkpoint"))
    );
}

#[test]
fn a_worker_stopped_by_a_signal_nobody_here_sent_is_retried_from_its_checkpoint() {
    for stopped in [
        Script::StoppedFromOutside { points: 2 },
        Script::ResultLost { points: 2 },
    ] {
        stopped_from_outside_then_completed(stopped);
    }
}

/// Run 1's first attempt ends as `stopped` says (at a Slurm time limit, or cancelled with
/// its last lines lost); the second completes.
fn stopped_from_outside_then_completed(stopped: Script) {
    let launcher = FakeLauncher::new(move |run, attempt| match (run.0, attempt) {
        (1, 0) => stopped,
        (1, _) => Script::Complete {
            points: 4,
            resume_at: 2,
        },
        _ => Script::Complete {
            points: 4,
            resume_at: 0,
        },
    });
    let (tally, store, transcript) = schedule(queue(2), limits(1), &launcher, &[]);
    assert_eq!(
        tally.unwrap(),
        Tally {
            completed: 2,
            retried: 1,
            ..Tally::default()
        }
    );
    let run = &store.0[&RunId(1)];
    assert_eq!((run.status, run.attempts), (Some(RunStatus::Completed), 2));
    assert!(
        transcript
            .0
            .iter()
            .any(|l| l.contains("a signal this scheduler did not send")),
        "{:?}",
        transcript.0
    );
}

#[test]
fn a_run_failing_more_than_max_retries_stays_failed() {
    let launcher = FakeLauncher::new(|run, _| match run.0 {
        1 => Script::Crash { points: 1 },
        _ => Script::Complete {
            points: 1,
            resume_at: 0,
        },
    });
    let (tally, store, _) = schedule(queue(2), limits(2), &launcher, &[]);
    assert_eq!(
        tally.unwrap(),
        Tally {
            completed: 1,
            failed: 1,
            retried: 1,
            ..Tally::default()
        }
    );
    assert_eq!((status(&store, 1), store.0[&RunId(1)].attempts), (RunStatus::Failed, 2));
}

#[test]
fn a_diverged_run_is_recorded_and_not_retried() {
    let launcher = FakeLauncher::new(|_, _| Script::Diverge);
    let (tally, store, _) = schedule(queue(1), limits(1), &launcher, &[]);
    assert_eq!(
        tally.unwrap(),
        Tally {
            diverged: 1,
            ..Tally::default()
        }
    );
    assert_eq!(
        (status(&store, 1), store.0[&RunId(1)].attempts),
        (RunStatus::Diverged, 1)
    );
}

#[test]
fn a_run_past_its_timeout_is_killed_and_failed_without_retry() {
    let launcher = FakeLauncher::new(|run, _| match run.0 {
        1 => Script::Endless,
        _ => Script::Complete {
            points: 2,
            resume_at: 0,
        },
    });
    let limits = Limits {
        timeout: Some(Duration::from_millis(60)),
        ..limits(2)
    };
    let (tally, store, _) = schedule(queue(2), limits, &launcher, &[]);
    assert_eq!(
        tally.unwrap(),
        Tally {
            completed: 1,
            failed: 1,
            ..Tally::default()
        }
    );
    assert_eq!(status(&store, 1), RunStatus::Failed);
    assert!(store.0[&RunId(1)].error.as_deref().unwrap().contains("timeout"));
}
