//! How a session starts its workers and how many at once: here, CPU worker slots with their
//! threads and the GPU pool with its runs per GPU; on Slurm, at most `workers` jobs (no cap
//! by default). `SlotArgs` are the flags `launch` and `resume` share; `resolve` takes each
//! from the command line, else the sweep's settings, else the machine, and checks the
//! backends, the GPUs or the cluster before anything is stored or started.

use anyhow::anyhow;
use clap::Args;
use clap::builder::TypedValueParser;

use crate::error::usage;
use crate::scheduler::Slots;
use crate::spec::SweepSettings;
use crate::workers::cluster::{self, LauncherKind};
use crate::workers::placement::{self, GpuPool, Needs};

#[derive(Debug, Args)]
pub struct SlotArgs {
    /// Where workers run: here, or as Slurm jobs [default: the sweep's `launcher`, else local]
    #[arg(long, value_enum)]
    pub launcher: Option<LauncherKind>,
    /// CPU worker slots; on Slurm the most jobs at once [default: the sweep's `workers`, else one per core, less one per GPU slot; on Slurm no cap]
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024).map(usize::from))]
    pub workers: Option<usize>,
    /// CPU threads per CPU worker [default: the sweep's `threads`, else cores / workers]
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024).map(usize::from))]
    pub threads: Option<usize>,
    /// GPUs for GPU runs, as CUDA indices [default: the sweep's `gpus`, else every GPU]
    #[arg(long, value_delimiter = ',', value_name = "N,N…", value_parser = clap::value_parser!(u16).range(0..1024).map(usize::from))]
    pub gpus: Option<Vec<usize>>,
    /// Runs at once on each GPU [default: the sweep's `runs_per_gpu`, else 1]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024).map(usize::from))]
    pub runs_per_gpu: Option<usize>,
}

/// The slots of one session.
#[derive(Clone, Debug)]
pub struct WorkerSlots {
    pub launcher: LauncherKind,
    /// CPU worker slots here (always set); on Slurm the most jobs at once (`None`: no cap).
    pub workers: Option<usize>,
    /// CPU threads of each CPU run.
    pub threads: usize,
    /// GPUs here for GPU runs (empty on Slurm, which chooses a job's GPU).
    pub gpus: GpuPool,
}

impl WorkerSlots {
    /// The scheduler's slots for this session.
    pub fn slots(&self) -> Slots {
        match self.launcher {
            LauncherKind::Local => Slots::local(self.workers.unwrap_or(1), self.gpus.clone()),
            LauncherKind::Slurm => Slots::cluster(self.workers),
        }
    }
}

impl SlotArgs {
    /// The slots for runs needing `needs`; a backend or GPU they need that is not here is a
    /// usage error.
    pub fn resolve(&self, settings: &SweepSettings, needs: &Needs) -> anyhow::Result<WorkerSlots> {
        self.resolve_on(settings, needs, cores())
    }

    /// `resolve` on a machine with `cores` cores.
    fn resolve_on(&self, settings: &SweepSettings, needs: &Needs, cores: usize) -> anyhow::Result<WorkerSlots> {
        let launcher = self.launcher.unwrap_or(settings.launcher);
        if launcher == LauncherKind::Slurm {
            placement::check_backends(needs).map_err(|e| usage(anyhow!(e)))?;
            cluster::check(&settings.slurm, needs).map_err(|e| usage(anyhow!(e)))?;
            return Ok(WorkerSlots {
                launcher,
                workers: self.workers.or(settings.workers),
                threads: self.threads.or(settings.threads).unwrap_or(1),
                gpus: GpuPool::default(),
            });
        }
        let given = self.gpus.as_deref().unwrap_or_default();
        if let Some(twice) = (1..given.len()).find(|&i| given[..i].contains(&given[i])) {
            return Err(usage(anyhow!("--gpus lists GPU {} twice", given[twice])));
        }
        let gpus = self.gpus.as_deref().or(settings.gpus.as_deref());
        let gpus = GpuPool::resolve(gpus, self.runs_per_gpu.unwrap_or(settings.runs_per_gpu), needs);
        placement::check(needs, &gpus).map_err(|e| usage(anyhow!(e)))?;
        let workers = self
            .workers
            .or(settings.workers)
            .unwrap_or_else(|| default_workers(&gpus, needs, cores));
        let threads = self.threads.or(settings.threads).unwrap_or(cores / workers).max(1);
        Ok(WorkerSlots {
            launcher,
            workers: Some(workers),
            threads,
            gpus,
        })
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// One CPU worker per core, less one per GPU slot when runs need a GPU (each GPU worker keeps
/// a core busy feeding its GPU).
fn default_workers(pool: &GpuPool, needs: &Needs, cores: usize) -> usize {
    let gpu_slots = if needs.iter().any(|(_, request)| request.is_gpu()) {
        pool.slots()
    } else {
        0
    };
    cores.saturating_sub(gpu_slots).max(1)
}

#[cfg(test)]
mod tests {
    use model::Backend;

    use super::*;
    use crate::workers::placement::DeviceRequest;

    fn args(workers: Option<usize>, gpus: Option<Vec<usize>>, runs_per_gpu: Option<usize>) -> SlotArgs {
        SlotArgs {
            launcher: None,
            workers,
            threads: None,
            gpus,
            runs_per_gpu,
        }
    }

    #[test]
    fn the_command_line_wins_over_the_sweeps_settings_which_win_over_the_machine() {
        let cpu: Needs = [(Backend::Flex, DeviceRequest::Cpu)].into();
        let settings = SweepSettings {
            workers: Some(3),
            gpus: Some(vec![0]),
            runs_per_gpu: 2,
            ..SweepSettings::default()
        };
        let given = args(Some(5), Some(vec![1, 2]), Some(4))
            .resolve_on(&settings, &cpu, 8)
            .unwrap();
        assert_eq!(
            (given.workers, given.gpus.gpus, given.gpus.runs_per_gpu),
            (Some(5), vec![1, 2], 4)
        );
        let stored = args(None, None, None).resolve_on(&settings, &cpu, 8).unwrap();
        assert_eq!(
            (stored.workers, stored.gpus.gpus, stored.gpus.runs_per_gpu),
            (Some(3), vec![0], 2)
        );
        assert_eq!(stored.threads, 2, "8 cores shared by 3 workers");
        let machine = args(None, None, None)
            .resolve_on(&SweepSettings::default(), &cpu, 8)
            .unwrap();
        assert_eq!((machine.workers, machine.threads), (Some(8), 1));
        let one_core = args(Some(4), None, None)
            .resolve_on(&SweepSettings::default(), &cpu, 1)
            .unwrap();
        assert_eq!(one_core.threads, 1, "never 0 threads");
        let twice = args(None, Some(vec![0, 1, 0]), None)
            .resolve_on(&settings, &cpu, 8)
            .unwrap_err();
        assert_eq!(twice.to_string(), "--gpus lists GPU 0 twice");
    }

    #[test]
    fn gpu_runs_leave_a_core_per_gpu_slot_to_feed_the_gpus() {
        let pool = GpuPool {
            gpus: vec![0, 1],
            runs_per_gpu: 2,
        };
        let gpu: Needs = [(Backend::Tch, DeviceRequest::AnyGpu)].into();
        let cpu: Needs = [(Backend::Flex, DeviceRequest::Cpu)].into();
        assert_eq!(default_workers(&pool, &gpu, 16), 12);
        assert_eq!(default_workers(&pool, &gpu, 2), 1, "at least one CPU worker");
        assert_eq!(default_workers(&pool, &cpu, 16), 16);
    }
}
