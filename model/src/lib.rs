//! makemore models on Burn: text datasets, the lecture's MLP and WaveNet, the training
//! loop with checkpoints, evaluation and sampling. Knows tensors and nothing of SQLite or
//! the CLI: callers get progress through `train::Observer` and results as plain values.

mod adamw;
mod attention;
pub mod backend;
mod batchnorm;
pub mod checkpoint;
pub mod config;
pub mod dataset;
pub mod evaluate;
mod gelu;
mod layers;
pub mod models;
mod norm_tanh;
mod on_flex;
pub mod optim;
pub mod rng;
pub mod sample;
pub mod settings;
mod simd;
mod tanh;
pub mod threads;
pub mod train;

pub use backend::{Backend, BackendError, ComputeDevice};
pub use checkpoint::CheckpointError;
pub use config::{ConfigError, ModelKind, OptimizerKind, ScheduleKind, TrainConfig, TrainOptions, all_settings};
pub use dataset::{DataError, Dataset};
pub use settings::Setting;
pub use train::{Ending, Observer, Outcome, Progress, Trainer, Verdict};
