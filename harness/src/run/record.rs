//! What the store keeps of a run, made from the model's values, for `train` and the
//! sweep scheduler alike: the `NewRun` before it starts (with its key, the hash of what
//! decides its result: configuration, backend, device, data), `CurvePoint`s as it trains, and
//! the `RunResult` when it ends.

use model::{Backend, Ending, Outcome, Progress, TrainConfig};
use results::{CurvePoint, NewRun, RunResult, RunStatus, Split};

use crate::run::data_file::{LoadedData, sha256_hex};
use crate::run::placement::DeviceRequest;

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
