//! Which Burn backend a run computes on, and on which device (`threads` says how many CPU
//! threads). Every backend runs the same model and training code; only the `Device` differs.
//! `tch` (libtorch), `cuda` (Burn's CUDA backend) and `vulkan` (Burn's wgpu backend on
//! Vulkan) are cargo features: a binary built without them knows their names and says how
//! to get them. GPUs are numbered as each GPU backend's driver numbers them (`cuda:N`).

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// burn-flex: pure-Rust CPU backend (upstream's recommended one).
    Flex,
    /// burn-ndarray: the older pure-Rust CPU backend.
    Ndarray,
    /// burn-tch: libtorch, on the CPU or a CUDA GPU (cargo feature `tch`).
    Tch,
    /// Burn's own CUDA backend (cargo feature `cuda`).
    Cuda,
    /// Burn's wgpu backend pinned to Vulkan, SPIR-V kernels: any GPU with a Vulkan driver
    /// (cargo feature `vulkan`).
    Vulkan,
}

/// Where a backend computes: the CPU or the GPU of an index (`cpu`, `cuda`, `cuda:1`); for
/// `vulkan`, the index counts Vulkan's discrete GPUs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ComputeDevice {
    Cpu,
    Cuda(usize),
}

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(
        "backend `{0}` is not built into this binary; build with `cargo build --release --features {0}` (docs/clusters.md: GPU and libtorch backends)"
    )]
    NotBuilt(Backend),
    #[error("backend `{0}` computes on the CPU only; use device `cpu`, or backend `tch`, `cuda` or `vulkan` for a GPU")]
    CpuOnly(Backend),
    #[error(
        "backend `{0}` computes on a GPU; use device `cuda` or `cuda:N`, or backend `flex` or `tch` on device `cpu`"
    )]
    GpuOnly(Backend),
    #[error("no usable {api} GPU {index} for backend `{backend}`: {reason}")]
    NoGpu {
        backend: Backend,
        /// `CUDA` or `Vulkan`: whose numbering `index` follows.
        api: &'static str,
        index: usize,
        reason: String,
    },
}

impl Backend {
    /// What runs use when they name no backend: the fastest on one CPU thread
    /// (docs/performance.md).
    pub const DEFAULT: Self = Self::Flex;

    pub const NAMES: [&'static str; 5] = ["flex", "ndarray", "tch", "cuda", "vulkan"];

    /// The device a run gets when none is asked for: the GPU 0 for `cuda` and `vulkan`,
    /// else the CPU.
    pub fn default_device(self) -> ComputeDevice {
        match self {
            Self::Cuda | Self::Vulkan => ComputeDevice::Cuda(0),
            Self::Flex | Self::Ndarray | Self::Tch => ComputeDevice::Cpu,
        }
    }

    /// Whether this binary was built with the backend (`tch`, `cuda` and `vulkan` are cargo
    /// features).
    pub fn built(self) -> Result<(), BackendError> {
        let built = match self {
            Self::Flex | Self::Ndarray => true,
            Self::Tch => cfg!(feature = "tch"),
            Self::Cuda => cfg!(feature = "cuda"),
            Self::Vulkan => cfg!(feature = "vulkan"),
        };
        if built {
            Ok(())
        } else {
            Err(BackendError::NotBuilt(self))
        }
    }

    /// Whether the backend can compute on that kind of device at all (no hardware is asked).
    pub fn supports(self, on: ComputeDevice) -> Result<(), BackendError> {
        match (self, on) {
            (Self::Flex | Self::Ndarray, ComputeDevice::Cuda(_)) => Err(BackendError::CpuOnly(self)),
            (Self::Cuda | Self::Vulkan, ComputeDevice::Cpu) => Err(BackendError::GpuOnly(self)),
            _ => Ok(()),
        }
    }

    /// How many GPUs the backend sees (0 for a CPU backend, or one not built in).
    pub fn gpu_count(self) -> usize {
        match self {
            Self::Flex | Self::Ndarray => 0,
            Self::Tch => tch_gpu_count(),
            Self::Cuda => cuda_gpu_count(),
            Self::Vulkan => vulkan_gpu_count(),
        }
    }

    /// What to check when the backend sees no GPU.
    pub fn why_no_gpu(self) -> &'static str {
        match self {
            Self::Vulkan => {
                "no Vulkan loader (libvulkan.so.1) or no driver for it: point VK_DRIVER_FILES at the driver's ICD file, e.g. nvidia_icd.json"
            }
            _ => "no NVIDIA driver, or CUDA_VISIBLE_DEVICES hides them",
        }
    }

