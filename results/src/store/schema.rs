//! The schema, as a list of migrations applied in order; `PRAGMA user_version` records
//! how many have been applied. A database newer than this build is refused, never touched.

use rusqlite::{Connection, OptionalExtension};

use super::{Store, StoreError};

/// The schema version this build writes and reads (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 14;

/// The `runs_wide` view as migrations 4 to 7 made it, with the device columns of each
/// version; `define_runs_wide` then gives it the declared settings' columns.
macro_rules! runs_wide {
    ($devices:literal) => {
        concat!(
            r#"
CREATE VIEW runs_wide AS
SELECT r.id AS run, s.name AS sweep, r.variant, r.status,
       json_extract(r.config, '$.model') AS model,
       json_extract(r.config, '$.n_embd') AS n_embd,
       json_extract(r.config, '$.n_hidden') AS n_hidden,
       json_extract(r.config, '$.block_size') AS block_size,
       json_extract(r.config, '$.batchnorm_bug') AS batchnorm_bug,
       json_extract(r.config, '$.lr') AS lr,
       json_extract(r.config, '$.lr_final') AS lr_final,
       json_extract(r.config, '$.lr_decay_at') AS lr_decay_at,
       json_extract(r.config, '$.batch_size') AS batch_size,
       json_extract(r.config, '$.steps') AS steps,
       json_extract(r.config, '$.seed') AS seed,
       json_extract(r.config, '$.split_seed') AS split_seed,
       json_extract(r.config, '$.log_every') AS log_every,
       json_extract(r.config, '$.eval_every') AS eval_every,
       r.train_loss, r.val_loss, r.test_loss,
       r.trainable_params AS params, r.steps_done, r.steps_per_sec,
       r.train_seconds, r.eval_seconds, r.wall_seconds, r.attempts,
       r.backend, "#,
            $devices,
            r#" r.threads, r.data_path, r.data_sha256, r.git_commit, r.run_key,
       r.created_at, r.started_at, r.finished_at, r.error
FROM runs r JOIN sweeps s ON s.id = r.sweep_id;
"#
        )
    };
}

