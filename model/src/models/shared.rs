//! Settings that several models take, declared once here rather than in one model's file:
//! the embedding and hidden sizes, the context length and dropout. A model lists them in its
//! `SETTINGS` beside its own; a model may give one its own default (`MAKEMORE_DEFAULTS`).

use crate::settings::ConfigError;
use crate::settings::{DefaultValue, Kind, Setting};

pub const N_EMBD: Setting = Setting::new(
    "n_embd",
    "Embedding size per character",
    Kind::count(1),
    DefaultValue::Count(24),
);

pub const N_HIDDEN: Setting = Setting::new(
    "n_hidden",
    "Neurons per hidden layer",
    Kind::count(1),
    DefaultValue::Count(128),
);

pub const BLOCK_SIZE: Setting = Setting::new(
    "block_size",
    "Context length in characters (a power of two for wavenet and wavenet-conv); for rnn, gru and transformer the longest input they take: the longest item + 1",
    Kind::count(1),
    DefaultValue::Count(8),
);

/// Dropout's probability, for the models that take it (`nn::dropout`).
pub(crate) const DROPOUT: Setting = Setting::new(
    "dropout",
    "Probability of zeroing an activation in training (transformer: embeddings and residual branches; wavenet-conv: gated outputs); below 1",
    Kind::Fraction,
    DefaultValue::Number(0.0),
)
.mid_run();

/// A dropout probability a model can train with: below 1.
pub(crate) fn check_dropout(dropout: f64) -> Result<(), ConfigError> {
    if dropout < 1.0 {
        return Ok(());
    }
    Err(ConfigError {
        key: "dropout".into(),
        reason: format!("must be below 1 (1 zeroes every activation), got {dropout}"),
    })
}
