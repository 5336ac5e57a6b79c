//! End-to-end: `method: bayes` — ten random runs, then each run proposed by TPE from the
//! results so far, stored as it is proposed; the same file proposes the same runs again,
//! a scheduler killed with SIGKILL mid-search resumes to the same runs and results, and a
//! space smaller than `run_cap` ends the search once every configuration has run.

mod common;

use common::sweeps::{kill, runs, spawn, wait_for};
use common::{Sandbox, stderr, stdout};
use results::{RunRecord, RunStatus};

/// Tiny MLPs: learning rate (log-uniform) and width; 14 runs on one worker, each proposal
/// learning from every run before it.
const SPEC: &str = "name: tpe
method: bayes
run_cap: 14
sampler_seed: 3
proposal_lag: 0
data: names.txt
workers: 1
parameters:
  model: {value: mlp}
  n_embd: {value: 4}
  n_hidden: {values: [8, 16, 32]}
  block_size: {value: 3}
  steps: {value: 300}
  eval_every: {value: 100}
  lr: {min: 0.0001, max: 0.5, distribution: log_uniform_values}
";

fn launch(sandbox: &Sandbox, name: &str) -> Vec<RunRecord> {
    let spec = sandbox.path(&format!("{name}.yaml"));
    std::fs::write(&spec, SPEC.replace("name: tpe", &format!("name: {name}"))).unwrap();
    let plan = sandbox.run(&["launch", spec.to_str().unwrap(), "--dry-run"]);
    assert!(
        stdout(&plan).ends_with(&format!(
            "10 runs, then 4 proposed from the results as it runs in bayes sweep `{name}` (dry run: nothing stored or started)\n"
        )),
        "{}",
        stdout(&plan)
    );
    let out = sandbox.run(&["launch", spec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    runs(&sandbox.db(), name)
}

/// Each run's configuration and val loss, in order.
fn outcome(all: &[RunRecord]) -> Vec<(String, Option<f64>)> {
    all.iter().map(|r| (r.config_json.clone(), r.val_loss)).collect()
}

fn best(runs: &[RunRecord]) -> f64 {
    runs.iter().filter_map(|r| r.val_loss).fold(f64::INFINITY, f64::min)
}

#[test]
fn tpe_proposes_runs_from_the_results_and_the_same_file_proposes_the_same_runs() {
    let sandbox = Sandbox::new();
    sandbox.names(300);
    let all = launch(&sandbox, "tpe");
    assert_eq!(all.len(), 14, "run_cap runs: 10 planned at launch, 4 proposed");
    assert!(all.iter().all(|r| r.status == RunStatus::Completed));
    let (random, proposed) = all.split_at(10);
    assert!(
        best(proposed) < best(random),
        "TPE found a better run ({:.4}) than the random start ({:.4})",
        best(proposed),
        best(random)
    );
    // Not one lucky draw: every proposal beats the whole random start (a random draw beats
    // it about one time in eight here).
    for run in proposed {
        assert!(
            run.val_loss.unwrap() < best(random),
            "run {}: {:?}",
            run.id,
            run.val_loss
        );
    }
    let again = launch(&sandbox, "again");
    assert_eq!(
        outcome(&again),
        outcome(&all),
        "seeded: the same runs, the same results"
    );
}

#[test]
fn a_search_killed_with_sigkill_while_proposing_resumes_to_the_same_runs() {
    let sandbox = Sandbox::new();
    sandbox.names(300);
    let undisturbed = launch(&sandbox, "whole");
    let spec = sandbox.path("cut.yaml");
    std::fs::write(&spec, SPEC.replace("name: tpe", "name: cut")).unwrap();
    let mut child = spawn(&sandbox, &["launch", spec.to_str().unwrap()]);
    wait_for(&sandbox.db(), "cut", "a proposed run", |runs| runs.len() > 10);
    kill(child.id(), "-KILL");
    child.wait().unwrap();
    let out = sandbox.run(&["resume", "cut"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(outcome(&runs(&sandbox.db(), "cut")), outcome(&undisturbed));
}

#[test]
fn a_search_over_a_space_smaller_than_its_run_cap_ends_with_every_configuration() {
    let sandbox = Sandbox::new();
    sandbox.names(300);
    let small = SPEC.replace("name: tpe", "name: small").replace(
        "lr: {min: 0.0001, max: 0.5, distribution: log_uniform_values}",
        "lr: {values: [0.1, 0.2]}",
    );
    std::fs::write(sandbox.path("small.yaml"), small).unwrap();
    let plan = sandbox.run(&["launch", "small.yaml", "--dry-run"]);
    assert!(
        stderr(&plan)
            .contains("the space holds only 6 configurations: the search ends after them, short of run_cap 14"),
        "{}",
        stderr(&plan)
    );
    assert!(
        stdout(&plan).contains("\n6 runs in bayes sweep `small`"),
        "{}",
        stdout(&plan)
    );
    let out = sandbox.run(&["launch", "small.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("6 of 6 runs to train"), "{}", stderr(&out));
    assert_eq!(runs(&sandbox.db(), "small").len(), 6);
    let again = sandbox.run(&["resume", "small"]);
    assert!(
        stderr(&again).contains("nothing to resume, every run is settled"),
        "{}",
        stderr(&again)
    );
}