/// Migrations from version `i` to `i + 1`, in order.
pub(super) const MIGRATIONS: [&str; 14] = [
    // 1: sweeps, runs, curves, samples.
    r#"
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
"#,
    // 2: how many times each run was started (retries and resumes count).
    "ALTER TABLE runs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;",
    // 3: a sweep's scheduling settings (JSON, as the harness wrote them) and each run's
    // variant label.
    "ALTER TABLE sweeps ADD COLUMN settings TEXT CHECK (settings IS NULL OR json_valid(settings));
     ALTER TABLE runs ADD COLUMN variant TEXT;",
    // 4: documented views for users' own queries (docs/guide.md: `harness query`).
    concat!(
        runs_wide!(""),
        "CREATE VIEW curves AS SELECT run_id AS run, split, step, loss FROM curve_points;"
    ),
    // 5: where each run computed: `cpu` or `cuda:N`, and the processor's or GPU's name.
    concat!(
        "ALTER TABLE runs ADD COLUMN device TEXT;
         ALTER TABLE runs ADD COLUMN device_name TEXT;
         DROP VIEW runs_wide;",
        runs_wide!("r.device, r.device_name,")
    ),
    // 6: where each run asks to compute (`cpu`, `cuda` for any GPU of its sweep, `cuda:N`);
    // `device` keeps where it did.
    concat!(
        "ALTER TABLE runs ADD COLUMN requested_device TEXT;
         DROP VIEW runs_wide;",
        runs_wide!("r.requested_device, r.device, r.device_name,")
    ),
    // 7: the machine each run's worker ran on, and its Slurm job when Slurm placed it.
    concat!(
        "ALTER TABLE runs ADD COLUMN host TEXT;
         ALTER TABLE runs ADD COLUMN slurm_job TEXT;
         DROP VIEW runs_wide;",
        runs_wide!("r.requested_device, r.device, r.device_name, r.host, r.slurm_job,")
    ),
    // 8: early termination. Statuses `stopped` and `paused` (SQLite cannot change a CHECK constraint, so
    // `runs` is rebuilt with its columns in the same order; migrations run with foreign keys
    // off), and the verdict the scheduler gave each run at each evaluation it judged.
    concat!(
        r#"
DROP VIEW runs_wide;
CREATE TABLE runs_rebuilt (
    id               INTEGER PRIMARY KEY,
    sweep_id         INTEGER NOT NULL REFERENCES sweeps (id),
    run_key          TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN
                         ('pending', 'running', 'completed', 'diverged', 'stopped', 'paused', 'failed',
                          'interrupted')),
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
    attempts         INTEGER NOT NULL DEFAULT 0,
    variant          TEXT,
    device           TEXT,
    device_name      TEXT,
    requested_device TEXT,
    host             TEXT,
    slurm_job        TEXT,
    UNIQUE (sweep_id, run_key)
);
INSERT INTO runs_rebuilt SELECT * FROM runs;
DROP TABLE runs;
ALTER TABLE runs_rebuilt RENAME TO runs;
CREATE INDEX runs_by_status ON runs (status);
CREATE TABLE verdicts (
    run_id     INTEGER NOT NULL REFERENCES runs (id),
    step       INTEGER NOT NULL,
    value      REAL NOT NULL,
    verdict    TEXT NOT NULL CHECK (verdict IN ('continue', 'stop', 'pause')),
    decided_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
"#,
        runs_wide!("r.requested_device, r.device, r.device_name, r.host, r.slurm_job,")
    ),
    // 9: how many of a run's attempts restarted it after a failure (`attempts` also counts
    // resumes of an interrupted sweep and promotions of a paused run).
    "ALTER TABLE runs ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;",
    // 10: each attempt of a run: when it started and ended, how it ended (the run's status
    // then; `failed` for a failure that was retried), and where it ran.
    r#"
CREATE TABLE attempts (
    run_id      INTEGER NOT NULL REFERENCES runs (id),
    attempt     INTEGER NOT NULL,
    started_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ended_at    TEXT,
    outcome     TEXT,
    device      TEXT,
    device_name TEXT,
    host        TEXT,
    slurm_job   TEXT,
    PRIMARY KEY (run_id, attempt)
) WITHOUT ROWID;
"#,
    // 11: the order verdicts were given or revised in, which a judge in run order rebuilds
    // its rungs from (rows written before have none and come first).
    "ALTER TABLE verdicts ADD COLUMN seq INTEGER;",
    // 12: why an attempt failed (the worker's exit, signal or last output).
    "ALTER TABLE attempts ADD COLUMN error TEXT;",
    // 13: each evaluation's first verdict, which a revision (a promotion, the sweep's end)
    // leaves as it was: where a run was first held, a `bayes` search's result for it.
    "ALTER TABLE verdicts ADD COLUMN first_verdict TEXT;",
    // 14: population-based training's exploits: the member that went on from its donor's
    // checkpoint at a step, both values there, its settings before and after (the run's
    // `config` holds the latest), how each changed, and whether the checkpoint was copied.
    r#"
CREATE TABLE exploits (
    run_id        INTEGER NOT NULL REFERENCES runs (id),
    step          INTEGER NOT NULL,
    value         REAL NOT NULL,
    donor_id      INTEGER NOT NULL REFERENCES runs (id),
    donor_value   REAL NOT NULL,
    config_before TEXT NOT NULL CHECK (json_valid(config_before)),
    config_after  TEXT NOT NULL CHECK (json_valid(config_after)),
    changes       TEXT NOT NULL CHECK (json_valid(changes)),
    copied        INTEGER NOT NULL DEFAULT 0,
    decided_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
"#,
];

/// The `runs_wide` view with one column per name in `settings`, each read from the run's
/// configuration; the other columns as migration 7 made them.
fn runs_wide_sql(settings: &[&str]) -> Result<String, StoreError> {
    if let Some(bad) = settings.iter().find(|s| {
        s.is_empty()
            || !s
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    }) {
        return Err(StoreError::BadColumnName(bad.to_string()));
    }
    let columns: String = settings
        .iter()
        .map(|name| format!("       json_extract(r.config, '$.{name}') AS \"{name}\",\n"))
        .collect();
    Ok(format!(
        "CREATE VIEW runs_wide AS
SELECT r.id AS run, s.name AS sweep, r.variant, r.status,
{columns}       r.train_loss, r.val_loss, r.test_loss,
       r.trainable_params AS params, r.steps_done, r.steps_per_sec,
       r.train_seconds, r.eval_seconds, r.wall_seconds, r.attempts, r.retries,
       r.backend, r.requested_device, r.device, r.device_name, r.host, r.slurm_job,
       r.threads, r.data_path, r.data_sha256, r.git_commit, r.run_key,
       r.created_at, r.started_at, r.finished_at, r.error
FROM runs r JOIN sweeps s ON s.id = r.sweep_id"
    ))
}

/// Makes `runs_wide` show `settings`, unless it does already: a setting declared by a newer
/// harness becomes a column the first time that harness writes, with no migration.
pub(super) fn define_runs_wide(store: &mut Store, settings: &[&str]) -> Result<(), StoreError> {
    let wanted = runs_wide_sql(settings)?;
    let tx = store.write()?;
    let current: Option<String> = tx
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'view' AND name = 'runs_wide'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    if current.as_deref() != Some(wanted.as_str()) {
        tx.execute_batch(&format!("DROP VIEW IF EXISTS runs_wide; {wanted};"))?;
    }
    tx.commit()?;
    Ok(())
}

pub(super) fn migrate(store: &mut Store) -> Result<(), StoreError> {
    let tx = store.write()?;
    let found = version(&tx)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema { found });
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version as i64 + 1)?;
    }
    let dangling: Option<String> = tx
        .query_row("SELECT \"table\" FROM pragma_foreign_key_check LIMIT 1", [], |row| {
            row.get(0)
        })
        .optional()?;
    if let Some(table) = dangling {
        return Err(StoreError::DanglingReference(table));
    }
    tx.commit()?;
    Ok(())
}

pub(super) fn version(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}
