//! Tests of the store on real SQLite files in scratch directories.

use super::*;
use crate::records::{CurvePoint, NewRun, NewSweep, RanOn, RunResult, VerdictRecord};
use crate::records::{Decision, RunStatus, Split, SweepKind};
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory for one test's database, removed when dropped. (Not the tempfile
/// crate: as a dev-dependency it changes shared features and forces a second Burn build.)
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("results-store-test-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn db(&self) -> PathBuf {
        self.0.join("h.db")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn new_run(key: &str) -> NewRun {
    NewRun {
        run_key: key.into(),
        config_json: r#"{"lr":0.1}"#.into(),
        backend: "flex".into(),
        requested_device: "cpu".into(),
        threads: 1,
        data_path: "/data/names.txt".into(),
        data_sha256: "ab".repeat(32),
        git_commit: Some("abc123".into()),
        trainable_params: 12_097,
        variant: None,
    }
}

fn sweep(name: &str) -> NewSweep {
    NewSweep {
        name: Some(name.into()),
        kind: SweepKind::Train,
        spec: None,
        spec_sha256: None,
        settings_json: None,
    }
}

#[test]
fn a_new_database_gets_the_current_schema_in_wal_mode() {
    let dir = Scratch::new();
    let store = Store::open(&dir.db()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let mode: String = store
        .conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(store);
    // Opening again migrates nothing and keeps the data.
    assert_eq!(
        Store::open(&dir.db()).unwrap().schema_version().unwrap(),
        SCHEMA_VERSION
    );
}

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
    let runs: i64 = store
        .conn
        .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(runs, 1);
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
fn a_read_only_store_cannot_write() {
    let dir = Scratch::new();
    let path = dir.db();
    let runs = Store::open(&path)
        .unwrap()
        .create_sweep(&sweep("s"), &[new_run("a")])
        .unwrap()
        .runs;
    let mut reader = Store::open_read_only(&path).unwrap();
    assert!(reader.mark_running(runs[0]).is_err());
    assert_eq!(reader.run(runs[0]).unwrap().status, RunStatus::Pending);
}

#[test]
fn a_database_from_a_newer_harness_is_refused() {
    let dir = Scratch::new();
    let path = dir.db();
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    assert!(matches!(Store::open(&path), Err(StoreError::NewerSchema { .. })));
    assert!(matches!(
        Store::open_read_only(&path),
        Err(StoreError::NewerSchema { .. })
    ));
}

#[test]
fn a_database_from_an_older_harness_is_read_after_an_upgrade() {
    let dir = Scratch::new();
    let path = dir.db();
    drop(Store::open(&path).unwrap());
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "DROP VIEW runs_wide; DROP VIEW curves; DROP TABLE verdicts; ALTER TABLE runs DROP COLUMN device;
             ALTER TABLE runs DROP COLUMN device_name; ALTER TABLE runs DROP COLUMN requested_device;
             ALTER TABLE runs DROP COLUMN host; ALTER TABLE runs DROP COLUMN slurm_job;
             ALTER TABLE runs DROP COLUMN retries; DROP TABLE attempts;
             PRAGMA user_version = 3;",
        )
        .unwrap();
    assert!(matches!(
        Store::open_read_only(&path),
        Err(StoreError::OlderSchema { found: 3 })
    ));
    drop(Store::open(&path).unwrap());
    let reader = Store::open_read_only(&path).unwrap();
    assert!(reader.query("SELECT * FROM runs_wide", &[]).unwrap().rows.is_empty());
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
fn a_version_1_database_is_migrated_and_keeps_its_runs() {
    let dir = Scratch::new();
    let conn = Connection::open(dir.db()).unwrap();
    conn.execute_batch(schema::MIGRATIONS[0]).unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();
    conn.execute("INSERT INTO sweeps (name, kind) VALUES ('old', 'train')", [])
        .unwrap();
    conn.execute(
        "INSERT INTO runs (sweep_id, run_key, status, config, backend, threads, data_path, data_sha256, trainable_params)
         VALUES (1, 'k', 'completed', '{}', 'flex', 1, 'd', 's', 5)",
        [],
    )
    .unwrap();
    conn.execute("INSERT INTO curve_points VALUES (1, 'val', 100, 2.5)", [])
        .unwrap();
    conn.execute("INSERT INTO samples VALUES (1, 0, 'emma')", []).unwrap();
    drop(conn);
    let store = Store::open(&dir.db()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let run = store.run(RunId(1)).unwrap();
    assert_eq!((run.status, run.attempts), (RunStatus::Completed, 0));
    assert_eq!((run.device, run.device_name, run.requested_device), (None, None, None));
    // Migration 8 rebuilt `runs` under its curves and samples: they still point at it.
    assert_eq!(store.curve(RunId(1), Split::Val).unwrap(), [(100, 2.5)]);
    assert_eq!(store.samples(RunId(1)).unwrap(), ["emma"]);
    let enforced: bool = store
        .conn
        .pragma_query_value(None, "foreign_keys", |row| row.get(0))
        .unwrap();
    assert!(enforced, "foreign keys are enforced again after the migrations");
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
fn sweep_summaries_count_runs_by_status() {
    let dir = Scratch::new();
    let mut store = Store::open(&dir.db()).unwrap();
    store.create_sweep(&sweep("one"), &[new_run("a")]).unwrap();
    let runs = store
        .create_sweep(&sweep("two"), &[new_run("a"), new_run("b"), new_run("c")])
        .unwrap()
        .runs;
    store.mark_running(runs[0]).unwrap();
    store.mark_interrupted(runs[1]).unwrap();
    let summaries = store.sweep_summaries().unwrap();
    assert_eq!(summaries.len(), 2);
    let two = &summaries[1];
    assert_eq!(two.sweep.name, "two");
    assert_eq!(
        (
            two.count(RunStatus::Running),
            two.count(RunStatus::Interrupted),
            two.count(RunStatus::Pending)
        ),
        (1, 1, 1)
    );
    assert_eq!((two.total(), summaries[0].total()), (3, 1));
}

#[test]
fn a_sweep_is_found_by_name_with_its_runs_in_planned_order() {
    let dir = Scratch::new();
    let mut store = Store::open(&dir.db()).unwrap();
    let spec = NewSweep {
        name: Some("grid".into()),
        kind: SweepKind::Sweep,
        spec: Some("name: grid".into()),
        spec_sha256: Some("ab".into()),
        settings_json: Some(r#"{"max_retries":1}"#.into()),
    };
    let created = store
        .create_sweep(&spec, &[new_run("a"), new_run("b"), new_run("c")])
        .unwrap();
    let found = store.find_sweep("grid").unwrap().unwrap();
    assert_eq!(
        (found.id, found.kind, found.spec.as_deref()),
        (created.id, SweepKind::Sweep, Some("name: grid"))
    );
    assert_eq!(found.settings_json.as_deref(), Some(r#"{"max_retries":1}"#));
    let keys: Vec<String> = store
        .sweep_runs(found.id)
        .unwrap()
        .into_iter()
        .map(|r| r.run_key)
        .collect();
    assert_eq!(keys, ["a", "b", "c"]);
    assert!(store.find_sweep("other").unwrap().is_none());
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

#[test]
fn a_read_only_query_reads_the_views_and_refuses_writes_and_attach() {
    let dir = Scratch::new();
    let mut store = Store::open(&dir.db()).unwrap();
    let mut run = new_run("a");
    run.config_json = r#"{"model":"mlp","lr":0.1,"seed":3}"#.into();
    run.variant = Some("original".into());
    let id = store.create_sweep(&sweep("s"), &[run]).unwrap().runs[0];
    store
        .append_curve(
            id,
            &[CurvePoint {
                split: Split::Val,
                step: 0,
                loss: 3.3,
            }],
        )
        .unwrap();
    drop(store);
    let reader = Store::open_read_only(&dir.db()).unwrap();
    let table = reader
        .query(
            "SELECT run, sweep, variant, model, lr, seed, status FROM runs_wide",
            &[],
        )
        .unwrap();
    assert_eq!(
        table.columns,
        ["run", "sweep", "variant", "model", "lr", "seed", "status"]
    );
    assert_eq!(
        table.rows,
        vec![vec![
            Cell::Int(id.0),
            Cell::Text("s".into()),
            Cell::Text("original".into()),
            Cell::Text("mlp".into()),
            Cell::Real(0.1),
            Cell::Int(3),
            Cell::Text("pending".into()),
        ]]
    );
    let curve = reader.query("SELECT run, split, step, loss FROM curves", &[]).unwrap();
    assert_eq!(curve.rows[0][3], Cell::Real(3.3));
    for write in [
        "INSERT INTO sweeps (name, kind) VALUES ('x', 'sweep')",
        "DROP TABLE curve_points",
        "UPDATE runs SET status = 'failed'",
        "PRAGMA user_version = 99",
    ] {
        assert!(
            matches!(reader.query(write, &[]), Err(StoreError::WriteRefused)),
            "{write}"
        );
    }
    let attach = format!("ATTACH '{}' AS other", dir.db().display());
    assert!(reader.query(&attach, &[]).is_err());
    assert_eq!(
        reader.query("SELECT count(*) FROM runs", &[]).unwrap().rows[0][0],
        Cell::Int(1)
    );
    assert!(reader.query("SELECT nope FROM runs", &[]).is_err());
}

#[test]
fn runs_wide_shows_the_settings_it_is_given_without_a_migration() {
    let dir = Scratch::new();
    let mut store = Store::open(&dir.db()).unwrap();
    let run = NewRun {
        config_json: r#"{"lr":0.1,"n_skip":48}"#.into(),
        ..new_run("a")
    };
    store.create_sweep(&sweep("s"), &[run]).unwrap();
    // A setting a newer harness declares: a column the first time that harness writes.
    store.define_runs_wide(&["lr", "n_skip"]).unwrap();
    let version = store.schema_version().unwrap();
    let wide = store.query("SELECT * FROM runs_wide", &[]).unwrap();
    assert_eq!(
        &wide.columns[..6],
        ["run", "sweep", "variant", "status", "lr", "n_skip"]
    );
    assert_eq!(wide.rows[0][5], Cell::Int(48));
    assert!(wide.columns.contains(&"slurm_job".to_string()));
    assert_eq!(store.schema_version().unwrap(), version, "no migration");
    // Readers see it too; asking again for the same columns changes nothing.
    store.define_runs_wide(&["lr", "n_skip"]).unwrap();
    let reader = Store::open_read_only(&dir.db()).unwrap();
    assert_eq!(
        reader.query("SELECT n_skip FROM runs_wide", &[]).unwrap().rows[0][0],
        Cell::Int(48)
    );
    assert!(matches!(
        store.define_runs_wide(&["lr; DROP TABLE runs"]),
        Err(StoreError::BadColumnName(_))
    ));
    assert_eq!(
        store.query("SELECT count(*) FROM runs", &[]).unwrap().rows[0][0],
        Cell::Int(1)
    );
}

#[test]
fn a_stopped_run_keeps_its_losses_and_its_verdicts_are_read_back_once_each_in_decision_order() {
    let dir = Scratch::new();
    let mut store = Store::open(&dir.db()).unwrap();
    let created = store
        .create_sweep(&sweep("judged"), &[new_run("a"), new_run("b")])
        .unwrap();
    let (a, b) = (created.runs[0], created.runs[1]);
    let verdict = |run, step, value, decision| VerdictRecord {
        run,
        step,
        value,
        decision,
    };
    store.record_verdicts(&[verdict(b, 100, 2.4, Decision::Pause)]).unwrap();
    store
        .record_verdicts(&[
            verdict(a, 200, 2.6, Decision::Stop),
            verdict(a, 100, 2.5, Decision::Continue),
        ])
        .unwrap();
    assert!(
        matches!(
            store.record_verdicts(&[
                verdict(a, 300, 2.4, Decision::Continue),
                verdict(a, 100, 2.5, Decision::Stop)
            ]),
            Err(StoreError::JudgedTwice { step: 100, .. })
        ),
        "an evaluation is judged once, and a judgement is written whole or not at all"
    );
    // A pause is revised once: promoted, which moves it to the end of the order.
    store
        .record_verdicts(&[verdict(b, 100, 2.4, Decision::Continue)])
        .unwrap();
    assert_eq!(
        store.first_held(created.id).unwrap(),
        [(a, 200, 2.6), (b, 100, 2.4)],
        "b was paused at 100 before it was promoted; a was stopped at 200"
    );
    assert!(store.record_verdicts(&[verdict(b, 100, 2.4, Decision::Stop)]).is_err());
    store.mark_paused(b).unwrap();
    store.mark_running(a).unwrap();
    let result = RunResult {
        status: RunStatus::Stopped,
        steps_done: 200,
        losses: Some([2.3, 2.6, 2.7]),
        train_seconds: 1.0,
        eval_seconds: 0.5,
        wall_seconds: 1.6,
        steps_per_sec: 200.0,
        samples: vec!["ann".into()],
        error: None,
    };
    store.finish_run(a, &result, &[]).unwrap();

    let reader = Store::open_read_only(&dir.db()).unwrap();
    let record = reader.run(a).unwrap();
    assert_eq!((record.status, record.val_loss), (RunStatus::Stopped, Some(2.6)));
    assert_eq!(
        reader.sweep_verdicts(created.id).unwrap(),
        [
            verdict(a, 200, 2.6, Decision::Stop),
            verdict(a, 100, 2.5, Decision::Continue),
            verdict(b, 100, 2.4, Decision::Continue)
        ]
    );
    let summary = &reader.sweep_summaries().unwrap()[0];
    assert_eq!(
        (summary.count(RunStatus::Stopped), summary.count(RunStatus::Paused)),
        (1, 1)
    );
}

#[test]
fn a_reader_sees_each_sweeps_span_and_loss_range_and_when_a_writer_commits() {
    let dir = Scratch::new();
    let mut store = Store::open(&dir.db()).unwrap();
    let created = store
        .create_sweep(&sweep("spans"), &[new_run("a"), new_run("b")])
        .unwrap();
    let reader = Store::open_read_only(&dir.db()).unwrap();
    let before = reader.data_version().unwrap();
    assert_eq!(reader.data_version().unwrap(), before, "nothing committed in between");
    let result = |val: f64| RunResult {
        status: RunStatus::Completed,
        steps_done: 100,
        losses: Some([2.0, val, 2.5]),
        train_seconds: 1.0,
        eval_seconds: 0.5,
        wall_seconds: 1.6,
        steps_per_sec: 100.0,
        samples: Vec::new(),
        error: None,
    };
    for (run, val) in created.runs.iter().zip([2.4, 2.2]) {
        store.mark_running(*run).unwrap();
        store.finish_run(*run, &result(val), &[]).unwrap();
    }
    assert_ne!(reader.data_version().unwrap(), before, "the writer's commits show");
    let span = &reader.sweep_spans().unwrap()[&created.id];
    assert_eq!(span.losses, [Some((2.0, 2.0)), Some((2.2, 2.4)), Some((2.5, 2.5))]);
    assert!(span.started_at.is_some() && span.finished_at >= span.started_at);
}
