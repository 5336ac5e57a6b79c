//! A run's state on disk, so that it can continue exactly where it stopped: the
//! configuration, the step, the RNG, the curve so far, the clock, every float tensor of the
//! model (weights and BatchNorm running statistics) in the module's visit order, and the
//! optimizer's state where it keeps one (AdamW's moments, momentum buffers).
//!
//! File layout: `MAGIC`, the header's length (u64 little-endian), the header as JSON, then
//! each tensor's values as f32 little-endian, then the optimizer's record (Burn's burnpack
//! bytes, as many as the header's `optimizer_bytes` says). Files are written beside their final name,
//! flushed to disk, renamed, and the rename flushed too (the folder is synced): a crash never
//! leaves a half-written checkpoint, and once `save` returns a power cut cannot undo it.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::Progress;
use crate::config::TrainConfig;
use crate::models::Network;
use crate::rng::Rng;

const MAGIC: &[u8; 8] = b"MMHCKPT1";

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("cannot write the checkpoint {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot read the checkpoint {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a checkpoint of this harness ({reason})")]
    Corrupt { path: PathBuf, reason: String },
    #[error("the checkpoint {path} was made with a different dataset (its vocabulary differs)")]
    OtherDataset { path: PathBuf },
    #[error("the checkpoint {path} cannot go on with this configuration: {source}")]
    OtherConfiguration {
        path: PathBuf,
        source: crate::settings::ConfigError,
    },
}

/// A run's state apart from its tensors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct RunState {
    pub config: TrainConfig,
    /// The data characters of the vocabulary the model was built for.
    pub vocab: Vec<char>,
    pub step: u64,
    pub rng: Rng,
    pub curve: Vec<Progress>,
    pub train_seconds: f64,
    pub eval_seconds: f64,
}

/// What the file's JSON part holds: the state, and the shape of each tensor that follows.
#[derive(Serialize, Deserialize)]
struct Header {
    #[serde(flatten)]
    state: RunState,
    shapes: Vec<Vec<usize>>,
    /// Length of the optimizer's record after the tensors; absent: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    optimizer_bytes: Option<usize>,
}

/// The tensors of a checkpoint, in the model's visit order, and the optimizer's record.
pub(crate) struct Tensors {
    shapes: Vec<Vec<usize>>,
    values: Vec<f32>,
    pub optimizer: Option<Vec<u8>>,
}

/// Writes `state` and the tensors of `model` to `path`.
pub(crate) fn save(
    path: &Path,
    state: RunState,
    model: &Network,
    optimizer: Option<Vec<u8>>,
) -> Result<(), CheckpointError> {
    let mut tensors = CollectTensors::default();
    model.visit(&mut tensors);
    let header = Header {
        state,
        shapes: tensors.shapes,
        optimizer_bytes: optimizer.as_ref().map(Vec::len),
    };
    let json = serde_json::to_vec(&header).expect("a header always serializes");
    let mut bytes = Vec::with_capacity(MAGIC.len() + 8 + json.len() + 4 * tensors.values.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&(json.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&json);
    for value in tensors.values {
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    bytes.extend(optimizer.unwrap_or_default());
    let partial = path.with_extension("partial");
    let write_err = |source| CheckpointError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut file = fs::File::create(&partial).map_err(write_err)?;
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .map_err(write_err)?;
    fs::rename(&partial, path).map_err(write_err)?;
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::File::open(folder).and_then(|dir| dir.sync_all()).map_err(write_err)
}

/// Reads a checkpoint: the run's state and its tensors.
pub(crate) fn load(path: &Path) -> Result<(RunState, Tensors), CheckpointError> {
    let corrupt = |reason: &str| CheckpointError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.into(),
    };
    let bytes = fs::read(path).map_err(|source| CheckpointError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let rest = bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or_else(|| corrupt("wrong magic bytes"))?;
    let (len, rest) = rest
        .split_first_chunk::<8>()
        .ok_or_else(|| corrupt("truncated header"))?;
    let len = usize::try_from(u64::from_le_bytes(*len)).map_err(|_| corrupt("header too large"))?;
    if rest.len() < len {
        return Err(corrupt("truncated header"));
    }
    let (json, data) = rest.split_at(len);
    let header: Header = serde_json::from_slice(json).map_err(|e| corrupt(&format!("bad header: {e}")))?;
    let expected: usize = header.shapes.iter().map(|shape| shape.iter().product::<usize>()).sum();
    if data.len() != 4 * expected + header.optimizer_bytes.unwrap_or(0) {
        return Err(corrupt("tensor data does not match the header"));
    }
    let (data, optimizer) = data.split_at(4 * expected);
    let values = data
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok((
        header.state,
        Tensors {
            shapes: header.shapes,
            values,
            optimizer: header.optimizer_bytes.map(|_| optimizer.to_vec()),
        },
    ))
}

/// Puts saved tensors into `model`, checking every shape; `path` is for the error.
pub(crate) fn restore(model: Network, tensors: Tensors, path: &Path) -> Result<Network, CheckpointError> {
    let mut restore = RestoreTensors {
        shapes: tensors.shapes.iter(),
        values: tensors.values.into_iter(),
        mismatch: false,
    };
    let model = model.map(&mut restore);
    if restore.mismatch || restore.shapes.next().is_some() {
        return Err(CheckpointError::Corrupt {
            path: path.to_path_buf(),
            reason: "its tensors do not fit the model its configuration describes".into(),
        });
    }
    Ok(model)
}

#[derive(Default)]
struct CollectTensors {
    shapes: Vec<Vec<usize>>,
    values: Vec<f32>,
}

impl ModuleVisitor for CollectTensors {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        self.shapes.push(tensor.dims().to_vec());
        let values: Vec<f32> = tensor.into_data().try_to_vec().expect("model tensors are f32");
        self.values.extend(values);
    }
}

struct RestoreTensors<'a> {
    shapes: std::slice::Iter<'a, Vec<usize>>,
    values: std::vec::IntoIter<f32>,
    mismatch: bool,
}

impl ModuleMapper for RestoreTensors<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(shape) = self.shapes.next() else {
            self.mismatch = true;
            return param;
        };
        if param.dims().as_slice() != shape.as_slice() {
            self.mismatch = true;
            return param;
        }
        let values: Vec<f32> = self.values.by_ref().take(shape.iter().product()).collect();
        param.map(|tensor| {
            let require_grad = tensor.is_require_grad();
            Tensor::from_data(TensorData::new(values, shape.clone()), &tensor.device()).set_require_grad(require_grad)
        })
    }
}
