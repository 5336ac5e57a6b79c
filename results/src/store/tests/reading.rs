//! What readers see: sweep summaries, a sweep found by name, read-only queries, verdicts read
//! back, and each sweep's span while a writer commits.

use super::*;

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
