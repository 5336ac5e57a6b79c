//! Writes a run's progress into the store: curve points are buffered and written in one
//! transaction at each validation point (or every few seconds), not one per log step.
//! `PendingPoints` is that buffer, shared by `train` (through `Recorder`) and the sweep
//! scheduler.

use std::time::{Duration, Instant};

use model::Progress;
use results::{CurvePoint, RunId, RunResult, Split, Store, StoreError};

use crate::run::record::curve_point;

/// Points are written at each validation point, or once this long has passed.
const FLUSH_AFTER: Duration = Duration::from_secs(10);

/// Curve points not written yet.
pub struct PendingPoints {
    points: Vec<CurvePoint>,
    last_flush: Instant,
}

impl PendingPoints {
    pub fn new() -> Self {
        Self {
            points: Vec::new(),
            last_flush: Instant::now(),
        }
    }

    /// Adds the point of `progress`; true when the buffer is due to be written.
    pub fn push(&mut self, progress: &Progress) -> bool {
        let point = curve_point(progress);
        self.points.push(point);
        point.split == Split::Val || self.last_flush.elapsed() >= FLUSH_AFTER
    }

    /// The points to write now; the wait for the next write starts again.
    pub fn take(&mut self) -> Vec<CurvePoint> {
        self.last_flush = Instant::now();
        std::mem::take(&mut self.points)
    }
}

pub struct Recorder<'a> {
    store: &'a mut Store,
    run: RunId,
    pending: PendingPoints,
}

impl<'a> Recorder<'a> {
    pub fn new(store: &'a mut Store, run: RunId) -> Self {
        Self {
            store,
            run,
            pending: PendingPoints::new(),
        }
    }

    pub fn record(&mut self, progress: &Progress) -> Result<(), StoreError> {
        if self.pending.push(progress) {
            self.store.append_curve(self.run, &self.pending.take())?;
        }
        Ok(())
    }

    /// Writes the run's result together with the points not written yet.
    pub fn finish(mut self, result: &RunResult) -> Result<(), StoreError> {
        self.store.finish_run(self.run, result, &self.pending.take())
    }
}