    /// The Burn device for computing on `on`, after checking that this binary has the
    /// backend and, for a GPU, that the GPU is there (so nothing fails later, mid-run).
    pub fn device(self, on: ComputeDevice) -> Result<Device, BackendError> {
        self.supports(on)?;
        self.built()?;
        if let ComputeDevice::Cuda(index) = on {
            gpu_present(self, index)?;
        }
        match (self, on) {
            (Self::Flex, _) => Ok(Device::flex()),
            #[allow(deprecated)] // burn-ndarray is deprecated upstream; we keep it selectable
            (Self::Ndarray, _) => Ok(Device::ndarray()),
            (Self::Tch, on) => tch_device(on),
            (Self::Cuda, on) => cuda_device(on),
            (Self::Vulkan, on) => vulkan_device(on),
        }
    }
}

/// Whether `device` is one of the pure-Rust CPU backends' (`flex`, `ndarray`), with or
/// without autodiff: where our own CPU loops may replace Burn's ops.
#[allow(deprecated)] // burn-ndarray is deprecated upstream; we keep it selectable
pub(crate) fn is_pure_rust_cpu(device: &Device) -> bool {
    *device == Device::flex() || *device == Device::ndarray()
}

#[cfg(feature = "tch")]
fn tch_gpu_count() -> usize {
    usize::try_from(tch::Cuda::device_count()).unwrap_or(0)
}

#[cfg(feature = "tch")]
#[allow(deprecated)] // burn-tch is deprecated upstream; it is the libtorch path the user asked for
fn tch_device(on: ComputeDevice) -> Result<Device, BackendError> {
    Ok(match on {
        ComputeDevice::Cpu => Device::libtorch(),
        ComputeDevice::Cuda(index) => Device::libtorch_cuda(index),
    })
}

#[cfg(feature = "cuda")]
fn cuda_gpu_count() -> usize {
    // Listing the GPUs panics inside cubecl where there is no driver at all: no GPU here.
    std::panic::catch_unwind(|| Device::enumerate(burn::tensor::DeviceType::Cuda).len()).unwrap_or(0)
}

#[cfg(feature = "cuda")]
fn cuda_device(on: ComputeDevice) -> Result<Device, BackendError> {
    match on {
        ComputeDevice::Cuda(index) => Ok(Device::cuda(index)),
        ComputeDevice::Cpu => Err(BackendError::GpuOnly(Backend::Cuda)),
    }
}

#[cfg(feature = "vulkan")]
fn vulkan_gpu_count() -> usize {
    // Guarded as for CUDA, in case listing panics inside cubecl without a usable driver.
    std::panic::catch_unwind(|| Device::enumerate(burn::tensor::DeviceType::Vulkan).len()).unwrap_or(0)
}

#[cfg(feature = "vulkan")]
fn vulkan_device(on: ComputeDevice) -> Result<Device, BackendError> {
    match on {
        ComputeDevice::Cuda(index) => Ok(Device::vulkan(burn::tensor::DeviceKind::DiscreteGpu(index))),
        ComputeDevice::Cpu => Err(BackendError::GpuOnly(Backend::Vulkan)),
    }
}

// Without the feature: no GPUs, and no device.
#[cfg(not(feature = "tch"))]
fn tch_gpu_count() -> usize {
    0
}

#[cfg(not(feature = "tch"))]
fn tch_device(_: ComputeDevice) -> Result<Device, BackendError> {
    Err(BackendError::NotBuilt(Backend::Tch))
}

#[cfg(not(feature = "cuda"))]
fn cuda_gpu_count() -> usize {
    0
}

#[cfg(not(feature = "cuda"))]
fn cuda_device(_: ComputeDevice) -> Result<Device, BackendError> {
    Err(BackendError::NotBuilt(Backend::Cuda))
}

#[cfg(not(feature = "vulkan"))]
fn vulkan_gpu_count() -> usize {
    0
}

#[cfg(not(feature = "vulkan"))]
fn vulkan_device(_: ComputeDevice) -> Result<Device, BackendError> {
    Err(BackendError::NotBuilt(Backend::Vulkan))
}

/// GPU `index` is among those the backend sees; without this check libtorch creates the
/// device and panics at its first operation.
fn gpu_present(backend: Backend, index: usize) -> Result<(), BackendError> {
    let count = backend.gpu_count();
    if index < count {
        return Ok(());
    }
    let (api, counter) = match backend {
        Backend::Vulkan => ("Vulkan", "the Vulkan driver"),
        Backend::Tch => ("CUDA", "libtorch"),
        _ => ("CUDA", "the CUDA driver"),
    };
    let reason = match count {
        0 => format!("{counter} sees no GPU ({})", backend.why_no_gpu()),
        1 => format!("{counter} sees 1 GPU, index 0"),
        n => format!("{counter} sees {n} GPUs, indices 0 to {}", n - 1),
    };
    Err(BackendError::NoGpu {
        backend,
        api,
        index,
        reason,
    })
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Flex => "flex",
            Self::Ndarray => "ndarray",
            Self::Tch => "tch",
            Self::Cuda => "cuda",
            Self::Vulkan => "vulkan",
        })
    }
}

