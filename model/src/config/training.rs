//! The settings of every run, whatever its model: the model's name, the optimizer (`sgd`,
//! `adamw`) with its own settings, the learning-rate schedule (`step`, `constant`, `cosine`,
//! each with warm-up), gradient clipping, the step budget, seeds and the evaluation rhythm.

use serde::{Deserialize, Serialize};

use super::ModelKind;
use crate::settings::{DefaultValue, Kind, Only, Setting};

/// The optimizer a run trains with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// The lecture's: stochastic gradient descent, with optional (Nesterov) momentum.
    Sgd,
    /// Adam with decoupled weight decay, as PyTorch's `AdamW`.
    Adamw,
}

/// How the learning rate moves over the steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleKind {
    /// The lecture's: `lr` until `lr_decay_at` of the steps, then `lr_final`.
    Step,
    /// `lr` throughout.
    Constant,
    /// From `lr` down to `lr_final` along half a cosine, as PyTorch's `CosineAnnealingLR`.
    Cosine,
}

crate::settings::named!(OptimizerKind, NAMES: Sgd = "sgd", Adamw = "adamw");
crate::settings::named!(ScheduleKind, NAMES: Step = "step", Constant = "constant", Cosine = "cosine");

/// The lecture's decay: a tenth of the learning rate.
pub(super) fn lr_final_default(lr: f64) -> f64 {
    lr / 10.0
}

const SGD: Only = Only::When {
    setting: "optimizer",
    is: &["sgd"],
};
const ADAMW: Only = Only::When {
    setting: "optimizer",
    is: &["adamw"],
};

/// The settings of every run, whatever its model. `model` comes first.
pub const TRAINING: [Setting; 22] = [
    Setting::new(
        "model",
        "The network to train (docs/models.md)",
        Kind::Choice(ModelKind::NAMES),
        DefaultValue::Name("wavenet"),
    ),
    Setting::new(
        "optimizer",
        "sgd (the lecture's) or adamw (PyTorch's AdamW)",
        Kind::Choice(OptimizerKind::NAMES),
        DefaultValue::Name("sgd"),
    ),
    Setting::new("lr", "Learning rate", Kind::Positive, DefaultValue::Number(0.1)).mid_run(),
    Setting::new(
        "lr_schedule",
        "step (lr, then lr_final from lr_decay_at), constant, or cosine (lr down to lr_final)",
        Kind::Choice(ScheduleKind::NAMES),
        DefaultValue::Name("step"),
    ),
    Setting::new(
        "lr_final",
        "Learning rate after the decay point (step), or at the end (cosine)",
        Kind::NonNegative,
        DefaultValue::Derived {
            from: "lr",
            rule: lr_final_default,
            text: "lr / 10",
        },
    )
    .only(Only::When {
        setting: "lr_schedule",
        is: &["step", "cosine"],
    })
    .mid_run(),
    Setting::new(
        "lr_decay_at",
        "Fraction of the steps after which lr_final is used",
        Kind::Fraction,
        DefaultValue::Number(0.75),
    )
    .only(Only::When {
        setting: "lr_schedule",
        is: &["step"],
    }),
    Setting::new(
        "warmup_steps",
        "Steps over which the learning rate rises linearly to its schedule's value (0: none)",
        Kind::count(0),
        DefaultValue::Count(0),
    ),
    Setting::new(
        "momentum",
        "SGD momentum (PyTorch's, no dampening; 0: none)",
        Kind::Fraction,
        DefaultValue::Number(0.0),
    )
    .only(SGD)
    .mid_run(),
    Setting::new("nesterov", "Nesterov momentum", Kind::Flag, DefaultValue::Flag(false)).only(SGD),
    Setting::new(
        "beta1",
        "AdamW's decay rate of the gradient's running mean",
        Kind::Fraction,
        DefaultValue::Number(0.9),
    )
    .only(ADAMW),
    Setting::new(
        "beta2",
        "AdamW's decay rate of the squared gradient's running mean",
        Kind::Fraction,
        DefaultValue::Number(0.999),
    )
    .only(ADAMW),
    Setting::new(
        "eps",
        "AdamW's term added to the denominator",
        Kind::Positive,
        DefaultValue::Number(1e-8),
    )
    .only(ADAMW),
    Setting::new(
        "weight_decay",
        "AdamW's decoupled weight decay",
        Kind::NonNegative,
        DefaultValue::Number(0.01),
    )
    .only(ADAMW)
    .mid_run(),
    Setting::new(
        "grad_clip",
        "Largest gradient norm over all parameters, as torch.nn.utils.clip_grad_norm_ (0: no clipping)",
        Kind::NonNegative,
        DefaultValue::Number(0.0),
    )
    .mid_run(),
    Setting::new(
        "batch_size",
        "Examples per minibatch",
        Kind::Count {
            min: 2,
            why: "BatchNorm needs a batch to take statistics over",
        },
        DefaultValue::Count(32),
    )
    .mid_run(),
    Setting::new("steps", "Training steps", Kind::count(1), DefaultValue::Count(200_000)),
    Setting::new(
        "seed",
        "Seed of weight init, minibatches and samples",
        Kind::count(0),
        DefaultValue::Count(42),
    ),
    Setting::new(
        "split_seed",
        "Seed of the shuffle before the 80/10/10 train/val/test split",
        Kind::count(0),
        DefaultValue::Count(42),
    ),
    Setting::new(
        "log_every",
        "Steps per averaged training-loss point",
        Kind::count(1),
        DefaultValue::Count(100),
    ),
    Setting::new(
        "eval_every",
        "Steps between full validation-split evaluations",
        Kind::count(1),
        DefaultValue::Count(10_000),
    ),
    Setting::new(
        "final_train_sample",
        "Examples of the train split (windows, or items for rnn, gru and transformer) the final train loss is computed on, drawn once from split_seed; for short runs, where a whole train-split pass would outlast training (0: the whole split)",
        Kind::count(0),
        DefaultValue::Count(0),
    ),
    Setting::new(
        "fast_path",
        "Train with the model's hand-derived backward pass, where it has one and the optimizer is plain SGD (off: Burn's autodiff)",
        Kind::Flag,
        DefaultValue::Flag(true),
    ),
];
