//! Which Burn backend a run computes on, and how many CPU threads it may use.
//! Every backend runs the same model and training code; only the `Device` differs.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// burn-flex: pure-Rust CPU backend (upstream's recommended one).
    Flex,
    /// burn-ndarray: the older pure-Rust CPU backend.
    Ndarray,
}

impl Backend {
    pub const NAMES: [&'static str; 2] = ["flex", "ndarray"];

    /// Plain device, for evaluation and sampling.
    pub fn device(self) -> Device {
        match self {
            Self::Flex => Device::flex(),
            #[allow(deprecated)] // burn-ndarray is deprecated upstream; we keep it selectable
            Self::Ndarray => Device::ndarray(),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Flex => "flex",
            Self::Ndarray => "ndarray",
        })
    }
}

impl FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "flex" => Ok(Self::Flex),
            "ndarray" => Ok(Self::Ndarray),
            other => Err(format!("unknown backend `{other}`; expected one of: flex, ndarray")),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("could not set up {threads} compute thread(s): {reason}")]
pub struct ThreadsError {
    threads: usize,
    reason: String,
}

/// Limits the CPU backends to `threads` threads for the rest of the process.
///
/// # Safety
/// Sets the `MATMUL_NUM_THREADS` environment variable (read by burn-ndarray's matrix
/// multiply), so it must run before the process starts any other thread.
pub unsafe fn limit_threads(threads: usize) -> Result<(), ThreadsError> {
    // SAFETY: the caller guarantees no other thread exists yet to read the environment.
    unsafe { std::env::set_var("MATMUL_NUM_THREADS", threads.to_string()) };
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .map_err(|e| ThreadsError {
            threads,
            reason: e.to_string(),
        })
}
