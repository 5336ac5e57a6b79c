//! End-to-end tests of sweeps with the real binary on tiny data: `launch` (with its
//! checks and `--dry-run`), worker failures and retries, a scheduler killed with SIGKILL
//! and `resume`, `status`, and checkpoints a deleted database left behind.

mod common;

use common::sweeps::{assert_continuous_curves, children, kill, runs, spawn, wait_for, write_spec};
use common::{Sandbox, open_store, stderr, stdout, unigram_entropy};
use results::{RunRecord, RunStatus};

#[test]
fn a_six_run_sweep_on_two_workers_trains_and_records_every_run() {
    let sandbox = Sandbox::new();
    let spec = write_spec(&sandbox, "six", "[1, 2, 3]", 200);
    let out = sandbox.run(&["launch", spec.to_str().unwrap(), "--workers", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("6 of 6 runs to train, 2 CPU workers"),
        "{}",
        stderr(&out)
    );
    let runs = runs(&sandbox.db(), "six");
    assert_eq!(runs.len(), 6);
    let context_free = unigram_entropy(&std::fs::read_to_string(sandbox.path("names.txt")).unwrap());
    for run in &runs {
        assert_eq!(
            (run.status, run.attempts, run.steps_done),
            (RunStatus::Completed, 1, 200)
        );
        assert!(
            run.val_loss.unwrap() < context_free,
            "val {:?} is not below the unigram entropy {context_free}: nothing learned",
            run.val_loss
        );
        assert_eq!(run.data_path, sandbox.path("names.txt").display().to_string());
        assert_continuous_curves(&sandbox.db(), run, 200);
    }
    let mut keys: Vec<&str> = runs.iter().map(|r| r.run_key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), 6, "each run has its own key");
    // The summary table: a header and one row per run, with the varied values.
    let table = stdout(&out);
    assert_eq!(table.lines().count(), 7, "{table}");
    assert!(
        table.lines().next().unwrap().contains("n_hidden  seed  status"),
        "{table}"
    );

    let status = sandbox.run(&["status"]);
    assert!(status.status.success());
    assert!(
        stdout(&status)
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("six    sweep     6"),
        "{}",
        stdout(&status)
    );
    let status = sandbox.run(&["status", "six"]);
    assert_eq!(stdout(&status), table, "status SWEEP shows the same table");
}

