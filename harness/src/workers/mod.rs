//! How a run becomes a process: where it computes (`placement`: the CPU, a GPU of the pool, a
//! pinned GPU), the protocol between the scheduler and a worker (`protocol`), the `Launcher`
//! the scheduler starts workers through — child processes here (`launcher`) or Slurm jobs
//! (`slurm`), chosen and checked by `cluster` — and where a worker finds itself (`host`).

pub mod cluster;
pub mod host;
pub mod launcher;
pub mod placement;
pub mod protocol;
pub mod slurm;
