//! Where a sweep's runs compute: each run asks for the CPU, any GPU of the sweep's pool
//! (`cuda`), or one GPU (`cuda:N`); the pool is `gpus` (else every GPU the backends see) with
//! `runs_per_gpu` slots each. `check` refuses a queue the hardware cannot run, before
//! anything is stored or started; `scheduler::slots` hands out the devices.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use model::{Backend, BackendError, ComputeDevice};

/// The (backend, device) pairs a sweep's runs ask for.
pub type Needs = BTreeSet<(Backend, DeviceRequest)>;

/// The device a run asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeviceRequest {
    Cpu,
    /// Whichever GPU of the pool has a free slot first.
    AnyGpu,
    /// This GPU (it must be in the pool).
    Gpu(usize),
}

impl DeviceRequest {
    /// What a run of `backend` asks for when the sweep says nothing: a GPU for `cuda` and
    /// `vulkan`, else the CPU.
    pub fn default_for(backend: Backend) -> Self {
        match backend.default_device().into() {
            Self::Gpu(_) => Self::AnyGpu,
            cpu => cpu,
        }
    }

    pub fn is_gpu(self) -> bool {
        self != Self::Cpu
    }

    /// A device of the kind asked for, to check a backend against (`Gpu(0)` for any GPU).
    fn kind(self) -> ComputeDevice {
        match self {
            Self::Cpu => ComputeDevice::Cpu,
            Self::AnyGpu => ComputeDevice::Cuda(0),
            Self::Gpu(index) => ComputeDevice::Cuda(index),
        }
    }

    /// `backend` can compute on this kind of device (no hardware is asked: that is `check`'s job).
    pub fn suits(self, backend: Backend) -> Result<(), BackendError> {
        backend.supports(self.kind())
    }
}

impl From<ComputeDevice> for DeviceRequest {
    fn from(device: ComputeDevice) -> Self {
        match device {
            ComputeDevice::Cpu => Self::Cpu,
            ComputeDevice::Cuda(index) => Self::Gpu(index),
        }
    }
}

impl fmt::Display for DeviceRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cpu => f.write_str("cpu"),
            Self::AnyGpu => f.write_str("cuda"),
            Self::Gpu(index) => write!(f, "cuda:{index}"),
        }
    }
}

impl FromStr for DeviceRequest {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "cuda" => Ok(Self::AnyGpu),
            _ => match s.parse::<ComputeDevice>() {
                Ok(ComputeDevice::Cpu) => Ok(Self::Cpu),
                Ok(ComputeDevice::Cuda(index)) => Ok(Self::Gpu(index)),
                Err(_) => Err(format!(
                    "unknown device `{s}`; expected cpu, cuda (any GPU of the sweep's `gpus`) or cuda:N"
                )),
            },
        }
    }
}

/// The GPUs a session schedules on, and how many runs share each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GpuPool {
    pub gpus: Vec<usize>,
    pub runs_per_gpu: usize,
}

impl GpuPool {
    /// `gpus` as the user gave them, else every GPU that the GPU backends among `needs` see
    /// (none when no run asks for a GPU).
    pub fn resolve(gpus: Option<&[usize]>, runs_per_gpu: usize, needs: &Needs) -> Self {
        Self::resolve_seeing(gpus, runs_per_gpu, needs, Backend::gpu_count)
    }

    /// `resolve`, with `seen` telling how many GPUs a backend sees.
    fn resolve_seeing(
        gpus: Option<&[usize]>,
        runs_per_gpu: usize,
        needs: &Needs,
        seen: impl Fn(Backend) -> usize,
    ) -> Self {
        let gpus = match gpus {
            Some(gpus) => gpus.to_vec(),
            None => {
                let seen = needs
                    .iter()
                    .filter(|(_, request)| request.is_gpu())
                    .map(|&(backend, _)| seen(backend))
                    .max()
                    .unwrap_or(0);
                (0..seen).collect()
            }
        };
        Self { gpus, runs_per_gpu }
    }

    pub fn slots(&self) -> usize {
        self.gpus.len() * self.runs_per_gpu
    }
}

impl fmt::Display for GpuPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let gpus: Vec<String> = self.gpus.iter().map(ToString::to_string).collect();
        let s = if self.gpus.len() == 1 { "" } else { "s" };
        write!(f, "GPU{s} {} × {} run", gpus.join(","), self.runs_per_gpu)?;
        if self.runs_per_gpu != 1 {
            f.write_str("s")?;
        }
        Ok(())
    }
}

/// Every (backend, device) pair that runs ask for can run here: the backend is built in,
/// computes on that kind of device, and each GPU it may be given is present. One message
/// for the first pair that cannot, naming what to change.
pub fn check(needs: &Needs, pool: &GpuPool) -> Result<(), String> {
    check_backends(needs)?;
    for &(backend, request) in needs {
        let on = |why| format!("the runs on backend `{backend}`, device `{request}`: {why}");
        let gpus = match request {
            // Built and suited is all a CPU run needs.
            DeviceRequest::Cpu => continue,
            DeviceRequest::AnyGpu if pool.gpus.is_empty() => {
                return Err(on(format!(
                    "no GPU to run on: `{backend}` sees none ({}); run them on `cpu`, or where there is a GPU",
                    backend.why_no_gpu()
                )));
            }
            DeviceRequest::AnyGpu => pool.gpus.clone(),
            DeviceRequest::Gpu(index) if !pool.gpus.contains(&index) => {
                return Err(on(format!(
                    "GPU {index} is not among the sweep's GPUs ({}); add it to `gpus` / `--gpus`",
                    list(&pool.gpus)
                )));
            }
            DeviceRequest::Gpu(index) => vec![index],
        };
        for gpu in gpus {
            backend
                .device(ComputeDevice::Cuda(gpu))
                .map_err(|e| on(e.to_string()))?;
        }
    }
    Ok(())
}

