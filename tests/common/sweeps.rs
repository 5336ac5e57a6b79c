//! Helpers for end-to-end tests of sweeps: a sweep file of tiny wavenets, reading its runs
//! back, waiting for the database to show a state, the processes of a running sweep, and a
//! launch whose workers and scheduler are killed with SIGKILL along the way.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use results::{RunRecord, RunStatus, Split};

use super::{Sandbox, open_store, stderr};

/// Three tiny MLPs judged at steps 100, 200 and 300 of 400 on one worker: two learn
/// (lr 0.1, 0.05), the third barely moves (lr 1e-5). Hyperband with bands of 1, 2, 4
/// evaluations and eta 2: at its first evaluation the third is worse than the middle of
/// the three values, so it stops at step 100.
pub const HYPERBAND_SPEC: &str = "name: hb
method: grid
data: names.txt
checkpoint_every: 100
workers: 1
parameters:
  model: {value: mlp}
  n_embd: {value: 4}
  n_hidden: {value: 16}
  block_size: {value: 3}
  steps: {value: 400}
  log_every: {value: 50}
  eval_every: {value: 100}
  lr: {values: [0.1, 0.05, 0.00001]}
early_terminate: {type: hyperband, min_iter: 1, eta: 2}
";

/// `sweep.yaml`: six tiny MLPs of 800 steps evaluated every 100 (three learning rates, the
/// best last, × a wide and a narrow hidden layer), retried after as many kills as a test
/// makes, with `section` (an `early_terminate:` or `halving:` line) and `method` lines.
pub fn write_six_mlps(sandbox: &Sandbox, method: &str, section: &str) -> String {
    sandbox.names(300);
    let text = HYPERBAND_SPEC
        .replace("early_terminate: {type: hyperband, min_iter: 1, eta: 2}", section)
        .replace("method: grid", method)
        .replace("workers: 1\n", "max_retries: 20\n")
        .replace("steps: {value: 400}", "steps: {value: 800}")
        .replace("n_hidden: {value: 16}", "n_hidden: {values: [300, 8]}")
        .replace("[0.1, 0.05, 0.00001]", "[0.00001, 0.02, 0.1]");
    let path = sandbox.path("sweep.yaml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// A population of `population` tiny MLPs of `steps` steps, evaluated every 100, ranked every
/// 2 evaluations; lr drawn log-uniformly and explored.
pub fn write_population(sandbox: &Sandbox, population: u64, steps: u64) -> String {
    sandbox.names(300);
    let text = format!(
        "name: pop
method: random
data: names.txt
sampler_seed: 5
threads: 1
checkpoint_every: 100
max_retries: 20
parameters:
  model: {{value: mlp}}
  n_embd: {{value: 4}}
  n_hidden: {{value: 16}}
  block_size: {{value: 3}}
  steps: {{value: {steps}}}
  log_every: {{value: 50}}
  eval_every: {{value: 100}}
  lr: {{distribution: log_uniform_values, min: 0.0001, max: 0.3}}
pbt:
  population: {population}
  interval: 2
  mutate: [lr]
"
    );
    let path = sandbox.path("pop.yaml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// A sweep of `runs` tiny wavenets (n_hidden × seed) on the sandbox's names.
pub fn write_spec(sandbox: &Sandbox, name: &str, seeds: &str, steps: u64) -> std::path::PathBuf {
    sandbox.names(300);
    let path = sandbox.path(&format!("{name}.yaml"));
    let text = format!(
        "name: {name}
description: tiny wavenets
method: grid
data: names.txt
checkpoint_every: 100
parameters:
  n_embd: {{value: 4}}
  n_hidden: {{values: [8, 16]}}
  seed: {{values: {seeds}}}
  steps: {{value: {steps}}}
  log_every: {{value: 50}}
  eval_every: {{value: 100}}
"
    );
    std::fs::write(&path, text).unwrap();
    path
}

pub fn runs(db: &Path, sweep: &str) -> Vec<RunRecord> {
    let store = open_store(db);
    let sweep = store.find_sweep(sweep).unwrap().expect("the sweep is stored");
    store.sweep_runs(sweep.id).unwrap()
}

/// Every train point once, every `log_every` steps; val at 0 and every `eval_every`.
pub fn assert_continuous_curves(db: &Path, run: &RunRecord, steps: u64) {
    let store = open_store(db);
    let train: Vec<u64> = store.curve(run.id, Split::Train).unwrap().iter().map(|p| p.0).collect();
    assert_eq!(
        train,
        (1..=steps / 50).map(|i| i * 50).collect::<Vec<_>>(),
        "run {}",
        run.id
    );
    let val: Vec<u64> = store.curve(run.id, Split::Val).unwrap().iter().map(|p| p.0).collect();
    assert_eq!(
        val,
        (0..=steps / 100).map(|i| i * 100).collect::<Vec<_>>(),
        "run {}",
        run.id
    );
}

/// Polls the database until `ready` holds for the sweep's runs.
pub fn wait_for(db: &Path, sweep: &str, what: &str, ready: impl Fn(&[RunRecord]) -> bool) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(120) {
        // Until `launch` has created its tables, reads fail: not ready yet.
        let runs = results::Store::open_read_only(db).ok().and_then(|store| {
            store
                .find_sweep(sweep)
                .ok()
                .flatten()
                .and_then(|s| store.sweep_runs(s.id).ok())
        });
        if runs.is_some_and(|runs| ready(&runs)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

/// The pids of `parent`'s child processes.
pub fn children(parent: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| {
            let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // "pid (comm) state ppid …": the ppid follows the last ')'.
            let ppid: u32 = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()?;
            (ppid == parent).then_some(pid)
        })
        .collect()
}

pub fn kill(pid: u32, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

pub fn spawn(sandbox: &Sandbox, args: &[&str]) -> Child {
    sandbox
        .harness(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// SIGKILL, to a process that may have ended already.
pub fn kill_9(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status();
}

/// Whether the process runs (a zombie does not).
pub fn alive(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(')')
        .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
}

/// `launch` on two workers, four of whose workers are killed along the way, then the
/// scheduler; `resume` to the end.
pub fn launch_through_kills(sandbox: &Sandbox, spec: &str, name: &str) {
    let mut scheduler = sandbox
        .harness(&["launch", spec, "--name", name, "--workers", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&sandbox.db(), name, "a run training", |runs| {
        runs.iter().any(|r| r.status == RunStatus::Running)
    });
    for kill in 0..4 {
        std::thread::sleep(Duration::from_millis(150));
        if let Some(&worker) = children(scheduler.id()).get(kill % 2) {
            kill_9(worker);
        }
    }
    std::thread::sleep(Duration::from_millis(150));
    let orphans = children(scheduler.id());
    kill_9(scheduler.id());
    scheduler.wait().unwrap();
    // Its workers checkpoint and exit when their scheduler is gone; then it is resumed.
    while orphans.iter().copied().any(alive) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = sandbox.run(&["resume", name, "--workers", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Waits for `child` at most two minutes: a sweep that does not end is a hang.
pub fn wait_at_most(mut child: std::process::Child, what: &str) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > Duration::from_secs(120) {
            kill_9(child.id());
            panic!("{what} did not end in two minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
