//! The Slurm launcher: each run attempt is one `srun` running `harness worker` on a compute
//! node, with the same JSON job on stdin and JSON-line events on stdout as a local worker —
//! a job of its own, or a step of the scheduler's allocation when `harness` itself runs in
//! `sbatch`/`salloc`. Stopping asks the job to checkpoint (`scancel --signal=TERM`); killing
//! ends `srun`, which makes Slurm cancel the job at once.

use std::io;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use model::{ComputeDevice, Verdict};

use super::launcher::{Launcher, MessageSender, ProcessControl, WorkerControl, spawn};
use crate::workers::cluster::{self, SlurmOptions};
use crate::workers::host;
use crate::workers::protocol::Job;

/// Time a job is given beyond the sweep's `timeout`, so that the scheduler ends a late
/// attempt itself (and says so) before Slurm's limit does.
const TIMEOUT_GRACE: Duration = Duration::from_secs(60);

pub struct SlurmLauncher {
    exe: PathBuf,
    options: SlurmOptions,
    /// Each attempt's time limit (`slurm.time`, else the sweep's timeout and some grace).
    time: Option<Duration>,
    /// Runs are steps of the allocation `harness` runs in, not jobs of their own.
    in_allocation: bool,
}

impl SlurmLauncher {
    /// Attempts of `exe` with the sweep file's `slurm:` options and its `timeout`.
    pub fn new(exe: PathBuf, options: &SlurmOptions, timeout: Option<Duration>) -> Self {
        Self {
            exe,
            options: options.clone(),
            time: options.time.or(timeout.map(|t| t + TIMEOUT_GRACE)),
            in_allocation: cluster::in_allocation(),
        }
    }

    /// `srun`'s arguments for `job`, before the command it runs.
    fn arguments(&self, job: &Job) -> Vec<String> {
        let mut args = vec![
            format!("--job-name=harness-run-{}", job.run_id),
            "--ntasks=1".into(),
            format!("--cpus-per-task={}", job.threads),
            // Slurm's own lines ("queued and waiting") stay out of the worker's error tail.
            "--quiet".into(),
        ];
        if matches!(job.device, ComputeDevice::Cuda(_)) {
            let gres = self.options.gres.as_deref().unwrap_or("gpu:1");
            args.push(format!("--gres={gres}"));
        }
        if let Some(mem) = &self.options.mem {
            args.push(format!("--mem={mem}"));
        }
        if self.in_allocation {
            // A step takes only what it asks for, so that steps share the allocation.
            args.push("--exact".into());
        } else {
            let options = [
                ("partition", &self.options.partition),
                ("account", &self.options.account),
                ("qos", &self.options.qos),
                ("constraint", &self.options.constraint),
            ];
            args.extend(
                options
                    .into_iter()
                    .filter_map(|(name, value)| Some(format!("--{name}={}", value.as_ref()?))),
            );
            if let Some(time) = self.time {
                args.push(format!("--time={}", cluster::minutes(time)));
            }
        }
        args.extend(self.options.extra_args.iter().cloned());
        args
    }
}

impl Launcher for SlurmLauncher {
    fn start(&self, job: &Job, messages: MessageSender) -> io::Result<Box<dyn WorkerControl>> {
        let mut command = tokio::process::Command::new("srun");
        command.args(self.arguments(job)).arg(&self.exe).arg("worker");
        if self.in_allocation {
            command.env(host::STEP_VAR, "1");
        }
        let spawned = spawn(command, job, messages)?;
        Ok(Box::new(SlurmControl {
            srun: spawned.process,
            job: spawned.slurm_job,
        }))
    }
}

struct SlurmControl {
    srun: ProcessControl,
    /// The job (or `job.step`) as the worker reported it once it started.
    job: Arc<OnceLock<String>>,
}

impl WorkerControl for SlurmControl {
    fn stop(&mut self) {
        match self.job.get() {
            // The worker checkpoints and stops at its next log point, as a local one does.
            Some(job) => {
                let _ = std::process::Command::new("scancel")
                    .args(["--signal=TERM", job])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
            // Still queued, or not yet started: nothing to save.
            None => self.srun.kill(),
        }
    }

    fn kill(&mut self) {
        // Slurm cancels the job of an `srun` that dies.
        self.srun.kill();
    }

    fn send_verdict(&mut self, verdict: Verdict) {
        // srun forwards its stdin to the worker.
        self.srun.send_verdict(verdict);
    }
}

#[cfg(test)]
mod tests {
    use model::{Backend, TrainConfig, TrainOptions};

    use super::*;

    fn job(device: ComputeDevice) -> Job {
        Job {
            run_id: 7,
            config: TrainConfig::try_from(TrainOptions::default()).unwrap(),
            backend: Backend::Tch,
            device,
            threads: 2,
            data_path: PathBuf::from("names.txt"),
            data_sha256: String::new(),
            checkpoint: PathBuf::from("run-7.ckpt"),
            checkpoint_every: 100,
            judged: false,
            settings_change: false,
        }
    }

    fn launcher(options: SlurmOptions, in_allocation: bool) -> SlurmLauncher {
        SlurmLauncher {
            exe: PathBuf::from("/opt/harness"),
            time: Some(Duration::from_secs(90)),
            options,
            in_allocation,
        }
    }

    #[test]
    fn a_job_asks_for_the_runs_cpus_a_gpu_for_a_gpu_run_and_the_files_options() {
        let options = SlurmOptions {
            partition: Some("gpu".into()),
            account: Some("lab".into()),
            mem: Some("4G".into()),
            extra_args: vec!["--nice=10".into()],
            ..SlurmOptions::default()
        };
        let args = launcher(options.clone(), false).arguments(&job(ComputeDevice::Cuda(0)));
        assert_eq!(
            args,
            [
                "--job-name=harness-run-7",
                "--ntasks=1",
                "--cpus-per-task=2",
                "--quiet",
                "--gres=gpu:1",
                "--mem=4G",
                "--partition=gpu",
                "--account=lab",
                "--time=2",
                "--nice=10"
            ]
        );
        // A step of the scheduler's allocation: no job-level options.
        let step = launcher(options, true).arguments(&job(ComputeDevice::Cpu));
        assert!(step.contains(&"--exact".to_string()), "{step:?}");
        assert!(
            !step
                .iter()
                .any(|a| a.starts_with("--partition") || a.starts_with("--time"))
        );
        assert!(
            !step.iter().any(|a| a.starts_with("--gres")),
            "a CPU run asks for no GPU"
        );
    }

    #[test]
    fn the_time_limit_is_slurm_time_else_the_timeout_with_grace() {
        let timeout = Some(Duration::from_secs(600));
        let mut options = SlurmOptions::default();
        assert_eq!(
            SlurmLauncher::new(PathBuf::new(), &options, timeout).time,
            Some(Duration::from_secs(660))
        );
        options.time = Some(Duration::from_secs(120));
        assert_eq!(
            SlurmLauncher::new(PathBuf::new(), &options, timeout).time,
            Some(Duration::from_secs(120))
        );
    }
}