/// Every backend that runs ask for is built in and computes on the kind of device they ask
/// for (wherever the runs end up: here or on a cluster's nodes).
pub fn check_backends(needs: &Needs) -> Result<(), String> {
    for &(backend, request) in needs {
        request
            .suits(backend)
            .and(backend.built())
            .map_err(|e| format!("the runs on backend `{backend}`, device `{request}`: {e}"))?;
    }
    Ok(())
}

fn list(gpus: &[usize]) -> String {
    if gpus.is_empty() {
        return "none".into();
    }
    gpus.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs(pairs: &[(Backend, DeviceRequest)]) -> Needs {
        pairs.iter().copied().collect()
    }

    #[test]
    fn requests_read_and_print_as_cpu_cuda_and_cuda_n() {
        assert_eq!("cpu".parse(), Ok(DeviceRequest::Cpu));
        assert_eq!("cuda".parse(), Ok(DeviceRequest::AnyGpu));
        assert_eq!("cuda:2".parse(), Ok(DeviceRequest::Gpu(2)));
        for request in [DeviceRequest::Cpu, DeviceRequest::AnyGpu, DeviceRequest::Gpu(2)] {
            assert_eq!(request.to_string().parse(), Ok(request));
        }
        assert!("gpu".parse::<DeviceRequest>().unwrap_err().contains("cpu, cuda"));
    }

    #[test]
    fn cuda_asks_for_a_gpu_by_default_and_the_others_for_the_cpu() {
        assert_eq!(DeviceRequest::default_for(Backend::Cuda), DeviceRequest::AnyGpu);
        for backend in [Backend::Flex, Backend::Ndarray, Backend::Tch] {
            assert_eq!(DeviceRequest::default_for(backend), DeviceRequest::Cpu);
        }
    }

    #[test]
    fn the_pool_is_the_gpus_given_or_those_the_gpu_backends_see() {
        let gpu_runs = needs(&[
            (Backend::Flex, DeviceRequest::Cpu),
            (Backend::Tch, DeviceRequest::AnyGpu),
        ]);
        // A machine where libtorch sees two GPUs and Burn's CUDA three.
        let seen = |backend| match backend {
            Backend::Tch => 2,
            Backend::Cuda => 3,
            _ => 0,
        };
        let given = GpuPool::resolve_seeing(Some(&[1, 3]), 2, &gpu_runs, seen);
        assert_eq!((given.gpus.as_slice(), given.slots()), (&[1, 3][..], 4));
        let detected = GpuPool::resolve_seeing(None, 1, &gpu_runs, seen);
        assert_eq!(detected.gpus, [0, 1]);
        let both = needs(&[
            (Backend::Tch, DeviceRequest::AnyGpu),
            (Backend::Cuda, DeviceRequest::Gpu(2)),
        ]);
        assert_eq!(GpuPool::resolve_seeing(None, 1, &both, seen).gpus, [0, 1, 2]);
        // CUDA runs on the CPU do not count: no run asks for a GPU.
        let cpu_only = needs(&[(Backend::Flex, DeviceRequest::Cpu), (Backend::Tch, DeviceRequest::Cpu)]);
        assert!(GpuPool::resolve_seeing(None, 1, &cpu_only, seen).gpus.is_empty());
        assert_eq!(given.to_string(), "GPUs 1,3 × 2 runs");
    }

    #[test]
    fn cpu_runs_pass_and_gpu_runs_without_a_gpu_are_refused_with_what_to_do() {
        let none = GpuPool {
            gpus: vec![],
            runs_per_gpu: 1,
        };
        assert_eq!(check(&needs(&[(Backend::Flex, DeviceRequest::Cpu)]), &none), Ok(()));
        let err = check(&needs(&[(Backend::Flex, DeviceRequest::AnyGpu)]), &none).unwrap_err();
        assert!(
            err.contains("the runs on backend `flex`, device `cuda`") && err.contains("CPU only"),
            "{err}"
        );
        #[cfg(feature = "tch")]
        {
            let err = check(&needs(&[(Backend::Tch, DeviceRequest::AnyGpu)]), &none).unwrap_err();
            assert!(
                err.contains("no GPU to run on") && err.contains("run them on `cpu`"),
                "{err}"
            );
            let pool = GpuPool {
                gpus: vec![0],
                runs_per_gpu: 1,
            };
            let err = check(&needs(&[(Backend::Tch, DeviceRequest::Gpu(1))]), &pool).unwrap_err();
            assert!(err.contains("GPU 1 is not among the sweep's GPUs (0)"), "{err}");
        }
        #[cfg(not(feature = "tch"))]
        {
            let err = check(&needs(&[(Backend::Tch, DeviceRequest::Cpu)]), &none).unwrap_err();
            assert!(err.contains("--features tch"), "{err}");
        }
    }
}
