//! How a session's workers are started: as child processes here (`local`), or as Slurm jobs
//! (`slurm`, each attempt one `srun`), with the options of the sweep file's `slurm:` section.
//! `check` runs before anything is stored or started: Slurm's `srun` is there, the partition
//! exists, and no run pins a GPU (Slurm chooses a job's GPU). `slurm` launches.

use std::fmt;
use std::process::Command;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::workers::placement::{DeviceRequest, Needs};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LauncherKind {
    /// Worker processes on this machine.
    #[default]
    Local,
    /// One `srun` job per run attempt, placed by Slurm.
    Slurm,
}

impl LauncherKind {
    const ALL: [Self; 2] = [Self::Local, Self::Slurm];

    fn name(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Slurm => "slurm",
        }
    }
}

impl fmt::Display for LauncherKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for LauncherKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|kind| kind.name() == s).ok_or_else(|| {
            let names: Vec<String> = Self::ALL.iter().map(|kind| format!("`{kind}`")).collect();
            format!("unknown launcher `{s}`; use {}", names.join(" or "))
        })
    }
}

/// The sweep file's `slurm:` section: what each `srun` asks for beyond the run's CPUs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlurmOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qos: Option<String>,
    /// Time limit of one attempt; unset: the sweep's `timeout` (plus a minute, so that the
    /// scheduler's own timeout ends the attempt first), else the partition's limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Duration>,
    /// Memory per job, as Slurm writes it (`4G`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    /// GPUs of a GPU run; default `gpu:1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gres: Option<String>,
    /// More `srun` arguments, as written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_args: Vec<String>,
}

/// Whether this process runs inside a Slurm allocation (`sbatch`, `salloc`): then each run
/// is a step of it rather than a job of its own.
pub fn in_allocation() -> bool {
    std::env::var_os("SLURM_JOB_ID").is_some_and(|id| !id.is_empty())
}

/// Whether a session can submit `needs` to Slurm with `options`: `srun` and `sinfo` are on
/// the PATH, the partition exists, and no run pins a GPU. One message naming what to change.
pub fn check(options: &SlurmOptions, needs: &Needs) -> Result<(), String> {
    if let Some((backend, request)) = needs.iter().find(|(_, r)| matches!(r, DeviceRequest::Gpu(_))) {
        return Err(format!(
            "the runs on backend `{backend}`, device `{request}`: under Slurm a GPU run asks for `cuda` and Slurm chooses the GPU"
        ));
    }
    let partitions = partitions()?;
    match &options.partition {
        Some(wanted) if !partitions.contains(wanted) => Err(format!(
            "Slurm has no partition `{wanted}` (it has: {}); fix `slurm.partition` in the sweep file",
            partitions.join(", ")
        )),
        _ => Ok(()),
    }
}

/// The cluster's partitions, as `sinfo` lists them (the default one without its `*`).
fn partitions() -> Result<Vec<String>, String> {
    let out = Command::new("sinfo")
        .args(["--noheader", "--format=%P"])
        .output()
        .map_err(|err| {
            format!("cannot run Slurm's `sinfo` ({err}): the slurm launcher needs Slurm's client commands on the PATH")
        })?;
    if !out.status.success() {
        return Err(format!(
            "Slurm's `sinfo` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| line.trim().trim_end_matches('*').to_string())
        .filter(|line| !line.is_empty())
        .collect())
}

/// `--time` for `srun`: whole minutes, rounded up.
pub fn minutes(limit: Duration) -> String {
    limit.as_secs().div_ceil(60).max(1).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launchers_read_and_print_by_name() {
        for kind in LauncherKind::ALL {
            assert_eq!(kind.to_string().parse(), Ok(kind));
        }
        assert!(
            "pbs"
                .parse::<LauncherKind>()
                .unwrap_err()
                .contains("`local` or `slurm`")
        );
    }

    #[test]
    fn slurm_time_is_whole_minutes_rounded_up() {
        assert_eq!(minutes(Duration::from_secs(90)), "2");
        assert_eq!(minutes(Duration::from_secs(3600)), "60");
        assert_eq!(minutes(Duration::from_secs(1)), "1");
    }

    #[test]
    fn a_pinned_gpu_is_refused_before_slurm_is_asked_anything() {
        let needs: Needs = [(model::Backend::Tch, DeviceRequest::Gpu(1))].into();
        let err = check(&SlurmOptions::default(), &needs).unwrap_err();
        assert!(
            err.contains("device `cuda:1`") && err.contains("asks for `cuda`"),
            "{err}"
        );
    }
}
