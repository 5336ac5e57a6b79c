//! End-to-end tests of the Slurm launcher against a real Slurm (`scripts/start-slurm.sh`
//! starts a single-node cluster; CI runs it first): a sweep through `srun` records each run's
//! host and job, inside an allocation each run is a step of it, a cancelled job is retried
//! from its checkpoint to the same losses, a
//! scheduler killed with SIGKILL is resumed through Slurm, Ctrl-C leaves checkpoints and no
//! job, a partition that does not exist is refused before anything is stored, early
//! termination's verdicts reach a worker through `srun`'s stdin, `halving:` sends each
//! rung's best on as jobs, and a `pbt:` population's members exploit as jobs as they do here.
//! Without `srun` on the PATH the tests say so and pass, unless `CI`.

mod common;

use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::sweeps::{
    HYPERBAND_SPEC, assert_continuous_curves, kill, runs, spawn, wait_for, write_population, write_six_mlps, write_spec,
};
use common::{Sandbox, stderr, stdout};
use results::{RunRecord, RunStatus};

/// The test cluster is one node: one test at a time, so that jobs do not queue behind
/// another test's.
static CLUSTER: Mutex<()> = Mutex::new(());

/// Whether a Slurm cluster answers here; in CI it must.
fn slurm_is_up() -> bool {
    let up = Command::new("sinfo")
        .arg("--noheader")
        .output()
        .is_ok_and(|o| o.status.success());
    if !up {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must start Slurm first: scripts/start-slurm.sh"
        );
        eprintln!("skipped: no Slurm cluster answers here (start one with scripts/start-slurm.sh)");
    }
    up
}

/// The cluster, one test at a time; `None` (skip the test) where no cluster answers.
fn cluster() -> Option<MutexGuard<'static, ()>> {
    let turn = CLUSTER.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    slurm_is_up().then_some(turn)
}

/// `write_spec`'s tiny wavenets, sent to Slurm.
fn slurm_spec(sandbox: &Sandbox, name: &str, seeds: &str, steps: u64) -> std::path::PathBuf {
    let spec = write_spec(sandbox, name, seeds, steps);
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, format!("{text}launcher: slurm\n")).unwrap();
    spec
}

