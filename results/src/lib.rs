//! The results store: sweeps, their runs, loss curves and samples in one SQLite file.
//! `store` holds every SQL statement; `records` the plain values that go in and come out.
//! One process writes (WAL, `BEGIN IMMEDIATE`); readers open the file read-only.

pub mod records;
pub mod store;

pub use records::{
    CreatedSweep, CurvePoint, NewRun, NewSweep, RunId, RunRecord, RunResult, RunStatus, Split, SweepId, SweepKind,
    SweepRecord, SweepSummary,
};
pub use store::{SCHEMA_VERSION, Store, StoreError};
