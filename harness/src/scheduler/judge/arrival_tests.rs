//! The judge's tests: each rule's verdicts on curves given by hand, revisions of ASHA's
//! pauses, and what a resumed judge gives again.

use super::*;
use crate::scheduler::judge::Decides;
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

fn judge(given: Vec<VerdictRecord>) -> ByArrival {
    let curves = vec![
        (RunId(1), vec![(0, 3.3), (100, 2.0), (200, 1.9)]),
        (RunId(2), vec![(0, 3.3), (100, 2.2)]),
    ];
    ByArrival::new(hyperband(), Goal::Minimize, curves, [], given)
}

/// `run` reports `loss` at `step` and asks.
fn ask(judge: &mut ByArrival, run: i64, step: u64, loss: f64) -> Judgement {
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
    let mut judge = ByArrival::new(hyperband(), Goal::Maximize, curves, [], vec![]);
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
    let mut judge = ByArrival::new(rule, Goal::Minimize, curves, [RunId(1)], vec![]);
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
    let mut judge = ByArrival::new(rule, Goal::Minimize, Vec::new(), [], vec![]);
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

#[test]
fn a_finite_asha_sweep_sends_its_best_at_the_highest_rung_on_to_its_budget() {
    // Rungs at 1, 2, 4 evaluations; half of each rung goes on.
    let rule = EarlyTerminate::Asha(Asha { min_iter: 1, eta: 2.0 });
    let mut judge = ByArrival::new(rule, Goal::Minimize, Vec::new(), [], vec![]);
    assert_eq!(ask(&mut judge, 1, 100, 2.0).decision, Pause);
    assert_eq!(ask(&mut judge, 2, 100, 1.5).decision, Continue, "the best of two");
    assert_eq!(ask(&mut judge, 3, 100, 2.5).decision, Pause);
    // Alone at the second rung: ⌊1/2⌋ = 0 may go on, so run 2 waits there too.
    assert_eq!(ask(&mut judge, 2, 200, 1.4).decision, Pause);
    // Nothing else left: the best at the highest rung goes on, and passes every later rung.
    assert_eq!(judge.finish_best(), Some(record(2, 200, 1.4, Continue)));
    assert_eq!(
        judge.verdict(RunId(2), 200).decision,
        Continue,
        "it resumes at its rung"
    );
    let between = ask(&mut judge, 2, 300, 1.35);
    assert_eq!((between.decision, between.records.len()), (Continue, 0));
    let rung = ask(&mut judge, 2, 400, 1.3);
    assert_eq!(
        (rung.decision, rung.records),
        (Continue, vec![record(2, 400, 1.3, Continue)])
    );
    // Once it completed, the others stop where they wait.
    judge.completed(RunId(2));
    assert_eq!(judge.finish_best(), None);
    let mut stopped = judge.stop_paused();
    stopped.sort_by_key(|r| r.run);
    assert_eq!(stopped, [record(1, 100, 2.0, Stop), record(3, 100, 2.5, Stop)]);
}

#[test]
fn finishing_picks_the_highest_rung_first_then_the_best_value_there() {
    let rule = EarlyTerminate::Asha(Asha { min_iter: 1, eta: 3.0 });
    // Runs 1 and 2 paused at the first rung (1.0 is the best value anywhere); runs 3 and 4
    // at the third evaluation's rung (1, 3, 9), run 4 the better there.
    let curves = vec![
        (RunId(1), vec![(100, 1.0)]),
        (RunId(2), vec![(100, 1.2)]),
        (RunId(3), vec![(100, 1.3), (200, 1.25), (300, 1.2)]),
        (RunId(4), vec![(100, 1.4), (200, 1.2), (300, 1.1)]),
    ];
    let given = vec![
        record(1, 100, 1.0, Pause),
        record(2, 100, 1.2, Pause),
        record(3, 100, 1.3, Continue),
        record(4, 100, 1.4, Continue),
        record(3, 300, 1.2, Pause),
        record(4, 300, 1.1, Pause),
    ];
    let mut judge = ByArrival::new(rule, Goal::Minimize, curves, [], given);
    assert_eq!(judge.finish_best(), Some(record(4, 300, 1.1, Continue)));
    assert!(!judge.is_paused(RunId(4)) && judge.is_paused(RunId(3)));
    // Under hyperband nothing is ever sent on.
    let mut other = ByArrival::new(hyperband(), Goal::Minimize, Vec::new(), [], vec![]);
    assert_eq!(other.finish_best(), None);
}
