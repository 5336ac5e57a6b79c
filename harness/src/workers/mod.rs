//! How a run becomes a process: where it computes (`placement`: the CPU, a GPU of the pool, a
//! pinned GPU), the protocol between the scheduler and a worker (`protocol`), the `Launcher`
//! the scheduler starts workers through — child processes here (`launcher`) or Slurm jobs
//! (`slurm`), chosen and checked by `cluster` and made by `launcher_for` — and where a
//! worker finds itself (`host`).

pub mod cluster;
pub mod host;
pub mod launcher;
pub mod placement;
pub mod protocol;
pub mod slurm;

use std::path::PathBuf;
use std::time::Duration;

use cluster::{LauncherKind, SlurmOptions};
use launcher::{Launcher, ProcessLauncher};
use slurm::SlurmLauncher;

/// The launcher a session of `kind` starts its workers through: `exe worker` here, or in an
/// `srun` with the sweep file's `slurm:` options and each attempt's `timeout`.
pub fn launcher_for(
    kind: LauncherKind,
    exe: PathBuf,
    slurm: &SlurmOptions,
    timeout: Option<Duration>,
) -> Box<dyn Launcher> {
    match kind {
        LauncherKind::Local => Box::new(ProcessLauncher { exe }),
        LauncherKind::Slurm => Box::new(SlurmLauncher::new(exe, slurm, timeout)),
    }
}
