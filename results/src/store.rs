//! Every SQL statement of the project: the versioned schema, its migrations, and the
//! writes and reads of sweeps, runs, curves and samples. Writes go through `BEGIN
//! IMMEDIATE` transactions on a WAL database so readers never block the one writer.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params};

use crate::records::{CreatedSweep, CurvePoint, NewRun, NewSweep, RunId, RunRecord, RunResult, SweepId};

/// The schema version this build writes and reads (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 1;

/// Migrations from version `i` to `i + 1`, in order.
const MIGRATIONS: [&str; 1] = [r#"
CREATE TABLE sweeps (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('train', 'sweep')),
    spec        TEXT,
    spec_sha256 TEXT,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE runs (
    id               INTEGER PRIMARY KEY,
    sweep_id         INTEGER NOT NULL REFERENCES sweeps (id),
    run_key          TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN
                         ('pending', 'running', 'completed', 'diverged', 'failed', 'interrupted')),
    config           TEXT NOT NULL CHECK (json_valid(config)),
    backend          TEXT NOT NULL,
    threads          INTEGER NOT NULL,
    data_path        TEXT NOT NULL,
    data_sha256      TEXT NOT NULL,
    git_commit       TEXT,
    trainable_params INTEGER NOT NULL,
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    started_at       TEXT,
    finished_at      TEXT,
    steps_done       INTEGER NOT NULL DEFAULT 0,
    train_loss       REAL,
    val_loss         REAL,
    test_loss        REAL,
    train_seconds    REAL,
    eval_seconds     REAL,
    wall_seconds     REAL,
    steps_per_sec    REAL,
    error            TEXT,
    UNIQUE (sweep_id, run_key)
);
CREATE INDEX runs_by_status ON runs (status);
CREATE TABLE curve_points (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    split  TEXT NOT NULL CHECK (split IN ('train', 'val')),
    step   INTEGER NOT NULL,
    loss   REAL NOT NULL,
    PRIMARY KEY (run_id, split, step)
) WITHOUT ROWID;
CREATE TABLE samples (
    run_id   INTEGER NOT NULL REFERENCES runs (id),
    position INTEGER NOT NULL,
    text     TEXT NOT NULL,
    PRIMARY KEY (run_id, position)
) WITHOUT ROWID;
"#];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("a sweep named `{0}` already exists in this database")]
    SweepExists(String),
    #[error(
        "the database has schema version {found}, newer than this harness understands ({SCHEMA_VERSION}); upgrade the harness"
    )]
    NewerSchema { found: i64 },
    #[error("no run with id {0}")]
    NoSuchRun(RunId),
}

pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating if needed) a database for writing and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        let mut store = Self { conn };
        store.migrate()?;
        Ok(store)
    }

    /// Opens an existing database for reading only.
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        let found = schema_version(&conn)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema { found });
        }
        Ok(Self { conn })
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let tx = self.write()?;
        let found = schema_version(&tx)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema { found });
        }
        for (version, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version as i64 + 1)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn write(&mut self) -> Result<Transaction<'_>, StoreError> {
        Ok(self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
    }

    /// Stores a sweep and all its runs (status `pending`) in one transaction.
    pub fn create_sweep(&mut self, sweep: &NewSweep, runs: &[NewRun]) -> Result<CreatedSweep, StoreError> {
        let tx = self.write()?;
        let name_taken = |name: &str| -> Result<bool, StoreError> {
            Ok(
                tx.query_row("SELECT EXISTS (SELECT 1 FROM sweeps WHERE name = ?1)", [name], |r| {
                    r.get(0)
                })?,
            )
        };
        let name = match &sweep.name {
            Some(name) if name_taken(name)? => return Err(StoreError::SweepExists(name.clone())),
            Some(name) => name.clone(),
            None => {
                let next_id: i64 = tx.query_row("SELECT coalesce(max(id), 0) + 1 FROM sweeps", [], |r| r.get(0))?;
                let base = format!("{}-{next_id}", sweep.kind.as_str());
                let mut name = base.clone();
                let mut suffix = 1;
                while name_taken(&name)? {
                    suffix += 1;
                    name = format!("{base}-{suffix}");
                }
                name
            }
        };
        tx.execute(
            "INSERT INTO sweeps (name, kind, spec, spec_sha256) VALUES (?1, ?2, ?3, ?4)",
            params![name, sweep.kind.as_str(), sweep.spec, sweep.spec_sha256],
        )?;
        let sweep_id = SweepId(tx.last_insert_rowid());
        let mut run_ids = Vec::with_capacity(runs.len());
        {
            let mut insert = tx.prepare(
                "INSERT INTO runs (sweep_id, run_key, status, config, backend, threads, data_path,
                                   data_sha256, git_commit, trainable_params)
                 VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for run in runs {
                insert.execute(params![
                    sweep_id.0,
                    run.run_key,
                    run.config_json,
                    run.backend,
                    run.threads as i64,
                    run.data_path,
                    run.data_sha256,
                    run.git_commit,
                    run.trainable_params as i64,
                ])?;
                run_ids.push(RunId(tx.last_insert_rowid()));
            }
        }
        tx.commit()?;
        Ok(CreatedSweep {
            id: sweep_id,
            name,
            runs: run_ids,
        })
    }

    pub fn mark_running(&mut self, run: RunId) -> Result<(), StoreError> {
        let tx = self.write()?;
        let changed = tx.execute(
            "UPDATE runs SET status = 'running', started_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
            [run.0],
        )?;
        if changed == 0 {
            return Err(StoreError::NoSuchRun(run));
        }
        tx.commit()?;
        Ok(())
    }

    /// Appends curve points in one transaction.
    pub fn append_curve(&mut self, run: RunId, points: &[CurvePoint]) -> Result<(), StoreError> {
        let tx = self.write()?;
        insert_points(&tx, run, points)?;
        tx.commit()?;
        Ok(())
    }

    /// Records how a run ended, with its last curve points and samples, in one transaction.
    pub fn finish_run(&mut self, run: RunId, result: &RunResult, last_points: &[CurvePoint]) -> Result<(), StoreError> {
        let tx = self.write()?;
        insert_points(&tx, run, last_points)?;
        let [train, val, test] = result.losses.map_or([None; 3], |l| l.map(Some));
        let changed = tx.execute(
            "UPDATE runs SET status = ?2, steps_done = ?3, train_loss = ?4, val_loss = ?5, test_loss = ?6,
                             train_seconds = ?7, eval_seconds = ?8, wall_seconds = ?9, steps_per_sec = ?10,
                             error = ?11, finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             WHERE id = ?1",
            params![
                run.0,
                result.status.as_str(),
                result.steps_done as i64,
                train,
                val,
                test,
                result.train_seconds,
                result.eval_seconds,
                result.wall_seconds,
                result.steps_per_sec,
                result.error,
            ],
        )?;
        if changed == 0 {
            return Err(StoreError::NoSuchRun(run));
        }
        {
            let mut insert = tx.prepare("INSERT INTO samples (run_id, position, text) VALUES (?1, ?2, ?3)")?;
            for (position, text) in result.samples.iter().enumerate() {
                insert.execute(params![run.0, position as i64, text])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn run(&self, id: RunId) -> Result<RunRecord, StoreError> {
        self.conn
            .query_row(
                "SELECT r.id, s.name, r.status, r.config, r.backend, r.threads, r.data_path, r.data_sha256,
                        r.git_commit, r.trainable_params, r.steps_done, r.train_loss, r.val_loss,
                        r.test_loss, r.steps_per_sec, r.wall_seconds, r.error
                 FROM runs r JOIN sweeps s ON s.id = r.sweep_id WHERE r.id = ?1",
                [id.0],
                |row| {
                    let status: String = row.get(2)?;
                    Ok(RunRecord {
                        id: RunId(row.get(0)?),
                        sweep_name: row.get(1)?,
                        status: status.parse().map_err(|e: String| {
                            rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, e.into())
                        })?,
                        config_json: row.get(3)?,
                        backend: row.get(4)?,
                        threads: row.get::<_, i64>(5)? as usize,
                        data_path: row.get(6)?,
                        data_sha256: row.get(7)?,
                        git_commit: row.get(8)?,
                        trainable_params: row.get::<_, i64>(9)? as usize,
                        steps_done: row.get::<_, i64>(10)? as u64,
                        train_loss: row.get(11)?,
                        val_loss: row.get(12)?,
                        test_loss: row.get(13)?,
                        steps_per_sec: row.get(14)?,
                        wall_seconds: row.get(15)?,
                        error: row.get(16)?,
                    })
                },
            )
            .optional()?
            .ok_or(StoreError::NoSuchRun(id))
    }

    /// A run's curve for one split, by step.
    pub fn curve(&self, run: RunId, split: crate::Split) -> Result<Vec<(u64, f64)>, StoreError> {
        let mut query = self
            .conn
            .prepare("SELECT step, loss FROM curve_points WHERE run_id = ?1 AND split = ?2 ORDER BY step")?;
        let points = query.query_map(params![run.0, split.as_str()], |row| {
            Ok((row.get::<_, i64>(0)? as u64, row.get(1)?))
        })?;
        Ok(points.collect::<Result<_, _>>()?)
    }

    pub fn samples(&self, run: RunId) -> Result<Vec<String>, StoreError> {
        let mut query = self
            .conn
            .prepare("SELECT text FROM samples WHERE run_id = ?1 ORDER BY position")?;
        let texts = query.query_map([run.0], |row| row.get(0))?;
        Ok(texts.collect::<Result<_, _>>()?)
    }

    pub fn schema_version(&self) -> Result<i64, StoreError> {
        schema_version(&self.conn)
    }
}

fn schema_version(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

fn insert_points(tx: &Transaction<'_>, run: RunId, points: &[CurvePoint]) -> Result<(), StoreError> {
    let mut insert = tx.prepare("INSERT INTO curve_points (run_id, split, step, loss) VALUES (?1, ?2, ?3, ?4)")?;
    for point in points {
        insert.execute(params![run.0, point.split.as_str(), point.step as i64, point.loss])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{RunStatus, Split, SweepKind};
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
            threads: 1,
            data_path: "/data/names.txt".into(),
            data_sha256: "ab".repeat(32),
            git_commit: Some("abc123".into()),
            trainable_params: 12_097,
        }
    }

    fn sweep(name: &str) -> NewSweep {
        NewSweep {
            name: Some(name.into()),
            kind: SweepKind::Train,
            spec: None,
            spec_sha256: None,
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
    fn unknown_runs_are_reported() {
        let dir = Scratch::new();
        let mut store = Store::open(&dir.db()).unwrap();
        assert!(matches!(store.run(RunId(9)), Err(StoreError::NoSuchRun(RunId(9)))));
        assert!(matches!(
            store.mark_running(RunId(9)),
            Err(StoreError::NoSuchRun(RunId(9)))
        ));
    }
}