#[test]
fn a_dry_run_lists_the_runs_and_writes_nothing() {
    let sandbox = Sandbox::new();
    let spec = write_spec(&sandbox, "dry", "[1, 2]", 200);
    let out = sandbox.run(&["launch", spec.to_str().unwrap(), "--dry-run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("#  n_hidden  seed  steps\n1         8     1    200\n"),
        "{text}"
    );
    assert!(
        text.ends_with("4 runs in grid sweep `dry` (dry run: nothing stored or started)\n"),
        "{text}"
    );
    assert!(!sandbox.db().exists());
    // Varied steps are one column, not two.
    let varied = std::fs::read_to_string(&spec)
        .unwrap()
        .replace("steps: {value: 200}", "steps: {values: [200, 300]}");
    std::fs::write(&spec, varied).unwrap();
    let text = stdout(&sandbox.run(&["launch", spec.to_str().unwrap(), "--dry-run"]));
    assert!(text.starts_with("#  n_hidden  seed  steps\n"), "{text}");
}

#[test]
fn a_bad_spec_exits_2_naming_file_line_and_key_and_writes_nothing() {
    let sandbox = Sandbox::new();
    let spec = sandbox.path("bad.yaml");
    std::fs::write(&spec, "name: bad\nparameters:\n  n_hidden: {values: [0, 8]}\n").unwrap();
    let out = sandbox.run(&["launch", "bad.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("error: bad.yaml:3:13: `n_hidden`: must be at least 1, got 0\n"),
        "{}",
        stderr(&out)
    );
    assert!(!sandbox.db().exists());
}

#[test]
fn launching_a_sweep_that_exists_refuses_and_points_to_resume() {
    let sandbox = Sandbox::new();
    let spec = write_spec(&sandbox, "again", "[1]", 50);
    assert!(sandbox.run(&["launch", spec.to_str().unwrap()]).status.success());
    let out = sandbox.run(&["launch", spec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(" resume again`"), "{}", stderr(&out));
    assert!(stderr(&out).contains("--name"));
    let out = sandbox.run(&["launch", spec.to_str().unwrap(), "--name", "again-2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(runs(&sandbox.db(), "again-2").len(), 2);
}

#[test]
fn a_new_database_refuses_to_resume_checkpoints_a_deleted_one_left_behind() {
    let sandbox = Sandbox::new();
    let spec = write_spec(&sandbox, "first", "[1]", 50);
    assert!(sandbox.run(&["launch", spec.to_str().unwrap()]).status.success());
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(sandbox.path(&format!("harness.db{suffix}")));
    }
    for args in [
        vec!["launch", spec.to_str().unwrap()],
        vec!["train", "--data", "names.txt", "--steps", "50"],
    ] {
        let out = sandbox.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("harness.db.checkpoints/sweep-1 holds checkpoints that harness.db does not know"),
            "{}",
            stderr(&out)
        );
        assert!(open_store(&sandbox.db()).find_sweep("first").unwrap().is_none());
    }
    std::fs::remove_dir_all(sandbox.path("harness.db.checkpoints")).unwrap();
    assert!(sandbox.run(&["launch", spec.to_str().unwrap()]).status.success());
    assert!(
        runs(&sandbox.db(), "first")
            .iter()
            .all(|run| run.status == RunStatus::Completed)
    );
}

#[test]
fn a_killed_worker_is_retried_from_its_checkpoint() {
    let sandbox = Sandbox::new();
    let spec = write_spec(&sandbox, "kill", "[1]", 3000);
    std::fs::write(&spec, std::fs::read_to_string(&spec).unwrap().replace("[8, 16]", "[8]")).unwrap();
    let child = spawn(&sandbox, &["launch", spec.to_str().unwrap(), "--workers", "1"]);
    wait_for(&sandbox.db(), "kill", "run 1 past step 400", |runs| {
        runs[0].steps_done >= 400
    });
    let workers = children(child.id());
    assert_eq!(workers.len(), 1, "one worker process");
    kill(workers[0], "-KILL");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("failed (the worker was killed by signal 9); retrying from its last checkpoint"),
        "{}",
        stderr(&out)
    );
    let run = &runs(&sandbox.db(), "kill")[0];
    assert_eq!((run.status, run.attempts), (RunStatus::Completed, 2));
    assert_continuous_curves(&sandbox.db(), run, 3000);
}

#[test]
fn a_scheduler_killed_mid_sweep_resumes_without_lost_or_repeated_runs() {
    let sandbox = Sandbox::new();
    // Long enough that the run past step 300 is still training when the kill lands, on a
    // loaded machine too.
    let steps = 3000;
    let spec = write_spec(&sandbox, "crash", "[1]", steps);
    // Each optimizer, with its state in the checkpoints: SGD on the fast path, AdamW by autodiff.
    let text = std::fs::read_to_string(&spec).unwrap();
    let variants = "variants:\n  - {label: sgd}\n  - {label: adamw, optimizer: adamw, lr: 0.01, lr_schedule: cosine, warmup_steps: 100, grad_clip: 1.0}\n";
    std::fs::write(&spec, format!("{text}{variants}")).unwrap();
    let child = spawn(&sandbox, &["launch", spec.to_str().unwrap(), "--workers", "2"]);
    wait_for(
        &sandbox.db(),
        "crash",
        "a settled run and a run past step 300",
        |runs| {
            runs.iter().any(|r| r.status == RunStatus::Completed)
                && runs
                    .iter()
                    .any(|r| r.status == RunStatus::Running && r.steps_done >= 300)
        },
    );
    let mut child = child;
    kill(child.id(), "-KILL");
    child.wait().unwrap();
    let before = runs(&sandbox.db(), "crash");
    let completed: Vec<_> = before
        .iter()
        .filter(|r| r.status == RunStatus::Completed)
        .map(|r| r.id)
        .collect();

    let out = sandbox.run(&["resume", "crash"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let after = runs(&sandbox.db(), "crash");
    for run in &after {
        assert_eq!(run.status, RunStatus::Completed, "run {}", run.id);
        assert_continuous_curves(&sandbox.db(), run, steps);
        if completed.contains(&run.id) {
            assert_eq!(run.attempts, 1, "a completed run is not trained again");
        }
    }
    assert!(after.iter().any(|r| r.attempts == 2), "a run resumed mid-way");

    // The same runs uninterrupted end with the same losses.
    let out = sandbox.run(&["launch", spec.to_str().unwrap(), "--name", "whole"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let whole = runs(&sandbox.db(), "whole");
    let losses = |runs: &[RunRecord]| runs.iter().map(|r| (r.train_loss, r.val_loss)).collect::<Vec<_>>();
    assert_eq!(losses(&after), losses(&whole));
    let out = sandbox.run(&["resume", "crash"]);
    assert!(out.status.success());
    assert!(stderr(&out).contains("nothing to resume"), "{}", stderr(&out));
}

#[test]
fn ctrl_c_interrupts_the_runs_gracefully_and_resume_finishes_them() {
    let sandbox = Sandbox::new();
    // Four runs on two workers: two train, two wait for a slot.
    let spec = write_spec(&sandbox, "stop", "[1, 2]", 3000);
    let child = spawn(&sandbox, &["launch", spec.to_str().unwrap(), "--workers", "2"]);
    wait_for(&sandbox.db(), "stop", "two runs past step 200", |runs| {
        runs.iter().filter(|r| r.steps_done >= 200).count() == 2
    });
    kill(child.id(), "-INT");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("2 interrupted, 2 never started"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains(" resume stop`"), "{}", stderr(&out));
    let statuses: Vec<RunStatus> = runs(&sandbox.db(), "stop").iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            RunStatus::Interrupted,
            RunStatus::Interrupted,
            RunStatus::Pending,
            RunStatus::Pending
        ]
    );
    let out = sandbox.run(&["resume", "stop"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for run in runs(&sandbox.db(), "stop") {
        assert_eq!(run.status, RunStatus::Completed);
        assert_continuous_curves(&sandbox.db(), &run, 3000);
    }
}

#[test]
fn a_run_reaching_the_metric_target_ends_the_search_and_resume_starts_nothing() {
    let sandbox = Sandbox::new();
    let spec = write_spec(&sandbox, "goal", "[1, 2]", 50);
    // Any trained run is below 100: the first to finish reaches the target.
    let text = std::fs::read_to_string(&spec).unwrap() + "workers: 1\nmetric: {name: val_loss, target: 100}\n";
    std::fs::write(&spec, text).unwrap();
    let out = sandbox.run(&["launch", spec.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("run 1 reached the target val_loss ≤ 100"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("3 not needed"), "{}", stderr(&out));
    let statuses = |sandbox: &Sandbox| runs(&sandbox.db(), "goal").iter().map(|r| r.status).collect::<Vec<_>>();
    let expected = [
        RunStatus::Completed,
        RunStatus::Pending,
        RunStatus::Pending,
        RunStatus::Pending,
    ];
    assert_eq!(statuses(&sandbox), expected);
    let out = sandbox.run(&["resume", "goal"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("no run starts"), "{}", stderr(&out));
    assert_eq!(statuses(&sandbox), expected);
    let out = sandbox.run(&["status", "goal"]);
    assert!(stderr(&out).contains("pending runs will not start"), "{}", stderr(&out));
}

#[test]
fn status_and_resume_name_what_is_missing() {
    let sandbox = Sandbox::new();
    let out = sandbox.run(&["status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no database at harness.db"), "{}", stderr(&out));
    let spec = write_spec(&sandbox, "one", "[1]", 50);
    assert!(sandbox.run(&["launch", spec.to_str().unwrap()]).status.success());
    let out = sandbox.run(&["resume", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no sweep named `nope`"), "{}", stderr(&out));
}

#[cfg(not(feature = "tch"))]
#[test]
fn resuming_runs_on_a_backend_this_binary_lacks_is_one_error_before_any_worker() {
    let sandbox = Sandbox::new();
    let spec = write_spec(&sandbox, "moved", "[1]", 50);
    assert!(sandbox.run(&["launch", spec.to_str().unwrap()]).status.success());
    // As if the sweep had been launched by a build with libtorch and stopped early.
    rusqlite::Connection::open(sandbox.db())
        .unwrap()
        .execute_batch("UPDATE runs SET backend = 'tch', status = 'interrupted'")
        .unwrap();
    let out = sandbox.run(&["resume", "moved"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("backend `tch` is not built"), "{}", stderr(&out));
    assert!(
        runs(&sandbox.db(), "moved").iter().all(|r| r.attempts == 1),
        "no worker started"
    );
}

#[test]
fn one_sweep_runs_the_same_model_on_two_backends_and_records_where_each_ran() {
    let sandbox = Sandbox::new();
    sandbox.names(300);
    let spec = sandbox.path("backends.yaml");
    let text = "name: backends\ndata: names.txt\nparameters:\n  backend: {values: [flex, ndarray]}\n  n_embd: {value: 4}\n  n_hidden: {value: 8}\n  steps: {value: 100}\n  eval_every: {value: 100}\n";
    std::fs::write(&spec, text).unwrap();
    let out = sandbox.run(&["launch", spec.to_str().unwrap(), "--workers", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("started: backend=ndarray"), "{}", stderr(&out));
    let runs = runs(&sandbox.db(), "backends");
    let placed: Vec<(&str, Option<&str>, Option<&str>)> = runs
        .iter()
        .map(|r| (r.backend.as_str(), r.requested_device.as_deref(), r.device.as_deref()))
        .collect();
    assert_eq!(
        placed,
        [
            ("flex", Some("cpu"), Some("cpu")),
            ("ndarray", Some("cpu"), Some("cpu"))
        ]
    );
    assert_eq!(runs[0].config_json, runs[1].config_json);
    assert!(runs.iter().all(|r| r.status == RunStatus::Completed));
    // The sweep's table names the backend, since it is what sets the runs apart.
    let header = stdout(&out).lines().next().unwrap_or_default().to_string();
    assert!(header.contains("backend"), "{}", stdout(&out));
}

#[test]
fn a_sweep_over_the_transformer_s_shape_and_rate_trains_reports_and_refuses_what_it_cannot_run() {
    let sandbox = Sandbox::new();
    sandbox.names(200);
    let spec = |name: &str, extra: &str| {
        let path = sandbox.path(&format!("{name}.yaml"));
        let text = format!(
            "name: {name}
method: grid
data: names.txt
parameters:
  model: {{value: transformer}}
  n_embd: {{value: 8}}
  n_layer: {{values: [1, 2]}}
  n_head: {{values: [1, 2]}}
  lr: {{values: [0.01]}}
  steps: {{value: 60}}
  log_every: {{value: 20}}
  eval_every: {{value: 30}}
{extra}"
        );
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let shape = spec("shape", "");
    let out = sandbox.run(&["launch", &shape, "--workers", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let runs = runs(&sandbox.db(), "shape");
    assert_eq!(runs.len(), 4);
    assert!(runs.iter().all(|r| r.status == RunStatus::Completed), "{runs:?}");
    let out = sandbox.run(&["report", "shape"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let pngs = std::fs::read_dir(sandbox.path("report-shape"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "png"))
        .count();
    assert!(pngs >= 1, "the report draws the sweep");

    // Three heads do not divide 8 channels; a block of 4 does not hold the longest name.
    for (name, extra, message) in [
        (
            "heads",
            "  n_embd: {value: 9}\n",
            "must divide n_embd (9) into equal heads, got 2",
        ),
        (
            "block",
            "  block_size: {value: 4}\n",
            "`block_size` is 4, but model `transformer` reads whole items",
        ),
    ] {
        let path = spec(name, "");
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("  n_embd: {value: 8}\n", extra);
        std::fs::write(&path, text).unwrap();
        let out = sandbox.run(&["launch", &path]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{name}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("{name}.yaml")),
            "names the file: {}",
            stderr(&out)
        );
    }
    let store = open_store(&sandbox.db());
    assert!(store.find_sweep("heads").unwrap().is_none() && store.find_sweep("block").unwrap().is_none());
}
