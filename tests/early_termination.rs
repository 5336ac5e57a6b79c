//! End-to-end: a sweep with W&B's hyperband early termination stops the run that falls
//! behind at an evaluation, keeps it as a result (status `stopped`, losses where it
//! stopped, samples), and ends with exit code 0; the median rule stops a run worse than the
//! runs before it; ASHA pauses, promotes, and sends its best on to its budget when no run
//! got there, each resumed run continuing exactly where it paused, also after `kill -9`.

mod common;

use common::sweeps::{HYPERBAND_SPEC, kill, runs, spawn, wait_for};
use common::{Sandbox, open_store, stderr, stdout};
use results::{Decision, RunStatus};

#[test]
fn hyperband_stops_the_run_that_falls_behind_and_the_sweep_still_succeeds() {
    let sandbox = Sandbox::new();
    sandbox.names(300);
    let spec = sandbox.path("hb.yaml");
    std::fs::write(&spec, HYPERBAND_SPEC).unwrap();
    let plan = sandbox.run(&["launch", spec.to_str().unwrap(), "--dry-run"]);
    assert!(
        stderr(&plan).contains("early termination: hyperband: bands at 1, 2, 4 evaluations, eta 2, strict"),
        "{}",
        stderr(&plan)
    );
    let out = sandbox.run(&["launch", spec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("2 completed, 0 diverged, 1 stopped early"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("run 3 stopped early at step 100"),
        "{}",
        stderr(&out)
    );

    let all = runs(&sandbox.db(), "hb");
    let statuses: Vec<RunStatus> = all.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [RunStatus::Completed, RunStatus::Completed, RunStatus::Stopped]
    );
    let stopped = &all[2];
    assert_eq!(stopped.steps_done, 100);
    let store = open_store(&sandbox.db());
    let val_at_100 = store.curve(stopped.id, results::Split::Val).unwrap();
    assert_eq!(
        val_at_100.last().map(|p| p.0),
        Some(100),
        "its curve ends where it stopped"
    );
    assert_eq!(
        stopped.val_loss,
        val_at_100.last().map(|p| p.1),
        "evaluated where it stopped"
    );
    assert!(stopped.train_loss.is_some() && stopped.test_loss.is_some());
    assert!(!store.samples(stopped.id).unwrap().is_empty());

    // `explain` names the threshold it missed: the middle of the three runs' values at the
    // first band, the one at index ⌊3/2⌋.
    let mut at_band: Vec<f64> = all
        .iter()
        .map(|run| store.curve(run.id, results::Split::Val).unwrap()[1].1)
        .collect();
    at_band.sort_by(f64::total_cmp);
    let explained = sandbox.run(&["explain", &stopped.id.to_string()]);
    assert_eq!(explained.status.code(), Some(0), "{}", stderr(&explained));
    assert!(
        stdout(&explained).contains("planned: run 3 of the 3 the sweep file lists"),
        "{}",
        stdout(&explained)
    );
    // Five significant digits, as the harness prints losses between 1 and 10.
    let five = |x: f64| {
        format!("{x:.4}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    };
    let (threshold, value) = (five(at_band[1]), five(val_at_100.last().unwrap().1));
    let line = stdout(&explained)
        .lines()
        .find(|line| line.contains("step 100"))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no verdict at step 100: {}", stdout(&explained)));
    assert!(
        line.contains("stop — ")
            && line.contains(&format!("{value} against the threshold {threshold} of the band at 1")),
        "{line}"
    );

    let sweep = store.find_sweep("hb").unwrap().unwrap();
    let verdicts: Vec<(i64, u64, bool)> = store
        .sweep_verdicts(sweep.id)
        .unwrap()
        .iter()
        .map(|v| (v.run.0, v.step, v.decision == Decision::Stop))
        .collect();
    let (first, third) = (all[0].id.0, all[2].id.0);
    assert!(verdicts.contains(&(third, 100, true)), "{verdicts:?}");
    assert_eq!(verdicts.iter().filter(|v| v.0 == first).count(), 3, "{verdicts:?}");
    assert_eq!(
        verdicts.iter().filter(|v| v.2).count(),
        1,
        "only run 3 stops: {verdicts:?}"
    );

    let listed = sandbox.run(&["runs", "--sweep", "hb", "--status", "stopped", "--format", "csv"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    assert_eq!(
        stdout(&listed).lines().count(),
        2,
        "a header and run 3: {}",
        stdout(&listed)
    );
    let status = sandbox.run(&["status"]);
    assert!(stdout(&status).contains("stopped"), "{}", stdout(&status));

    let report_dir = sandbox.path("report-hb");
    let report = sandbox.run(&["report", "hb", "--out", report_dir.to_str().unwrap()]);
    assert!(report.status.success(), "{}", stderr(&report));
    let text = std::fs::read_to_string(report_dir.join("report.md")).unwrap();
    assert!(text.contains("× where a run was stopped early"), "{text}");
    assert!(text.contains("stopped"), "the runs table names its status: {text}");
}

/// Launches `HYPERBAND_SPEC` with `rule` as its `early_terminate`; it must succeed.
fn launch_with(rule: &str) -> (Sandbox, std::process::Output) {
    let sandbox = Sandbox::new();
    sandbox.names(300);
    let spec = sandbox.path("rule.yaml");
    let text = HYPERBAND_SPEC.replace("{type: hyperband, min_iter: 1, eta: 2}", rule);
    std::fs::write(&spec, text).unwrap();
    let out = sandbox.run(&["launch", spec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    (sandbox, out)
}

#[test]
fn the_median_rule_stops_a_run_worse_than_the_runs_before_it() {
    let (sandbox, _) = launch_with("{type: median, n_startup_runs: 2}");
    let statuses: Vec<(RunStatus, u64)> = runs(&sandbox.db(), "hb")
        .iter()
        .map(|r| (r.status, r.steps_done))
        .collect();
    assert_eq!(
        statuses,
        [
            (RunStatus::Completed, 400),
            (RunStatus::Completed, 400),
            (RunStatus::Stopped, 100)
        ],
        "run 3 is judged against runs 1 and 2 at its first evaluation, and stops there"
    );
}

#[test]
fn asha_pauses_promotes_sends_its_best_on_and_a_resumed_run_continues_exactly_where_it_paused() {
    // Rungs at 1, 2 (and 4) evaluations, half of each goes on. On one worker: run 1 pauses
    // alone at 100; run 2 arrives behind it, so run 1 is promoted and run 2 pauses; run 1
    // pauses alone at 200; run 3 pauses at 100 (the rung's one promotion is used). Nothing is
    // left to promote and no run trained to its end: run 1, the best at the highest rung, is
    // sent on to its 400 steps; runs 2 and 3 stop where they are, each evaluated there.
    let (sandbox, out) = launch_with("{type: asha, min_iter: 1, eta: 2}");
    assert!(stderr(&out).contains("run 1 promoted"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no run has trained to its end: run 1"),
        "{}",
        stderr(&out)
    );
    let all = runs(&sandbox.db(), "hb");
    let ended: Vec<(RunStatus, u64, u32)> = all.iter().map(|r| (r.status, r.steps_done, r.attempts)).collect();
    assert_eq!(
        ended,
        [
            (RunStatus::Completed, 400, 3),
            (RunStatus::Stopped, 100, 2),
            (RunStatus::Stopped, 100, 2)
        ],
        "(status, steps, attempts): paused twice, promoted, then sent on; paused, then stopped"
    );
    assert!(
        all.iter().all(|r| r.val_loss.is_some()),
        "each evaluated where it stopped"
    );
    // `explain` tells run 1's story: paused, promoted by run 2's arrival, paused, sent on.
    let explained = stdout(&sandbox.run(&["explain", &all[0].id.to_string()]));
    for told in [
        "step 100, val",
        "then continue — promoted when run",
        "no run had trained to its end: the best run paused at the highest rung reached",
    ] {
        assert!(explained.contains(told), "{told}: {explained}");
    }
    let replayed = sandbox.run(&["replay", "hb", "--verify"]);
    assert_eq!(
        replayed.status.code(),
        Some(0),
        "the pauses, the promotion and the run sent on, made again: {}",
        stdout(&replayed)
    );

    // Run 1 trained 0–100, paused, 100–200 in another process, paused, then 200–400 in a
    // third: its curve is the one an uninterrupted run of the same configuration draws.
    let alone = sandbox.run(&[
        "train",
        "--data",
        "names.txt",
        "--model",
        "mlp",
        "--n-embd",
        "4",
        "--n-hidden",
        "16",
        "--block-size",
        "3",
        "--steps",
        "400",
        "--log-every",
        "50",
        "--eval-every",
        "100",
        "--lr",
        "0.1",
        "--name",
        "alone",
    ]);
    assert!(alone.status.success(), "{}", stderr(&alone));
    let store = open_store(&sandbox.db());
    let reference = runs(&sandbox.db(), "alone")[0].id;
    for split in [results::Split::Train, results::Split::Val] {
        let paused_and_promoted = store.curve(all[0].id, split).unwrap();
        assert_eq!(paused_and_promoted, store.curve(reference, split).unwrap(), "{split:?}");
    }
}

#[test]
fn a_scheduler_killed_with_sigkill_mid_search_resumes_to_the_verdicts_of_an_undisturbed_one() {
    let (sandbox, _) = launch_with("{type: asha, min_iter: 1, eta: 2}");
    let spec = sandbox.path("six.yaml");
    let six = std::fs::read_to_string(sandbox.path("rule.yaml"))
        .unwrap()
        .replace("name: hb", "name: six")
        .replace("steps: {value: 400}", "steps: {value: 2000}")
        .replace("eval_every: {value: 100}", "eval_every: {value: 500}")
        .replace("[0.1, 0.05, 0.00001]", "[0.1, 0.05, 0.02, 0.2, 0.00001, 0.3]");
    std::fs::write(&spec, six).unwrap();
    let mut child = spawn(&sandbox, &["launch", spec.to_str().unwrap()]);
    wait_for(&sandbox.db(), "six", "a run paused, runs left to train", |runs| {
        runs.iter().any(|r| r.status == RunStatus::Paused) && runs.iter().any(|r| r.status == RunStatus::Pending)
    });
    kill(child.id(), "-KILL");
    child.wait().unwrap();
    let status = sandbox.run(&["status", "six"]);
    assert!(
        stderr(&status).contains("paused at an ASHA rung"),
        "{}",
        stderr(&status)
    );
    let out = sandbox.run(&["resume", "six"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let out = sandbox.run(&["launch", spec.to_str().unwrap(), "--name", "undisturbed"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let store = open_store(&sandbox.db());
    // Verdicts and endings by run position, the two sweeps side by side.
    let outcome = |name: &str| {
        let all = runs(&sandbox.db(), name);
        let sweep = store.find_sweep(name).unwrap().unwrap();
        let verdicts: Vec<(usize, u64, Decision)> = store
            .sweep_verdicts(sweep.id)
            .unwrap()
            .iter()
            .map(|v| (all.iter().position(|r| r.id == v.run).unwrap(), v.step, v.decision))
            .collect();
        let ended: Vec<(RunStatus, u64, Option<f64>)> =
            all.iter().map(|r| (r.status, r.steps_done, r.val_loss)).collect();
        (verdicts, ended)
    };
    let (resumed, undisturbed) = (outcome("six"), outcome("undisturbed"));
    assert!(!resumed.0.is_empty());
    assert_eq!(resumed, undisturbed);
}
