//! What the store keeps of a run, and when it is written, for `train` and the sweep scheduler
//! alike: the `NewRun` before it starts (with its key, the hash of what decides its result:
//! configuration, backend, device, data), `CurvePoint`s as it trains — buffered in
//! `PendingPoints` and written in one transaction at each validation point (or every few
//! seconds), not one per log step — and the `RunResult` when it ends.

use std::time::{Duration, Instant};

use model::{Backend, Ending, Outcome, Progress, TrainConfig};
use results::{CurvePoint, NewRun, RunId, RunResult, RunStatus, Split, Store, StoreError};

use crate::data_file::{LoadedData, sha256_hex};
use crate::workers::placement::DeviceRequest;

pub fn new_run(
    config: &TrainConfig,
    variant: Option<String>,
    backend: Backend,
    device: DeviceRequest,
    threads: usize,
    data: &LoadedData,
) -> NewRun {
    // Only what means something for this run: `beta1` of an SGD run would be noise in tables.
    let config_json = serde_json::to_string(&config.applicable_settings()).expect("a config always serializes");
    NewRun {
        run_key: sha256_hex(format!("{config_json}|{backend}|{device}|{}", data.sha256).as_bytes()),
        config_json,
        backend: backend.to_string(),
        requested_device: device.to_string(),
        threads,
        data_path: data.path.display().to_string(),
        data_sha256: data.sha256.clone(),
        git_commit: option_env!("HARNESS_GIT_COMMIT").map(String::from),
        trainable_params: config.trainable_params(data.dataset.vocab().size()),
        variant,
    }
}

pub fn curve_point(progress: &Progress) -> CurvePoint {
    match *progress {
        Progress::Train { step, loss } => CurvePoint {
            split: Split::Train,
            step,
            loss,
        },
        Progress::Val { step, loss } => CurvePoint {
            split: Split::Val,
            step,
            loss,
        },
    }
}

pub fn run_result(outcome: &Outcome, wall_seconds: f64) -> RunResult {
    RunResult {
        status: match outcome.ending {
            Ending::Completed => RunStatus::Completed,
            Ending::Diverged => RunStatus::Diverged,
            Ending::Stopped => RunStatus::Stopped,
            Ending::Interrupted => RunStatus::Interrupted,
        },
        steps_done: outcome.steps_done,
        losses: outcome.losses.map(|l| [l.train, l.val, l.test]),
        train_seconds: outcome.train_seconds,
        eval_seconds: outcome.eval_seconds,
        wall_seconds,
        steps_per_sec: outcome.steps_per_second(),
        samples: outcome.samples.clone(),
        error: None,
    }
}

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
