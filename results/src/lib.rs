//! The results store: sweeps, their runs, loss curves and samples in one SQLite file.
//! `store` holds every SQL statement; `records` the plain values that go in and come out;
//! `summary` the numbers that tables and plots are made of; `plot` draws them as PNGs.
//! One process writes (WAL, `BEGIN IMMEDIATE`); readers open the file read-only.

pub mod parallel_coords;
pub mod plot;
pub mod records;
pub mod store;
pub mod summary;

pub use records::{
    AttemptRecord, CreatedSweep, CurvePoint, Decision, Loss, NewRun, NewSweep, RanOn, RunId, RunRecord, RunResult,
    RunStatus, Split, SweepId, SweepKind, SweepRecord, SweepSpan, SweepSummary, VerdictRecord,
};
pub use rusqlite::ToSql;
pub use store::{Cell, ExploitRecord, SCHEMA_VERSION, Store, StoreError, Table, starting_settings};
