//! Early termination in the scheduler: judged fake workers follow scripted validation
//! curves; the scheduler stops the ones hyperband names, records each verdict once, and a
//! session stopped midway then resumed gives the verdicts an undisturbed one gives.

use super::fakes::{FakeLauncher, FakeStore, Script};
use super::*;
use crate::scheduler::hyperband::{Bands, Hyperband};
use crate::spec::Goal;
use results::{CurvePoint, Split, VerdictRecord};

/// Four evaluations each (steps 100 … 400), judged at 100, 200 and 300. Hyperband with
/// bands of 1, 2, 4 evaluations and eta 2 on one worker, in this order:
/// - runs 1 and 2 set the thresholds and go on;
/// - run 3's 2.5 at its first evaluation is worse than 2.1, the middle of (2.0, 2.1, 2.5):
///   stopped at step 100;
/// - run 4's 1.85 at its second equals the middle of (1.8, 1.85, 1.9): it goes on.
const CURVES: [&[f64]; 4] = [
    &[2.0, 1.8, 1.6, 1.5],
    &[2.1, 1.9, 1.7, 1.6],
    &[2.5, 2.4, 2.3, 2.2],
    &[1.9, 1.85, 1.9, 1.4],
];

fn judged_queue() -> Vec<QueuedRun> {
    queue(4)
        .into_iter()
        .map(|mut run| {
            run.job.judged = true;
            run
        })
        .collect()
}

fn rule() -> EarlyTerminate {
    EarlyTerminate::Hyperband(Hyperband::new(Bands::Up { min_iter: 1 }, 2.0, true).unwrap())
}

/// Limits with a judge that knows what `store` holds (as `Session` builds it on resume).
fn judged_limits(store: &FakeStore) -> Limits {
    let curves = store.0.iter().map(|(run, stored)| {
        let val = stored
            .curve
            .iter()
            .filter(|p| p.split == Split::Val)
            .map(|p: &CurvePoint| (p.step, p.loss));
        (*run, val.collect())
    });
    let given = store.1.iter().map(|v| (v.run, v.step, v.stop));
    Limits {
        judge: Some(Judge::new(rule(), Goal::Minimize, curves, [], given)),
        ..limits(1)
    }
}

/// Each run follows its curve, resumed after the validation points it has in `store`.
fn launcher(store: &FakeStore) -> FakeLauncher {
    let resume_at: HashMap<RunId, u64> = store
        .0
        .iter()
        .map(|(run, stored)| {
            (
                *run,
                stored.curve.iter().filter(|p| p.split == Split::Val).count() as u64,
            )
        })
        .collect();
    FakeLauncher::new(move |run, _| Script::Judged {
        val: CURVES[run.0 as usize - 1],
        resume_at: resume_at.get(&run).copied().unwrap_or(0),
    })
}

fn sorted(mut verdicts: Vec<VerdictRecord>) -> Vec<(i64, u64, bool)> {
    verdicts.sort_by_key(|v| (v.run, v.step));
    verdicts.iter().map(|v| (v.run.0, v.step, v.stop)).collect()
}

#[test]
fn hyperband_stops_the_run_behind_its_band_and_a_stopped_run_is_a_result() {
    let empty = FakeStore::default();
    let (tally, store, transcript) = schedule(judged_queue(), judged_limits(&empty), &launcher(&empty), &[]);
    assert_eq!(
        tally.unwrap(),
        Tally {
            completed: 3,
            stopped: 1,
            ..Tally::default()
        }
    );
    assert_eq!(super::status(&store, 3), RunStatus::Stopped);
    let result = store.0[&RunId(3)].result.clone().unwrap();
    assert_eq!(result.steps_done, 100);
    assert!(result.losses.is_some(), "a stopped run is evaluated where it stopped");
    assert!(
        transcript
            .0
            .contains(&"3 stopped early at step 100, val 2.0000".to_string())
    );
    let mut expected: Vec<(i64, u64, bool)> = [1, 2, 4]
        .iter()
        .flat_map(|&run| [100, 200, 300].map(|step| (run, step, false)))
        .collect();
    expected.push((3, 100, true));
    expected.sort();
    assert_eq!(sorted(store.1), expected, "each evaluation judged once");
}

#[test]
fn a_sweep_stopped_midway_and_resumed_reaches_the_verdicts_of_an_undisturbed_one() {
    let empty = FakeStore::default();
    let (_, undisturbed, _) = schedule(judged_queue(), judged_limits(&empty), &launcher(&empty), &[]);
    // Stopped at several moments (run 1 done, run 2 waiting or training), each resumed.
    for stop_at in [9, 11, 12, 13, 15, 21] {
        let (tally, first, _) = schedule(judged_queue(), judged_limits(&empty), &launcher(&empty), &[stop_at]);
        assert!(
            tally.unwrap().interrupted > 0,
            "stopped at {stop_at} ms: a run was cut short"
        );
        let todo: Vec<QueuedRun> = judged_queue()
            .into_iter()
            .filter(|run| {
                first
                    .0
                    .get(&run.id)
                    .is_none_or(|r| r.status != Some(RunStatus::Completed))
            })
            .collect();
        let (limits, launcher) = (judged_limits(&first), launcher(&first));
        let (tally, resumed, _) = schedule_on(first, todo, limits, &launcher, &[]);
        tally.unwrap();
        assert_eq!(
            sorted(resumed.1.clone()),
            sorted(undisturbed.1.clone()),
            "stopped at {stop_at} ms"
        );
        for id in 1..=4 {
            assert_eq!(
                super::status(&resumed, id),
                super::status(&undisturbed, id),
                "run {id}, stopped at {stop_at} ms"
            );
        }
    }
}
