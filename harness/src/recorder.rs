//! Writes a run's progress into the store: curve points are buffered and written in one
//! transaction at each validation point (or every few seconds), not one per log step.

use std::time::{Duration, Instant};

use model::Progress;
use results::{CurvePoint, RunId, RunResult, Split, Store, StoreError};

use crate::record::curve_point;

const FLUSH_AFTER: Duration = Duration::from_secs(10);

pub struct Recorder<'a> {
    store: &'a mut Store,
    run: RunId,
    pending: Vec<CurvePoint>,
    last_flush: Instant,
}

impl<'a> Recorder<'a> {
    pub fn new(store: &'a mut Store, run: RunId) -> Self {
        Self {
            store,
            run,
            pending: Vec::new(),
            last_flush: Instant::now(),
        }
    }

    pub fn record(&mut self, progress: &Progress) -> Result<(), StoreError> {
        let point = curve_point(progress);
        self.pending.push(point);
        if point.split == Split::Val || self.last_flush.elapsed() >= FLUSH_AFTER {
            self.store.append_curve(self.run, &self.pending)?;
            self.pending.clear();
            self.last_flush = Instant::now();
        }
        Ok(())
    }

    /// Writes the run's result together with the points not written yet.
    pub fn finish(self, result: &RunResult) -> Result<(), StoreError> {
        self.store.finish_run(self.run, result, &self.pending)
    }
}
