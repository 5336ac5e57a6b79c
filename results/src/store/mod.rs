//! Every SQL statement of the project lives in this module: the versioned schema
//! (`schema`), the writes of the one writer (`write`) and the reads (`read`, and `live` for
//! the dashboard). Writes go
//! through `BEGIN IMMEDIATE` transactions on a WAL database so readers never block the
//! writer, and the writer never waits on a half-done transaction of its own.

mod exploits;
mod live;
mod query;
mod read;
mod schema;
#[cfg(test)]
mod tests;
mod write;

pub use exploits::{ExploitRecord, starting_settings};
pub use query::{Cell, Table};
pub use schema::SCHEMA_VERSION;

use std::path::Path;
use std::time::Duration;

use rusqlite::limits::Limit;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::records::RunId;

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
    #[error(
        "the database has schema version {found}, older than this harness's ({SCHEMA_VERSION}); opening it for writing brings it up to date"
    )]
    OlderSchema { found: i64 },
    #[error("no run with id {0}")]
    NoSuchRun(RunId),
    #[error("run {run}'s evaluation at step {step} already has a verdict that cannot change")]
    JudgedTwice { run: RunId, step: u64 },
    #[error("the database is opened read-only here: only statements that read (SELECT, WITH …) run")]
    WriteRefused,
    #[error("migrating the database left a row of `{0}` pointing at nothing; nothing was changed (please report this)")]
    DanglingReference(String),
    #[error("`{0}` cannot be a column name (lowercase letters, digits and `_` only)")]
    BadColumnName(String),
    /// A write its caller's check refused, with the caller's reason.
    #[error("{0}")]
    Refused(String),
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
        // FULL: every committed transaction (a status change, curve points, a result) is on
        // disk before the commit returns, so a power cut loses nothing that was recorded.
        conn.pragma_update(None, "synchronous", "FULL")?;
        // Foreign keys off during the migrations (one that rebuilds a table needs them off;
        // rusqlite's SQLite has them on by default), then on.
        conn.pragma_update(None, "foreign_keys", false)?;
        let mut store = Self { conn };
        schema::migrate(&mut store)?;
        store.conn.pragma_update(None, "foreign_keys", true)?;
        Ok(store)
    }

    /// Gives the `runs_wide` view one column per run setting in `settings` (read from each
    /// run's configuration), replacing the view if it shows others.
    pub fn define_runs_wide(&mut self, settings: &[&str]) -> Result<(), StoreError> {
        schema::define_runs_wide(self, settings)
    }

    /// Opens an existing database, at the current schema version, for reading only.
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "query_only", true)?;
        // No ATTACH: a reader sees this database and nothing else.
        conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0)?;
        let found = schema::version(&conn)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema { found });
        }
        if found < SCHEMA_VERSION {
            return Err(StoreError::OlderSchema { found });
        }
        Ok(Self { conn })
    }

    fn write(&mut self) -> Result<Transaction<'_>, StoreError> {
        Ok(self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
    }

    pub fn schema_version(&self) -> Result<i64, StoreError> {
        schema::version(&self.conn)
    }
}
