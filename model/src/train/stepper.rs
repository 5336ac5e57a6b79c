//! How a training step computes its gradients and applies them: the model's hand-derived
//! backward pass then SGD (the fast path), or Burn's autodiff then the run's optimizer, whose
//! state a checkpoint saves and a resumed run takes back.

use std::path::Path;

use burn::optim::{ModuleOptimizer, OptimizerRecord};
use burn::tensor::{Bytes, Device};

use super::checkpoint::CheckpointError;
use crate::config::TrainConfig;
use crate::optim;

/// How a step computes its gradients and applies them.
pub(super) enum Stepper {
    /// The model's hand-derived backward pass, then SGD.
    Fast,
    /// Burn's autodiff, then its optimizer; the model lives on `device`, the autodiff one.
    Autodiff { device: Device, optimizer: ModuleOptimizer },
}

impl Stepper {
    pub(super) fn for_config(config: &TrainConfig, device: &Device) -> Self {
        if config.uses_fast_path() {
            Self::Fast
        } else {
            Self::Autodiff {
                device: device.clone().autodiff(),
                optimizer: optim::optimizer(config),
            }
        }
    }

    /// The optimizer's state (AdamW's moments, momentum buffers, step counts), as bytes for a
    /// checkpoint; `None` on the fast path, which keeps none.
    pub(super) fn state(&self) -> Option<Vec<u8>> {
        match self {
            Self::Fast => None,
            Self::Autodiff { optimizer, .. } => {
                let bytes = optimizer
                    .to_record()
                    .into_bytes()
                    .expect("an optimizer record always serializes");
                Some(bytes.to_vec())
            }
        }
    }

    /// Takes back the state `state` saved.
    pub(super) fn restore(self, saved: Option<Vec<u8>>, path: &Path) -> Result<Self, CheckpointError> {
        match (self, saved) {
            (Self::Autodiff { device, optimizer }, Some(bytes)) => {
                let record = OptimizerRecord::from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|e| {
                    CheckpointError::Corrupt {
                        path: path.to_path_buf(),
                        reason: format!("its optimizer state cannot be read: {e}"),
                    }
                })?;
                Ok(Self::Autodiff {
                    device,
                    optimizer: optimizer.load_record(record),
                })
            }
            (stepper, _) => Ok(stepper),
        }
    }

    /// Where the model's parameters live.
    pub(super) fn model_device<'a>(&'a self, plain: &'a Device) -> &'a Device {
        match self {
            Self::Fast => plain,
            Self::Autodiff { device, .. } => device,
        }
    }
}
