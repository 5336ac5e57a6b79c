//! End-to-end: in run order (the default), an ASHA, a hyperband and a median sweep end with
//! the same verdicts, statuses and losses on one worker, on two, and on two whose workers and
//! scheduler are killed with SIGKILL at moments that depend on timing, then resumed — and so
//! does a `bayes` search under ASHA, proposal for proposal; `replay
//! --verify` makes each sweep's verdicts and proposals again from its stored curves and
//! results, and finds the one verdict or proposal edited in the database; `explain` shows how
//! TPE drew a proposal. A run that failed for good is judged again, and the sweep
//! ends, when `resume --retry-failed` gives it another go.

mod common;

use std::process::Stdio;

use common::sweeps::{children, kill_9, launch_through_kills, runs, wait_at_most, wait_for, write_six_mlps};
use common::{Sandbox, open_store, stderr, stdout};
use results::{Decision, RunStatus};

/// Six tiny MLPs judged every 100 steps under `rule`: on two workers the narrow ones get to
/// each evaluation first and, judged as they arrive (`order: arrival`), every one of the three
/// rules ends differently than on one.
fn write_sweep(sandbox: &Sandbox, rule: &str) -> String {
    write_six_mlps(sandbox, "method: grid", &format!("early_terminate: {rule}"))
}

/// Each run's verdicts (run position, step, decision), sorted, and each run's configuration
/// and how it ended.
type Outcome = (Vec<(usize, u64, Decision)>, Vec<(String, RunStatus, u64, Option<f64>)>);

fn outcome(sandbox: &Sandbox, name: &str) -> Outcome {
    let all = runs(&sandbox.db(), name);
    let store = open_store(&sandbox.db());
    let sweep = store.find_sweep(name).unwrap().unwrap();
    let mut verdicts: Vec<(usize, u64, Decision)> = store
        .sweep_verdicts(sweep.id)
        .unwrap()
        .iter()
        .map(|v| (all.iter().position(|r| r.id == v.run).unwrap(), v.step, v.decision))
        .collect();
    verdicts.sort_by_key(|v| (v.0, v.1));
    let ended = all
        .iter()
        .map(|r| (r.config_json.clone(), r.status, r.steps_done, r.val_loss))
        .collect();
    (verdicts, ended)
}

