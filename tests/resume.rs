//! End-to-end tests of what keeps a stopped sweep whole: the lock that keeps a second
//! scheduler off a running sweep, `resume --retry-failed`, and a worker whose scheduler
//! died (it checkpoints, exits, and `resume` continues from there).

mod common;

use std::time::{Duration, Instant};

use common::sweeps::{assert_continuous_curves, children, kill, runs, spawn, wait_for, write_spec};
use common::{Sandbox, stderr};
use results::RunStatus;

/// `write_spec` with one run (n_hidden 8, seed 1), its text changed by `edit`.
fn one_run_spec(sandbox: &Sandbox, name: &str, steps: u64, edit: impl Fn(String) -> String) -> std::path::PathBuf {
    let spec = write_spec(sandbox, name, "[1]", steps);
    let text = std::fs::read_to_string(&spec).unwrap().replace("[8, 16]", "[8]");
    std::fs::write(&spec, edit(text)).unwrap();
    spec
}

/// Whether process `pid` has ended (gone, or a zombie nobody has reaped yet).
fn ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn a_second_scheduler_is_kept_off_a_running_sweep() {
    let sandbox = Sandbox::new();
    let spec = one_run_spec(&sandbox, "busy", 20_000, |text| text);
    let first = spawn(&sandbox, &["launch", spec.to_str().unwrap(), "--workers", "1"]);
    wait_for(&sandbox.db(), "busy", "run 1 past step 100", |runs| {
        runs[0].steps_done >= 100
    });
    let second = sandbox.run(&["resume", "busy"]);
    assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
    assert!(
        stderr(&second).contains("sweep `busy` is being run by another harness process"),
        "{}",
        stderr(&second)
    );
    let run = &runs(&sandbox.db(), "busy")[0];
    assert_eq!(
        (run.status, run.attempts),
        (RunStatus::Running, 1),
        "the run was left alone"
    );
    kill(first.id(), "-INT");
    let out = first.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // The lock went with its holder: the sweep can be resumed now.
    let again = spawn(&sandbox, &["resume", "busy"]);
    wait_for(&sandbox.db(), "busy", "run 1 running again", |runs| {
        runs[0].attempts == 2
    });
    kill(again.id(), "-INT");
    assert_eq!(again.wait_with_output().unwrap().status.code(), Some(1));
}

#[test]
fn retry_failed_reruns_a_failed_run_from_its_checkpoint() {
    let sandbox = Sandbox::new();
    let steps = 3000;
    let spec = one_run_spec(&sandbox, "flaky", steps, |text| text + "max_retries: 0\n");
    let child = spawn(&sandbox, &["launch", spec.to_str().unwrap(), "--workers", "1"]);
    wait_for(&sandbox.db(), "flaky", "run 1 past step 400", |runs| {
        runs[0].steps_done >= 400
    });
    kill(children(child.id())[0], "-KILL");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let failed = &runs(&sandbox.db(), "flaky")[0];
    assert_eq!((failed.status, failed.attempts), (RunStatus::Failed, 1));

    let plain = sandbox.run(&["resume", "flaky"]);
    assert!(plain.status.success(), "{}", stderr(&plain));
    assert!(
        stderr(&plain).contains("1 run failed for good (rerun with `")
            && stderr(&plain).contains(" resume flaky --retry-failed`)"),
        "{}",
        stderr(&plain)
    );
    assert_eq!(runs(&sandbox.db(), "flaky")[0].attempts, 1, "not started again");

    let retried = sandbox.run(&["resume", "flaky", "--retry-failed"]);
    assert!(retried.status.success(), "{}", stderr(&retried));
    assert!(
        stderr(&retried).contains("run 1 started from step "),
        "{}",
        stderr(&retried)
    );
    let run = &runs(&sandbox.db(), "flaky")[0];
    assert_eq!(
        (run.status, run.attempts, run.steps_done),
        (RunStatus::Completed, 2, steps)
    );
    assert_continuous_curves(&sandbox.db(), run, steps);
}

#[test]
fn a_worker_whose_scheduler_dies_checkpoints_and_exits_and_resume_continues_it() {
    let sandbox = Sandbox::new();
    let steps = 4000;
    // No periodic checkpoint before the end: any checkpoint is the one written on the way out.
    let spec = one_run_spec(&sandbox, "orphan", steps, |text| {
        text.replace("checkpoint_every: 100\n", "checkpoint_every: 100000\n")
    });
    let mut scheduler = spawn(&sandbox, &["launch", spec.to_str().unwrap(), "--workers", "1"]);
    wait_for(&sandbox.db(), "orphan", "run 1 past step 300", |runs| {
        runs[0].steps_done >= 300
    });
    let worker = children(scheduler.id())[0];
    kill(scheduler.id(), "-KILL");
    scheduler.wait().unwrap();
    let start = Instant::now();
    while !ended(worker) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the orphaned worker is still running"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let checkpoint = sandbox.path("harness.db.checkpoints/sweep-1/run-1.ckpt");
    assert!(checkpoint.exists(), "the worker checkpointed when its scheduler died");

    let out = sandbox.run(&["resume", "orphan"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("run 1 started from step "), "{}", stderr(&out));
    let run = &runs(&sandbox.db(), "orphan")[0];
    assert_eq!(
        (run.status, run.attempts, run.steps_done),
        (RunStatus::Completed, 2, steps)
    );
    assert_continuous_curves(&sandbox.db(), run, steps);
}
