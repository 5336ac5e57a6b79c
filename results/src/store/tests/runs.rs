//! Sweeps and runs written and read back: curves, results, samples, devices, attempts and their
//! causes, retries, names.

use super::*;

#[test]
fn a_run_is_stored_with_its_curve_result_and_samples() {
    let dir = Scratch::new();
    let mut store = Store::open(&dir.db()).unwrap();
    let run = store.create_sweep(&sweep("first"), &[new_run("k1")]).unwrap().runs[0];
    assert_eq!(store.run(run).unwrap().status, RunStatus::Pending);
    store.mark_running(run).unwrap();
    let point = |split, step, loss| CurvePoint { split, step, loss };
    store
        .append_curve(run, &[point(Split::Val, 0, 3.3), point(Split::Train, 100, 2.9)])
        .unwrap();
    let result = RunResult {
        status: RunStatus::Completed,
        steps_done: 200,
        losses: Some([2.0, 2.1, 2.2]),
        train_seconds: 1.5,
        eval_seconds: 0.5,
        wall_seconds: 2.1,
        steps_per_sec: 133.3,
        samples: vec!["emma".into(), "".into()],
        error: None,
    };
    store
        .finish_run(
            run,
            &result,
            &[point(Split::Train, 200, 2.5), point(Split::Val, 200, 2.1)],
        )
        .unwrap();

    let reader = Store::open_read_only(&dir.db()).unwrap();
    let record = reader.run(run).unwrap();
    assert_eq!(
        (record.status, record.steps_done, record.val_loss),
        (RunStatus::Completed, 200, Some(2.1))
    );
    assert_eq!((record.sweep_name.as_str(), record.trainable_params), ("first", 12_097));
    assert_eq!(reader.curve(run, Split::Train).unwrap(), vec![(100, 2.9), (200, 2.5)]);
    assert_eq!(reader.curve(run, Split::Val).unwrap(), vec![(0, 3.3), (200, 2.1)]);
    assert_eq!(reader.samples(run).unwrap(), vec!["emma".to_string(), String::new()]);
    let attempts = reader.attempts(run).unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(
        attempts[0].outcome,
        Some(RunStatus::Completed),
        "the attempt ends with the run"
    );
}

#[test]
fn a_duplicate_sweep_name_is_refused_and_writes_nothing() {
    let dir = Scratch::new();
    let mut store = Store::open(&dir.db()).unwrap();
    store.create_sweep(&sweep("same"), &[new_run("a")]).unwrap();
    let err = store.create_sweep(&sweep("same"), &[new_run("b")]).unwrap_err();
    assert!(matches!(err, StoreError::SweepExists(name) if name == "same"));
    assert_eq!(run_count(&store), 1);
}

#[test]
fn a_sweep_whose_id_the_caller_refuses_writes_nothing() {
    let dir = Scratch::new();
    let mut store = Store::open(&dir.db()).unwrap();
    store.create_sweep(&sweep("first"), &[new_run("a")]).unwrap();
    let err = store
        .create_sweep_if(&sweep("second"), &[new_run("b")], |id| {
            Err(format!("id {} is taken", id.0))
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::Refused(reason) if reason == "id 2 is taken"));
    assert!(store.find_sweep("second").unwrap().is_none());
    assert_eq!(run_count(&store), 1);
}