fn launch(sandbox: &Sandbox, spec: &str, name: &str, workers: &str) {
    let out = sandbox.run(&["launch", spec, "--name", name, "--workers", workers]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

fn same_whatever_the_workers(rule: &str) {
    let sandbox = Sandbox::new();
    let spec = write_sweep(&sandbox, rule);
    same_on_any_workers(&sandbox, &spec, rule);
}

/// The sweep `spec` on one worker, on two, and through kills: the same verdicts, runs and
/// results, and `replay --verify` agrees with each; then it finds an edited verdict.
fn same_on_any_workers(sandbox: &Sandbox, spec: &str, rule: &str) {
    launch(sandbox, spec, "one", "1");
    let one = outcome(sandbox, "one");
    assert!(
        one.0.iter().any(|v| v.2 != Decision::Continue),
        "{rule} decides something: {one:?}"
    );
    launch(sandbox, spec, "two", "2");
    assert_eq!(outcome(sandbox, "two"), one, "{rule}: two workers");
    launch_through_kills(sandbox, spec, "killed");
    assert_eq!(outcome(sandbox, "killed"), one, "{rule}: killed and resumed");
    // A run whose worker was killed: `explain` tells that attempt's end and its cause.
    if let Some(retried) = runs(&sandbox.db(), "killed").iter().find(|r| r.retries > 0) {
        let explained = stdout(&sandbox.run(&["explain", &retried.id.to_string()]));
        assert!(explained.contains(", failed (the worker "), "{explained}");
    }
    for name in ["one", "two", "killed"] {
        let out = sandbox.run(&["replay", name, "--verify"]);
        assert_eq!(out.status.code(), Some(0), "{rule}, {name}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "nothing differs: {}", stdout(&out));
    }
    edit_first_verdict(sandbox, "one");
    let out = sandbox.run(&["replay", "one", "--verify"]);
    assert_eq!(out.status.code(), Some(1), "{rule}: {}", stderr(&out));
    assert_eq!(
        stdout(&out).lines().count(),
        2,
        "a header and the edited verdict: {}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("differs"), "{}", stdout(&out));
}

/// Turns the sweep's first verdict into the other of `continue` and `stop`, as a hand editing
/// the database would.
fn edit_first_verdict(sandbox: &Sandbox, name: &str) {
    let conn = rusqlite::Connection::open(sandbox.db()).unwrap();
    let changed = conn
        .execute(
            "UPDATE verdicts SET verdict = CASE verdict WHEN 'continue' THEN 'stop' ELSE 'continue' END
             WHERE (run_id, step) = (SELECT v.run_id, v.step FROM verdicts v JOIN runs r ON r.id = v.run_id
                                     JOIN sweeps s ON s.id = r.sweep_id WHERE s.name = ?1
                                     ORDER BY v.run_id, v.step LIMIT 1)",
            [name],
        )
        .unwrap();
    assert_eq!(changed, 1);
}

#[test]
fn asha_verdicts_are_the_same_on_one_worker_two_and_through_kills() {
    same_whatever_the_workers("{type: asha, min_iter: 1, eta: 2}");
}

#[test]
fn hyperband_verdicts_are_the_same_on_one_worker_two_and_through_kills() {
    same_whatever_the_workers("{type: hyperband, min_iter: 1, eta: 2}");
}

#[test]
fn median_verdicts_are_the_same_on_one_worker_two_and_through_kills() {
    same_whatever_the_workers("{type: median, n_startup_runs: 2, n_warmup_evals: 1}");
}

#[test]
fn a_bayes_search_under_asha_proposes_and_judges_the_same_on_one_worker_two_and_through_kills() {
    let sandbox = Sandbox::new();
    let spec = write_sweep(&sandbox, "{type: asha, min_iter: 1, eta: 2}");
    let text = std::fs::read_to_string(&spec)
        .unwrap()
        .replace(
            "method: grid",
            "method: bayes\nrun_cap: 14\nsampler_seed: 5\nrandom_fraction: 0.5",
        )
        .replace(
            "lr: {values: [0.00001, 0.02, 0.1]}",
            "lr: {min: 0.0001, max: 0.5, distribution: log_uniform_values}",
        );
    std::fs::write(&spec, text).unwrap();
    let plan = stdout(&sandbox.run(&["launch", &spec, "--dry-run"]));
    assert!(
        plan.contains("10 runs, then 4 proposed from the results as it runs (2 of them at random)"),
        "{plan}"
    );
    same_on_any_workers(&sandbox, &spec, "bayes + asha");

    // Run 11 is TPE's first proposal: `explain` shows what it was drawn from.
    let proposed = runs(&sandbox.db(), "two")[10].id.to_string();
    let out = sandbox.run(&["explain", &proposed]);
    let explained = stdout(&out);
    for told in [
        "proposed: by TPE (run 11 of the search), from the results of runs ",
        "its good runs (the best 1 of ",
        "lr = ",
        ": log l(x) − log g(x) = ",
        "the highest of 24 candidates",
        "drawn again from the stored results: the same values",
    ] {
        assert!(explained.contains(told), "{told}: {explained}");
    }
    // Run 12 is TPE's second turn, drawn at random under `random_fraction: 0.5`.
    let at_random = runs(&sandbox.db(), "two")[11].id.to_string();
    let explained = stdout(&sandbox.run(&["explain", &at_random]));
    for told in [
        "proposed: at random (run 12 of the search), as `random_fraction` (0.5) of TPE's turns are",
        "drawn again from the stored results: the same values",
    ] {
        assert!(explained.contains(told), "{told}: {explained}");
    }
    assert!(!explained.contains("log l(x)"), "{explained}");
    // A proposal edited in the database is found (and the later ones, which learned from its
    // values, differ too), and `explain` says so.
    let conn = rusqlite::Connection::open(sandbox.db()).unwrap();
    let edited = "UPDATE runs SET config = json_set(config, '$.lr', 0.4321) WHERE id = ?1";
    assert_eq!(conn.execute(edited, [&proposed]).unwrap(), 1);
    let out = sandbox.run(&["replay", "two", "--verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let shown = stdout(&out);
    let differs: Vec<&str> = shown.lines().skip(1).collect();
    assert!(!differs.is_empty(), "{shown}");
    assert!(
        differs[0].trim_start().starts_with(&proposed) && differs[0].contains("lr=0.4321"),
        "{shown}"
    );
    let explained = stdout(&sandbox.run(&["explain", &proposed]));
    assert!(
        explained.contains("drawn again from the stored results it differs"),
        "{explained}"
    );
}

#[test]
fn a_run_that_failed_for_good_is_judged_again_when_retried_and_the_sweep_ends() {
    let sandbox = Sandbox::new();
    let spec = write_sweep(&sandbox, "{type: hyperband, min_iter: 1, eta: 2}");
    let text = std::fs::read_to_string(&spec)
        .unwrap()
        .replace("max_retries: 20", "max_retries: 0");
    std::fs::write(&spec, text).unwrap();
    let quiet = |args: &[&str]| {
        let mut command = sandbox.harness(args);
        command.stdout(Stdio::null()).stderr(Stdio::null());
        command.spawn().unwrap()
    };
    let scheduler = quiet(&["launch", &spec, "--workers", "2"]);
    wait_for(&sandbox.db(), "hb", "a run training", |runs| {
        runs.iter().any(|r| r.status == RunStatus::Running)
    });
    let worker = children(scheduler.id()).into_iter().next().expect("a worker");
    kill_9(worker);
    let first = wait_at_most(scheduler, "the launch");
    assert_eq!(first.code(), Some(1), "a run failed for good");
    let failed = runs(&sandbox.db(), "hb")
        .iter()
        .filter(|r| r.status == RunStatus::Failed)
        .count();
    assert_eq!(failed, 1);
    // Judged again from where it failed: the runs after it that it now reaches are ranked with it.
    let retried = wait_at_most(
        quiet(&["resume", "hb", "--retry-failed", "--workers", "2"]),
        "the resume",
    );
    assert_eq!(retried.code(), Some(0));
    let all = runs(&sandbox.db(), "hb");
    assert!(all.iter().all(|r| r.val_loss.is_some()), "every run has a result");
}
