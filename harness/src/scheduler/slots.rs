//! The scheduler's worker slots. Here (`local`): `workers` on the CPU, and `runs_per_gpu` on
//! each GPU of the pool; a run takes a slot of the kind it asks for — `cuda` the least busy
//! GPU, the lowest-numbered on a tie — and gives it back when its worker exits. On a cluster:
//! at most `cap` runs submitted at once, of any kind; the cluster places them, and a GPU run
//! computes on the first GPU its job is given.

use std::collections::HashMap;
use std::fmt;

use model::ComputeDevice;

use crate::workers::placement::{DeviceRequest, GpuPool};

#[derive(Clone, Debug)]
pub struct Slots {
    kind: Kind,
    busy: HashMap<ComputeDevice, usize>,
}

#[derive(Clone, Debug)]
enum Kind {
    Local { cpu: usize, pool: GpuPool },
    Cluster { cap: Option<usize> },
}

impl Slots {
    /// `cpu_workers` CPU slots and the GPU pool's, on this machine.
    pub fn local(cpu_workers: usize, pool: GpuPool) -> Self {
        Self::of(Kind::Local { cpu: cpu_workers, pool })
    }

    /// Runs submitted to a cluster, at most `cap` at once (`None`: the cluster queues them).
    pub fn cluster(cap: Option<usize>) -> Self {
        Self::of(Kind::Cluster { cap })
    }

    fn of(kind: Kind) -> Self {
        Self {
            kind,
            busy: HashMap::new(),
        }
    }

    fn load(&self, device: ComputeDevice) -> usize {
        self.busy.get(&device).copied().unwrap_or(0)
    }

    /// The device a run asking for `request` would get now, if a slot is free.
    pub fn free(&self, request: DeviceRequest) -> Option<ComputeDevice> {
        match &self.kind {
            Kind::Local { cpu, pool } => match request {
                DeviceRequest::Cpu => (self.load(ComputeDevice::Cpu) < *cpu).then_some(ComputeDevice::Cpu),
                DeviceRequest::AnyGpu => pool
                    .gpus
                    .iter()
                    .map(|&gpu| ComputeDevice::Cuda(gpu))
                    .filter(|&gpu| self.load(gpu) < pool.runs_per_gpu)
                    .min_by_key(|&gpu| self.load(gpu)),
                DeviceRequest::Gpu(index) => {
                    let gpu = ComputeDevice::Cuda(index);
                    (pool.gpus.contains(&index) && self.load(gpu) < pool.runs_per_gpu).then_some(gpu)
                }
            },
            Kind::Cluster { cap } => {
                let submitted: usize = self.busy.values().sum();
                let device = match request {
                    DeviceRequest::Cpu => ComputeDevice::Cpu,
                    DeviceRequest::AnyGpu => ComputeDevice::Cuda(0),
                    DeviceRequest::Gpu(_) => return None,
                };
                cap.is_none_or(|cap| submitted < cap).then_some(device)
            }
        }
    }

    /// Whether any slot at all is free: when none is, no queued run can start, and the
    /// scheduler need not look through its queue.
    pub fn any_free(&self) -> bool {
        match &self.kind {
            Kind::Local { cpu, pool } => {
                self.load(ComputeDevice::Cpu) < *cpu
                    || pool
                        .gpus
                        .iter()
                        .any(|&gpu| self.load(ComputeDevice::Cuda(gpu)) < pool.runs_per_gpu)
            }
            Kind::Cluster { cap } => cap.is_none_or(|cap| self.busy.values().sum::<usize>() < cap),
        }
    }

    /// Whether a run asking for `request` could ever get a slot.
    pub fn exists(&self, request: DeviceRequest) -> bool {
        match (&self.kind, request) {
            (Kind::Local { cpu, .. }, DeviceRequest::Cpu) => *cpu > 0,
            (Kind::Local { pool, .. }, DeviceRequest::AnyGpu) => pool.slots() > 0,
            (Kind::Local { pool, .. }, DeviceRequest::Gpu(index)) => {
                pool.runs_per_gpu > 0 && pool.gpus.contains(&index)
            }
            (Kind::Cluster { cap }, request) => cap != &Some(0) && !matches!(request, DeviceRequest::Gpu(_)),
        }
    }

    pub fn take(&mut self, device: ComputeDevice) {
        *self.busy.entry(device).or_default() += 1;
    }

    pub fn release(&mut self, device: ComputeDevice) {
        if let Some(load) = self.busy.get_mut(&device) {
            *load = load.saturating_sub(1);
        }
    }
}

impl fmt::Display for Slots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Local { cpu, pool } => write!(f, "{cpu} CPU slots, {pool}"),
            Kind::Cluster { cap: Some(cap) } => write!(f, "at most {cap} cluster jobs at once"),
            Kind::Cluster { cap: None } => f.write_str("cluster jobs"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(cpu: usize, gpus: &[usize], runs_per_gpu: usize) -> Slots {
        Slots::local(
            cpu,
            GpuPool {
                gpus: gpus.to_vec(),
                runs_per_gpu,
            },
        )
    }

    #[test]
    fn any_gpu_goes_to_the_least_busy_gpu_of_the_pool() {
        let mut slots = slots(1, &[2, 5], 2);
        let mut given = Vec::new();
        while let Some(gpu) = slots.free(DeviceRequest::AnyGpu) {
            slots.take(gpu);
            given.push(gpu);
        }
        use ComputeDevice::Cuda;
        assert_eq!(given, [Cuda(2), Cuda(5), Cuda(2), Cuda(5)]);
        slots.release(Cuda(5));
        assert_eq!(slots.free(DeviceRequest::AnyGpu), Some(Cuda(5)));
        assert_eq!(slots.free(DeviceRequest::Gpu(2)), None);
        assert_eq!(slots.free(DeviceRequest::Cpu), Some(ComputeDevice::Cpu));
    }

    #[test]
    fn a_gpu_outside_the_pool_never_has_a_slot() {
        let slots = slots(1, &[0], 1);
        assert_eq!(slots.free(DeviceRequest::Gpu(1)), None);
        assert!(!slots.exists(DeviceRequest::Gpu(1)));
        assert!(slots.exists(DeviceRequest::Gpu(0)));
        assert!(!self::slots(1, &[], 1).exists(DeviceRequest::AnyGpu));
    }

    #[test]
    fn a_cluster_takes_any_run_up_to_its_cap_and_no_pinned_gpu() {
        let mut capped = Slots::cluster(Some(2));
        assert_eq!(capped.free(DeviceRequest::AnyGpu), Some(ComputeDevice::Cuda(0)));
        capped.take(ComputeDevice::Cuda(0));
        capped.take(ComputeDevice::Cpu);
        assert_eq!(capped.free(DeviceRequest::Cpu), None, "two submitted: the cap");
        capped.release(ComputeDevice::Cpu);
        assert_eq!(capped.free(DeviceRequest::Cpu), Some(ComputeDevice::Cpu));
        let open = Slots::cluster(None);
        assert!(open.exists(DeviceRequest::AnyGpu) && !open.exists(DeviceRequest::Gpu(1)));
        assert_eq!(open.free(DeviceRequest::Gpu(1)), None);
    }
}
