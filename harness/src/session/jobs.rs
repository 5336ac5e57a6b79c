//! What every run's job of a session shares — threads, the checkpoint folder and interval,
//! whether it is judged and whether its settings may change — and how a stored run becomes
//! the job the scheduler queues: for the runs a session starts with (`sweep`) and those the
//! proposers add (`proposer`).

use std::path::PathBuf;

use model::{Backend, ComputeDevice, TrainConfig};
use results::RunId;

use crate::scheduler::QueuedRun;
use crate::workers::placement::DeviceRequest;
use crate::workers::protocol::Job;

/// What every run's job of a session shares.
pub struct JobTemplate {
    pub threads: usize,
    /// Where checkpoints go.
    pub dir: PathBuf,
    pub checkpoint_every: u64,
    pub judged: bool,
    /// Population-based training changes runs' settings at exploits.
    pub settings_change: bool,
}

impl JobTemplate {
    /// A stored run as the scheduler queues it; `data`: path and sha256.
    pub fn queued(
        &self,
        id: RunId,
        label: String,
        config: TrainConfig,
        (backend, request): (Backend, DeviceRequest),
        (data_path, data_sha256): (PathBuf, String),
    ) -> QueuedRun {
        QueuedRun {
            id,
            label,
            request,
            failures: 0,
            job: Job {
                run_id: id.0,
                config,
                backend,
                // The scheduler gives a GPU run its GPU when a slot is free.
                device: ComputeDevice::Cpu,
                // A GPU run's worker only feeds its GPU.
                threads: if request.is_gpu() { 1 } else { self.threads },
                data_path,
                data_sha256,
                checkpoint: self.dir.join(format!("run-{id}.ckpt")),
                checkpoint_every: self.checkpoint_every,
                judged: self.judged,
                settings_change: self.settings_change,
            },
        }
    }
}
