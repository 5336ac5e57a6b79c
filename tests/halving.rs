//! End-to-end: a `halving:` sweep trains every configuration short, then each rung's best
//! again from the start, up to the full `steps` — the same runs and losses on one worker, two,
//! and through SIGKILLs then `resume`, under `random` and `bayes`, and when stopped between
//! rungs; a rung is ranked once (a run that failed there is not retried); `replay --verify`
//! catches an edited result; `explain` tells where a run came from and how it ranked.

mod common;

use std::process::Stdio;

use common::sweeps::{children, kill_9, launch_through_kills, runs, wait_at_most, wait_for, write_six_mlps};
use common::{Sandbox, stderr, stdout};
use results::{RunRecord, RunStatus};

/// The six tiny MLPs of 800 steps, halved from 200 steps with eta 2: 6 runs of 200 steps, 3 of
/// 400, 1 of 800.
fn write_sweep(sandbox: &Sandbox, method: &str) -> String {
    write_six_mlps(sandbox, method, "halving: {min_steps: 200, eta: 2}")
}

/// Each run's configuration apart from its steps, its steps, status and val loss.
type Outcome = Vec<(String, u64, RunStatus, Option<f64>)>;

fn outcome(sandbox: &Sandbox, name: &str) -> Outcome {
    runs(&sandbox.db(), name)
        .iter()
        .map(|run| (without_steps(run), run.steps_done, run.status, run.val_loss))
        .collect()
}

fn without_steps(run: &RunRecord) -> String {
    let mut config: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&run.config_json).unwrap();
    config.remove("steps");
    serde_json::to_string(&config).unwrap()
}