fn run_count(store: &Store) -> i64 {
    store
        .conn
        .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn unnamed_sweeps_are_named_after_their_kind_and_id() {
    let dir = Scratch::new();
    let mut store = Store::open(&dir.db()).unwrap();
    let unnamed = NewSweep {
        name: None,
        ..sweep("")
    };
    assert_eq!(store.create_sweep(&unnamed, &[new_run("a")]).unwrap().name, "train-1");
    store.create_sweep(&sweep("train-3"), &[]).unwrap();
    assert_eq!(store.create_sweep(&unnamed, &[new_run("a")]).unwrap().name, "train-3-2");
}

#[test]
fn unknown_runs_are_reported() {
    let dir = Scratch::new();
    let mut store = Store::open(&dir.db()).unwrap();
    assert!(matches!(store.run(RunId(9)), Err(StoreError::NoSuchRun(RunId(9)))));
    assert!(matches!(
        store.mark_running(RunId(9)),
        Err(StoreError::NoSuchRun(RunId(9)))
    ));
}

#[test]
fn a_run_keeps_the_device_it_asked_for_and_records_the_one_it_got() {
    let dir = Scratch::new();
    let mut store = Store::open(&dir.db()).unwrap();
    let asking = NewRun {
        requested_device: "cuda".into(),
        ..new_run("a")
    };
    let run = store.create_sweep(&sweep("s"), &[asking]).unwrap().runs[0];
    assert_eq!(store.run(run).unwrap().device, None);
    store.mark_running(run).unwrap();
    let ran_on = RanOn {
        device: "cuda:1".into(),
        device_name: "NVIDIA H200".into(),
        host: "node7".into(),
        slurm_job: Some("1234".into()),
    };
    store.record_ran_on(run, &ran_on).unwrap();
    let record = store.run(run).unwrap();
    assert_eq!(record.requested_device.as_deref(), Some("cuda"));
    assert_eq!(record.device.as_deref(), Some("cuda:1"));
    assert_eq!(record.device_name.as_deref(), Some("NVIDIA H200"));
    assert_eq!(
        (record.host.as_deref(), record.slurm_job.as_deref()),
        (Some("node7"), Some("1234"))
    );
    let wide = store
        .query(
            "SELECT requested_device, device, device_name, host, slurm_job FROM runs_wide",
            &[],
        )
        .unwrap();
    assert_eq!(
        wide.columns,
        ["requested_device", "device", "device_name", "host", "slurm_job"]
    );
    assert_eq!(wide.rows[0][3], Cell::Text("node7".into()));
}

#[test]
fn each_start_counts_as_an_attempt_kept_with_where_it_ran_how_it_ended_and_why() {
    let dir = Scratch::new();
    let mut store = Store::open(&dir.db()).unwrap();
    let run = store.create_sweep(&sweep("s"), &[new_run("a")]).unwrap().runs[0];
    let on = |host: &str, job: Option<&str>| RanOn {
        device: "cpu".into(),
        device_name: "a CPU".into(),
        host: host.into(),
        slurm_job: job.map(String::from),
    };
    store.mark_running(run).unwrap();
    store.record_ran_on(run, &on("node1", Some("41"))).unwrap();
    store.mark_failed(run, "killed", true).unwrap();
    store.mark_running(run).unwrap();
    store.record_ran_on(run, &on("node2", None)).unwrap();
    store.mark_interrupted(run).unwrap();
    // A start after a scheduler that died without a word: the open attempt ends then.
    store.mark_running(run).unwrap();
    store.mark_running(run).unwrap();
    assert_eq!(store.run(run).unwrap().attempts, 4);
    let attempts = store.attempts(run).unwrap();
    let summary: Vec<_> = attempts
        .iter()
        .map(|a| {
            (
                a.attempt,
                a.outcome,
                a.host.as_deref(),
                a.slurm_job.as_deref(),
                a.ended_at.is_some(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, Some(RunStatus::Failed), Some("node1"), Some("41"), true),
            (2, Some(RunStatus::Interrupted), Some("node2"), None, true),
            (3, Some(RunStatus::Interrupted), None, None, true),
            (4, None, None, None, false),
        ]
    );
    let errors: Vec<Option<&str>> = attempts.iter().map(|a| a.error.as_deref()).collect();
    assert_eq!(errors, [Some("killed"), None, None, None], "why the failed one failed");
}

#[test]
fn steps_done_follows_the_curve_and_replacing_it_takes_the_checkpoints_points() {
    let dir = Scratch::new();
    let mut store = Store::open(&dir.db()).unwrap();
    let run = store.create_sweep(&sweep("s"), &[new_run("a")]).unwrap().runs[0];
    let points: Vec<CurvePoint> = (1..=4)
        .map(|i| CurvePoint {
            split: Split::Train,
            step: i * 100,
            loss: i as f64,
        })
        .collect();
    store.append_curve(run, &points[..3]).unwrap();
    assert_eq!(store.run(run).unwrap().steps_done, 300);
    // The checkpoint was at step 200: point 300 goes.
    store.replace_curve(run, &points[..2]).unwrap();
    assert_eq!(store.curve(run, Split::Train).unwrap(), vec![(100, 1.0), (200, 2.0)]);
    assert_eq!(store.run(run).unwrap().steps_done, 200);
    // The resumed session writes its points again without conflicts.
    store.append_curve(run, &points[2..]).unwrap();
    assert_eq!(store.curve(run, Split::Train).unwrap().len(), 4);
    store.replace_curve(run, &[]).unwrap();
    assert_eq!(store.run(run).unwrap().steps_done, 0);
}

#[test]
fn a_failed_attempt_goes_back_to_pending_as_a_retry_or_stays_failed_with_its_error() {
    let dir = Scratch::new();
    let mut store = Store::open(&dir.db()).unwrap();
    let runs = store.create_sweep(&sweep("s"), &[new_run("a")]).unwrap().runs;
    store.mark_running(runs[0]).unwrap();
    store.mark_failed(runs[0], "worker killed by signal 9", true).unwrap();
    let run = store.run(runs[0]).unwrap();
    assert_eq!(
        (run.status, run.error.as_deref()),
        (RunStatus::Pending, Some("worker killed by signal 9"))
    );
    store.mark_running(runs[0]).unwrap();
    store.mark_failed(runs[0], "again", false).unwrap();
    let run = store.run(runs[0]).unwrap();
    // Two attempts, one of them a retry: the last failure was not retried.
    assert_eq!((run.status, run.attempts, run.retries), (RunStatus::Failed, 2, 1));
    assert!(matches!(
        store.mark_failed(RunId(99), "x", false),
        Err(StoreError::NoSuchRun(RunId(99)))
    ));
}