impl FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "flex" => Ok(Self::Flex),
            "ndarray" => Ok(Self::Ndarray),
            "tch" => Ok(Self::Tch),
            "cuda" => Ok(Self::Cuda),
            "vulkan" => Ok(Self::Vulkan),
            other => Err(format!(
                "unknown backend `{other}`; expected one of: {}",
                Self::NAMES.join(", ")
            )),
        }
    }
}

impl ComputeDevice {
    /// The processor's name as the system reports it — the CPU model from `/proc/cpuinfo`,
    /// the GPU's from `nvidia-smi` — or a generic one where neither says.
    pub fn hardware_name(self) -> String {
        match self {
            Self::Cpu => cpu_name().unwrap_or_else(|| "CPU".to_string()),
            Self::Cuda(index) => gpu_name(index).unwrap_or_else(|| format!("CUDA GPU {index}")),
        }
    }
}

fn cpu_name() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find_map(|line| Some(line.strip_prefix("model name")?.split_once(':')?.1.trim().to_string()))
}

fn gpu_name(index: usize) -> Option<String> {
    // nvidia-smi numbers every GPU; CUDA only those CUDA_VISIBLE_DEVICES lets through, renumbered.
    let physical = match std::env::var("CUDA_VISIBLE_DEVICES") {
        Ok(visible) => visible.split(',').nth(index)?.trim().to_string(),
        Err(_) => index.to_string(),
    };
    let out = std::process::Command::new("nvidia-smi")
        .args(["--query-gpu=name", "--format=csv,noheader", "-i", &physical])
        .output()
        .ok()?;
    let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !name.is_empty()).then_some(name)
}

impl fmt::Display for ComputeDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cpu => f.write_str("cpu"),
            Self::Cuda(index) => write!(f, "cuda:{index}"),
        }
    }
}

impl FromStr for ComputeDevice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let index = |digits: &str| digits.parse::<usize>().ok();
        match s {
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda(0)),
            _ => match s.strip_prefix("cuda:").and_then(index) {
                Some(i) => Ok(Self::Cuda(i)),
                None => Err(format!("unknown device `{s}`; expected cpu, cuda or cuda:N")),
            },
        }
    }
}

impl TryFrom<String> for ComputeDevice {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<ComputeDevice> for String {
    fn from(device: ComputeDevice) -> String {
        device.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_read_and_print_as_cpu_cuda_and_cuda_n() {
        assert_eq!("cpu".parse(), Ok(ComputeDevice::Cpu));
        assert_eq!("cuda".parse(), Ok(ComputeDevice::Cuda(0)));
        assert_eq!("cuda:3".parse(), Ok(ComputeDevice::Cuda(3)));
        assert_eq!(ComputeDevice::Cuda(3).to_string(), "cuda:3");
        for bad in ["gpu", "cuda:", "cuda:x", "cuda:-1", "CPU"] {
            assert!(bad.parse::<ComputeDevice>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_cpu_has_a_name() {
        assert!(!ComputeDevice::Cpu.hardware_name().is_empty());
    }

    #[test]
    fn a_backend_refuses_a_device_it_cannot_compute_on() {
        let err = |backend: Backend, on| backend.device(on).err().unwrap().to_string();
        assert!(err(Backend::Flex, ComputeDevice::Cuda(0)).contains("CPU only"));
        assert!(err(Backend::Cuda, ComputeDevice::Cpu).contains("`cuda` computes on a GPU"));
        assert!(err(Backend::Vulkan, ComputeDevice::Cpu).contains("`vulkan` computes on a GPU"));
        assert!(Backend::Ndarray.device(ComputeDevice::Cpu).is_ok());
        #[cfg(not(feature = "tch"))]
        assert!(err(Backend::Tch, ComputeDevice::Cpu).contains("--features tch"));
        #[cfg(not(feature = "vulkan"))]
        assert!(err(Backend::Vulkan, ComputeDevice::Cuda(0)).contains("--features vulkan"));
    }

    #[test]
    fn every_backend_reads_back_from_its_name() {
        for name in Backend::NAMES {
            assert_eq!(name.parse::<Backend>().map(|b| b.to_string()), Ok(name.to_string()));
        }
    }
}
