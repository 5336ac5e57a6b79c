//! The scheduler's worker slots: `workers` on the CPU, and `runs_per_gpu` on each GPU of
//! the pool. A run takes a slot of the kind it asks for — `cuda` the least busy GPU, the
//! lowest-numbered on a tie — and gives it back when its worker exits.

use std::collections::HashMap;

use model::ComputeDevice;

use crate::run::placement::{DeviceRequest, GpuPool};

#[derive(Clone, Debug)]
pub struct Slots {
    cpu: usize,
    pool: GpuPool,
    busy: HashMap<ComputeDevice, usize>,
}

impl Slots {
    pub fn new(cpu_workers: usize, pool: GpuPool) -> Self {
        Self {
            cpu: cpu_workers,
            pool,
            busy: HashMap::new(),
        }
    }

    /// The device a run asking for `request` would get now, if a slot is free.
    pub fn free(&self, request: DeviceRequest) -> Option<ComputeDevice> {
        let load = |device| self.busy.get(&device).copied().unwrap_or(0);
        match request {
            DeviceRequest::Cpu => (load(ComputeDevice::Cpu) < self.cpu).then_some(ComputeDevice::Cpu),
            DeviceRequest::AnyGpu => self
                .pool
                .gpus
                .iter()
                .map(|&gpu| ComputeDevice::Cuda(gpu))
                .filter(|&gpu| load(gpu) < self.pool.runs_per_gpu)
                .min_by_key(|&gpu| load(gpu)),
            DeviceRequest::Gpu(index) => {
                let gpu = ComputeDevice::Cuda(index);
                (self.pool.gpus.contains(&index) && load(gpu) < self.pool.runs_per_gpu).then_some(gpu)
            }
        }
    }

    /// Whether a run asking for `request` could ever get a slot.
    pub fn exists(&self, request: DeviceRequest) -> bool {
        match request {
            DeviceRequest::Cpu => self.cpu > 0,
            DeviceRequest::AnyGpu => self.pool.slots() > 0,
            DeviceRequest::Gpu(index) => self.pool.runs_per_gpu > 0 && self.pool.gpus.contains(&index),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(cpu: usize, gpus: &[usize], runs_per_gpu: usize) -> Slots {
        Slots::new(
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
}
