//! makemore's models on Burn, and how they train. Knows tensors and nothing of SQLite or the
//! CLI: callers get progress through `train::Observer` and results as plain values. By kind:
//! `models/` (one file per model behind `LanguageModel`), `nn/` (the layers they are made of),
//! `kernels/` (the CPU loops beneath those layers), `optim/` (optimizers and clipping),
//! `train/` (the loop, checkpoints, evaluation, sampling), `config/` (a run's checked
//! configuration), `dataset/` (text files as windows or items); and under them `settings`
//! (how a setting is declared), `backend` (Burn's backends and devices) and `rng`.

pub mod backend;
pub mod config;
pub mod dataset;
pub mod kernels;
pub mod models;
mod nn;
pub mod optim;
pub mod rng;
pub mod settings;
pub mod train;

pub use backend::{Backend, BackendError, ComputeDevice};
pub use config::{ModelKind, OptimizerKind, ScheduleKind, TrainConfig, TrainOptions, all_settings};
pub use dataset::{DataError, Dataset};
pub use settings::{ConfigError, Setting};
pub use train::checkpoint::CheckpointError;
pub use train::{Ending, Observer, Outcome, Progress, Trainer, Verdict};