fn launch(sandbox: &Sandbox, spec: &str, name: &str, workers: &str) {
    let out = sandbox.run(&["launch", spec, "--name", name, "--workers", workers]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// The sweep on one worker (`one`), two, and through kills: the same runs and losses, `rungs`
/// runs at 200, 400 and 800 steps, each rung's best sent on, and `replay --verify` agreeing.
fn same_on_any_workers(sandbox: &Sandbox, spec: &str, rungs: [usize; 3]) {
    launch(sandbox, spec, "one", "1");
    let one = outcome(sandbox, "one");
    let at = |steps: u64| one.iter().filter(|run| run.1 == steps).collect::<Vec<_>>();
    assert_eq!([at(200).len(), at(400).len(), at(800).len()], rungs, "{one:?}");
    assert!(one.iter().all(|run| run.2 == RunStatus::Completed), "{one:?}");
    for (rung, next) in [(200, 400), (400, 800)] {
        let mut ranked = at(rung);
        ranked.sort_by(|a, b| a.3.unwrap().total_cmp(&b.3.unwrap()));
        let sent: Vec<&String> = at(next).iter().map(|run| &run.0).collect();
        let best: Vec<&String> = ranked.iter().take(sent.len()).map(|run| &run.0).collect();
        assert_eq!(sent, best, "the best of {rung} steps go on, best first");
    }
    launch(sandbox, spec, "two", "2");
    assert_eq!(outcome(sandbox, "two"), one, "two workers");
    launch_through_kills(sandbox, spec, "killed");
    assert_eq!(outcome(sandbox, "killed"), one, "killed and resumed");
    let promotions = format!(
        "{} promotions made again from the stored results, all as stored",
        rungs[1] + rungs[2]
    );
    for name in ["one", "two", "killed"] {
        let out = sandbox.run(&["replay", name, "--verify"]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        assert!(stderr(&out).contains(&promotions), "{}", stderr(&out));
    }
}

#[test]
fn a_halving_sweep_sends_each_rungs_best_on_the_same_on_one_worker_two_and_through_kills() {
    let sandbox = Sandbox::new();
    let spec = write_sweep(&sandbox, "method: grid");
    let out = sandbox.run(&["launch", &spec, "--dry-run"]);
    assert!(
        stderr(&out).contains("6 at 200 steps, then 3 at 400 steps, then 1 at 800 steps: at most 3200 training steps"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("6 runs, then up to 4 sent on to later rungs in grid sweep `hb`"),
        "{}",
        stdout(&out)
    );
    same_on_any_workers(&sandbox, &spec, [6, 3, 1]);

    // `status` shows each run's steps once, in its progress column.
    let table = stdout(&sandbox.run(&["status", "one"]));
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header.iter().filter(|&&h| h == "steps").count(), 1, "{table}");
    assert!(table.contains(" 200/200 ") && table.contains(" 800/800 "), "{table}");

    // `explain` on the run trained to the end: where it came from and how it ranked.
    let all = runs(&sandbox.db(), "one");
    let last = all.last().unwrap();
    let explained = stdout(&sandbox.run(&["explain", &last.id.to_string()]));
    for told in [
        "halving: rung 3 of 3, 800 of 800 steps",
        &format!("sent on from run {}: ranked 1 of 3 (val_loss ", all[6].id),
        "the best 1 went on",
        "at its rung: ranked 1 of 1",
    ] {
        assert!(explained.contains(told), "{told}: {explained}");
    }
    let worst = all[..6]
        .iter()
        .max_by(|a, b| a.val_loss.unwrap().total_cmp(&b.val_loss.unwrap()))
        .unwrap();
    let explained = stdout(&sandbox.run(&["explain", &worst.id.to_string()]));
    assert!(
        explained.contains("ranked 6 of 6") && explained.contains("did not go on"),
        "{explained}"
    );

    // The worst first-rung run made the best in the database: its configuration should have
    // gone on first, and each run sent on is out of its place.
    let conn = rusqlite::Connection::open(sandbox.db()).unwrap();
    conn.execute("UPDATE runs SET val_loss = 0.5 WHERE id = ?1", [worst.id.0])
        .unwrap();
    let out = sandbox.run(&["replay", "one", "--verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let differs: Vec<String> = stdout(&out).lines().skip(1).map(String::from).collect();
    assert_eq!(differs.len(), 3, "{}", stdout(&out));
    assert!(
        differs[0].trim_start().starts_with(&all[6].id.to_string())
            && differs[0].contains(&format!("run {}'s configuration", worst.id)),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_sweep_stopped_between_rungs_resumes_to_send_the_best_on() {
    let sandbox = Sandbox::new();
    let spec = write_sweep(&sandbox, "method: grid");
    launch(&sandbox, &spec, "whole", "2");
    launch(&sandbox, &spec, "cut", "2");
    let whole = outcome(&sandbox, "whole");
    // As if the scheduler had died once the first rung ended, before sending any run on.
    let conn = rusqlite::Connection::open(sandbox.db()).unwrap();
    let later =
        "SELECT r.id FROM runs r JOIN sweeps s ON s.id = r.sweep_id WHERE s.name = 'cut' AND r.steps_done > 200";
    for table in ["attempts", "curve_points", "samples", "verdicts", "runs"] {
        let key = if table == "runs" { "id" } else { "run_id" };
        conn.execute(&format!("DELETE FROM {table} WHERE {key} IN ({later})"), [])
            .unwrap();
    }
    assert_eq!(outcome(&sandbox, "cut").len(), 6);
    let out = sandbox.run(&["resume", "cut", "--workers", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(outcome(&sandbox, "cut"), whole);
    let out = sandbox.run(&["replay", "cut", "--verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_bayes_search_under_halving_proposes_the_same_first_rung_on_one_worker_two_and_through_kills() {
    let sandbox = Sandbox::new();
    // Ten random first runs, then two TPE proposals.
    let spec = write_sweep(&sandbox, "method: bayes\nrun_cap: 12\nsampler_seed: 3\nproposal_lag: 1");
    let text = std::fs::read_to_string(&spec).unwrap().replace(
        "lr: {values: [0.00001, 0.02, 0.1]}",
        "lr: {min: 0.0001, max: 0.5, distribution: log_uniform_values}",
    );
    std::fs::write(&spec, text).unwrap();
    same_on_any_workers(&sandbox, &spec, [12, 6, 3]);
    let out = sandbox.run(&["replay", "one", "--verify"]);
    assert!(
        stderr(&out).contains("2 proposals made again from the stored results, all as stored"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_run_that_failed_in_a_rung_already_ranked_is_not_retried() {
    let sandbox = Sandbox::new();
    let spec = write_sweep(&sandbox, "method: grid");
    // Runs long enough to be killed while training; no retry within the session.
    let text = std::fs::read_to_string(&spec)
        .unwrap()
        .replace("max_retries: 20", "max_retries: 0")
        .replace("steps: {value: 800}", "steps: {value: 8000}")
        .replace("min_steps: 200", "min_steps: 2000");
    std::fs::write(&spec, text).unwrap();
    let mut launch = sandbox.harness(&["launch", &spec, "--workers", "2"]);
    let scheduler = launch.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    wait_for(&sandbox.db(), "hb", "a run training", |runs| {
        runs.iter().any(|r| r.status == RunStatus::Running)
    });
    kill_9(*children(scheduler.id()).first().expect("a worker"));
    assert_eq!(
        wait_at_most(scheduler, "the launch").code(),
        Some(1),
        "a run failed for good"
    );
    let all = runs(&sandbox.db(), "hb");
    let failed: Vec<&RunRecord> = all.iter().filter(|r| r.status == RunStatus::Failed).collect();
    assert_eq!(
        (failed.len(), all.len()),
        (1, 10),
        "it ranks last: 6 runs, then 3, then 1"
    );

    let out = sandbox.run(&["resume", "hb", "--retry-failed"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let told = format!("run {} is not retried: its rung was ranked without it", failed[0].id);
    assert!(stderr(&out).contains(&told), "{}", stderr(&out));
    assert_eq!(runs(&sandbox.db(), "hb"), all, "nothing trained again");
    let out = sandbox.run(&["replay", "hb", "--verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}