/// The jobs of `runs` that Slurm still lists (running, pending or completing).
fn listed_jobs(runs: &[RunRecord]) -> Vec<String> {
    let out = Command::new("squeue")
        .args(["--noheader", "--format=%i"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout).to_string();
    runs.iter()
        .filter_map(|r| r.slurm_job.clone())
        .filter(|job| listed.lines().any(|line| line.trim() == job))
        .collect()
}

/// Waits until Slurm lists none of the jobs of `runs`.
fn wait_until_gone(runs: &[RunRecord]) {
    let start = Instant::now();
    while !listed_jobs(runs).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "Slurm still lists {:?}",
            listed_jobs(runs)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_sweep_through_slurm_records_each_runs_host_and_job() {
    let Some(_turn) = cluster() else { return };
    let sandbox = Sandbox::new();
    let spec = slurm_spec(&sandbox, "cluster", "[1, 2]", 300);
    let out = sandbox.run(&["launch", spec.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("4 of 4 runs to train, Slurm jobs × 1 thread"),
        "{}",
        stderr(&out)
    );
    let runs = runs(&sandbox.db(), "cluster");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let mut jobs: Vec<u64> = Vec::new();
    for run in &runs {
        assert_eq!(
            (run.status, run.steps_done),
            (RunStatus::Completed, 300),
            "run {}",
            run.id
        );
        assert_eq!(run.host.as_deref(), Some(host.trim()));
        jobs.push(run.slurm_job.as_deref().unwrap().parse().expect("a Slurm job id"));
    }
    jobs.sort_unstable();
    jobs.dedup();
    assert_eq!(jobs.len(), 4, "one job per run");
    let header = stdout(&out).lines().next().unwrap_or_default().to_string();
    assert!(header.contains("ran_on"), "{}", stdout(&out));
    let compare = sandbox.run(&["compare", "1", "2"]);
    assert!(stdout(&compare).contains("/job "), "{}", stdout(&compare));
}

#[test]
fn inside_an_allocation_each_run_is_a_step_of_it() {
    let Some(_turn) = cluster() else { return };
    let sandbox = Sandbox::new();
    let spec = slurm_spec(&sandbox, "steps", "[1]", 200);
    // `salloc` runs the scheduler inside a two-CPU allocation, as `sbatch` would.
    let out = Command::new("salloc")
        .args(["--cpus-per-task=2", "--quiet", "--"])
        .arg(env!("CARGO_BIN_EXE_harness"))
        .args(["launch", spec.to_str().unwrap()])
        .current_dir(sandbox.path(""))
        .env("HARNESS_CACHE_DIR", sandbox.path("cache"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let runs = runs(&sandbox.db(), "steps");
    let jobs: Vec<&str> = runs
        .iter()
        .map(|r| r.slurm_job.as_deref().unwrap_or_default())
        .collect();
    let allocation = jobs[0].split('.').next().unwrap();
    for (run, job) in runs.iter().zip(&jobs) {
        assert_eq!(run.status, RunStatus::Completed, "run {}", run.id);
        let (of, step) = job.split_once('.').expect("a step: JOB.STEP");
        assert_eq!(of, allocation, "every run a step of the one allocation: {jobs:?}");
        assert!(step.parse::<u32>().is_ok(), "{job}");
    }
}

#[test]
fn a_cancelled_job_is_retried_from_its_checkpoint_to_the_same_losses() {
    let Some(_turn) = cluster() else { return };
    let sandbox = Sandbox::new();
    let steps = 3000;
    let spec = slurm_spec(&sandbox, "cancel", "[1]", steps);
    let text = std::fs::read_to_string(&spec).unwrap().replace("[8, 16]", "[8]");
    std::fs::write(&spec, text).unwrap();
    let child = spawn(&sandbox, &["launch", spec.to_str().unwrap()]);
    wait_for(&sandbox.db(), "cancel", "run 1 past step 400 with its job", |runs| {
        runs[0].steps_done >= 400 && runs[0].slurm_job.is_some()
    });
    let job = runs(&sandbox.db(), "cancel")[0].slurm_job.clone().unwrap();
    assert!(Command::new("scancel").arg(&job).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("a signal this scheduler did not send") && stderr(&out).contains("retrying"),
        "{}",
        stderr(&out)
    );
    let cancelled = &runs(&sandbox.db(), "cancel")[0];
    assert_eq!((cancelled.status, cancelled.attempts), (RunStatus::Completed, 2));
    assert_ne!(
        cancelled.slurm_job.as_deref(),
        Some(job.as_str()),
        "the retry is a new job"
    );
    assert_continuous_curves(&sandbox.db(), cancelled, steps);

    let out = sandbox.run(&["launch", spec.to_str().unwrap(), "--name", "whole"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let whole = &runs(&sandbox.db(), "whole")[0];
    assert_eq!(
        (cancelled.train_loss, cancelled.val_loss, cancelled.test_loss),
        (whole.train_loss, whole.val_loss, whole.test_loss)
    );
}

#[test]
fn a_scheduler_killed_with_sigkill_is_resumed_through_slurm() {
    let Some(_turn) = cluster() else { return };
    let sandbox = Sandbox::new();
    let steps = 1500;
    let spec = slurm_spec(&sandbox, "crash", "[1]", steps);
    let mut child = spawn(&sandbox, &["launch", spec.to_str().unwrap()]);
    wait_for(&sandbox.db(), "crash", "both runs past step 300", |runs| {
        runs.iter().all(|r| r.steps_done >= 300)
    });
    kill(child.id(), "-KILL");
    child.wait().unwrap();
    // Its `srun`s die with it, and Slurm cancels their jobs.
    wait_until_gone(&runs(&sandbox.db(), "crash"));

    let out = sandbox.run(&["resume", "crash", "--launcher", "slurm"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for run in runs(&sandbox.db(), "crash") {
        assert_eq!((run.status, run.attempts), (RunStatus::Completed, 2), "run {}", run.id);
        assert_continuous_curves(&sandbox.db(), &run, steps);
    }
}

#[test]
fn ctrl_c_stops_the_jobs_with_checkpoints_and_leaves_none_behind() {
    let Some(_turn) = cluster() else { return };
    let sandbox = Sandbox::new();
    let spec = slurm_spec(&sandbox, "stop", "[1]", 20_000);
    let child = spawn(&sandbox, &["launch", spec.to_str().unwrap()]);
    wait_for(&sandbox.db(), "stop", "both runs past step 200", |runs| {
        runs.iter().all(|r| r.steps_done >= 200 && r.slurm_job.is_some())
    });
    kill(child.id(), "-INT");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let stopped = runs(&sandbox.db(), "stop");
    for run in &stopped {
        assert_eq!(run.status, RunStatus::Interrupted, "run {}", run.id);
        let checkpoint = sandbox.path(&format!("harness.db.checkpoints/sweep-1/run-{}.ckpt", run.id));
        assert!(checkpoint.exists(), "run {} left its checkpoint", run.id);
    }
    wait_until_gone(&stopped);
}

#[test]
fn a_partition_that_does_not_exist_is_one_error_before_anything_is_stored() {
    let Some(_turn) = cluster() else { return };
    let sandbox = Sandbox::new();
    let spec = slurm_spec(&sandbox, "nowhere", "[1]", 100);
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, format!("{text}slurm: {{partition: no-such-partition}}\n")).unwrap();
    let out = sandbox.run(&["launch", spec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Slurm has no partition `no-such-partition` (it has: "),
        "{}",
        stderr(&out)
    );
    assert!(!sandbox.db().exists(), "nothing stored");
}

#[test]
fn early_termination_reaches_a_worker_through_srun() {
    let Some(_cluster) = cluster() else { return };
    let sandbox = Sandbox::new();
    sandbox.names(300);
    let spec = sandbox.path("hb.yaml");
    std::fs::write(&spec, format!("{HYPERBAND_SPEC}launcher: slurm\n")).unwrap();
    let out = sandbox.run(&["launch", spec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let all = runs(&sandbox.db(), "hb");
    let statuses: Vec<RunStatus> = all.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [RunStatus::Completed, RunStatus::Completed, RunStatus::Stopped]
    );
    assert_eq!(all[2].steps_done, 100);
    assert!(
        all.iter().all(|run| run.slurm_job.is_some()),
        "each run was a Slurm job"
    );
}

#[test]
fn a_halving_sweep_through_slurm_sends_each_rungs_best_on_as_jobs() {
    let Some(_turn) = cluster() else { return };
    let sandbox = Sandbox::new();
    let section = "halving: {min_steps: 200, eta: 2}\nlauncher: slurm";
    let spec = write_six_mlps(&sandbox, "method: grid", section);
    let out = sandbox.run(&["launch", &spec]);
    assert!(out.status.success(), "{}", stderr(&out));
    let runs = runs(&sandbox.db(), "hb");
    let at = |steps: u64| runs.iter().filter(|r| r.steps_done == steps).count();
    assert_eq!([at(200), at(400), at(800)], [6, 3, 1], "{}", stdout(&out));
    for run in &runs {
        assert_eq!(run.status, RunStatus::Completed, "run {}", run.id);
        assert!(run.slurm_job.is_some(), "run {} ran as a Slurm job", run.id);
    }
    let out = sandbox.run(&["replay", "hb", "--verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn a_population_through_slurm_exploits_as_one_trained_here_does() {
    let Some(_turn) = cluster() else { return };
    let sandbox = Sandbox::new();
    let spec = write_population(&sandbox, 4, 400);
    let out = sandbox.run(&["launch", &spec, "--name", "here"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, format!("{text}launcher: slurm\n")).unwrap();
    let out = sandbox.run(&["launch", &spec, "--name", "jobs"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The donors' checkpoints were copied where the members' jobs read them: the same exploits
    // and losses as the population trained here.
    let store = common::open_store(&sandbox.db());
    let exploits = |name: &str| {
        let sweep = store.find_sweep(name).unwrap().unwrap();
        let first = runs(&sandbox.db(), name)[0].id.0;
        let rows = store.sweep_exploits(sweep.id).unwrap();
        rows.into_iter()
            .map(|e| (e.run.0 - first, e.donor.0 - first, e.config_after))
            .collect::<Vec<_>>()
    };
    assert_eq!(exploits("jobs"), exploits("here"));
    assert_eq!(exploits("jobs").len(), 1);
    let losses = |name: &str| {
        runs(&sandbox.db(), name)
            .iter()
            .map(|r| r.test_loss)
            .collect::<Vec<_>>()
    };
    assert_eq!(losses("jobs"), losses("here"));
    let jobs = runs(&sandbox.db(), "jobs");
    assert!(
        jobs.iter().all(|run| run.slurm_job.is_some()),
        "each member ran as Slurm jobs"
    );
}
