//! The database file itself: a new one's schema and WAL mode, read-only stores, databases from
//! newer and older harnesses, migration from version 1, and `runs_wide` following the settings.

use super::*;

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
             ALTER TABLE runs DROP COLUMN retries; DROP TABLE attempts; DROP TABLE exploits;
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
