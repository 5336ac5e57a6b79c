//! Where a worker runs: this machine's host name and, when Slurm started it, its Slurm job
//! (`1234`, or `1234.5` for a step of an allocation the scheduler itself runs in — the
//! Slurm launcher tells the worker so through `HARNESS_SLURM_STEP`).

/// Set by the Slurm launcher for workers that run as steps of the scheduler's allocation.
pub const STEP_VAR: &str = "HARNESS_SLURM_STEP";

/// The machine's host name (`/proc/sys/kernel/hostname`), else `localhost`.
pub fn name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// The Slurm job this process runs in, as `scancel` names it; `None` outside Slurm.
pub fn slurm_job() -> Option<String> {
    let job = std::env::var("SLURM_JOB_ID").ok().filter(|id| !id.is_empty())?;
    match std::env::var("SLURM_STEP_ID") {
        Ok(step) if std::env::var_os(STEP_VAR).is_some() => Some(format!("{job}.{step}")),
        _ => Some(job),
    }
}
