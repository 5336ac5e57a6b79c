//! The protocol between the scheduler and a worker process (the hidden `harness worker`):
//! the scheduler writes one `Job` as a JSON line on the worker's stdin; the worker answers
//! with `Event`s, one JSON line each, on stdout, ending with `Finished` and exit status 0,
//! or with a message on stderr and a non-zero status. A judged job (early termination)
//! waits after each evaluation (`AwaitingVerdict`) for a `Verdict` line on its stdin.

use std::path::PathBuf;

use model::{Backend, ComputeDevice, Outcome, Progress, TrainConfig};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    /// The run's id in the store, for messages.
    pub run_id: i64,
    pub config: TrainConfig,
    pub backend: Backend,
    pub device: ComputeDevice,
    pub threads: usize,
    pub data_path: PathBuf,
    /// The data as the sweep recorded it; a file that changed since is refused.
    pub data_sha256: String,
    /// Resumed from if it exists; written every `checkpoint_every` steps and at the end.
    pub checkpoint: PathBuf,
    pub checkpoint_every: u64,
    /// The sweep terminates runs early: wait for a verdict after each evaluation.
    #[serde(default)]
    pub judged: bool,
    /// The run's settings may change between sessions (population-based training): it
    /// resumes with `config` where only settings that may change part-way differ from its
    /// checkpoint's. Otherwise a checkpoint of another configuration is refused.
    #[serde(default)]
    pub settings_change: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Training starts (or resumes) after `steps_done` steps; `history` is the curve so
    /// far, from the checkpoint (empty for a fresh start).
    Started {
        /// Where the worker computes, and that processor's name.
        device: ComputeDevice,
        device_name: String,
        /// The machine it runs on, and its Slurm job when Slurm started it.
        #[serde(default)]
        host: String,
        #[serde(default)]
        slurm_job: Option<String>,
        steps_done: u64,
        trainable_params: usize,
        history: Vec<Progress>,
    },
    Point {
        progress: Progress,
    },
    /// Everything up to `step` is in the checkpoint file.
    Checkpointed {
        step: u64,
    },
    /// The run evaluated at `step` (and checkpointed there); it waits for a `Verdict` line.
    AwaitingVerdict {
        step: u64,
    },
    Finished {
        outcome: Outcome,
    },
}
