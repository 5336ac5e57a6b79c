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

/// A setting that applies to every run.
const fn always(name: &'static str, help: &'static str, kind: Kind, default: DefaultValue) -> Setting {
    Setting {
        name,
        help,
        kind,
        default,
        only: Only::Always,
    }
}

const fn count(min: u64) -> Kind {
    Kind::Count { min, why: "" }
}

/// The settings of every run, whatever its model. `model` comes first.
pub const TRAINING: [Setting; 22] = [
    always(
        "model",
        "The network to train (README: Models)",
        Kind::Choice(ModelKind::NAMES),
        DefaultValue::Name("wavenet"),
    ),
    always(
        "optimizer",
        "sgd (the lecture's) or adamw (PyTorch's AdamW)",
        Kind::Choice(OptimizerKind::NAMES),
        DefaultValue::Name("sgd"),
    ),
    always("lr", "Learning rate", Kind::Positive, DefaultValue::Number(0.1)),
    always(
        "lr_schedule",
        "step (lr, then lr_final from lr_decay_at), constant, or cosine (lr down to lr_final)",
        Kind::Choice(ScheduleKind::NAMES),
        DefaultValue::Name("step"),
    ),
    Setting {
        name: "lr_final",
        help: "Learning rate after the decay point (step), or at the end (cosine)",
        kind: Kind::NonNegative,
        default: DefaultValue::Derived {
            from: "lr",
            rule: lr_final_default,
            text: "lr / 10",
        },
        only: Only::When {
            setting: "lr_schedule",
            is: &["step", "cosine"],
        },
    },
    Setting {
        name: "lr_decay_at",
        help: "Fraction of the steps after which lr_final is used",
        kind: Kind::Fraction,
        default: DefaultValue::Number(0.75),
        only: Only::When {
            setting: "lr_schedule",
            is: &["step"],
        },
    },
    always(
        "warmup_steps",
        "Steps over which the learning rate rises linearly to its schedule's value (0: none)",
        count(0),
        DefaultValue::Count(0),
    ),
    Setting {
        name: "momentum",
        help: "SGD momentum (PyTorch's, no dampening; 0: none)",
        kind: Kind::Fraction,
        default: DefaultValue::Number(0.0),
        only: SGD,
    },
    Setting {
        name: "nesterov",
        help: "Nesterov momentum",
        kind: Kind::Flag,
        default: DefaultValue::Flag(false),
        only: SGD,
    },
    Setting {
        name: "beta1",
        help: "AdamW's decay rate of the gradient's running mean",
        kind: Kind::Fraction,
        default: DefaultValue::Number(0.9),
        only: ADAMW,
    },
    Setting {
        name: "beta2",
        help: "AdamW's decay rate of the squared gradient's running mean",
        kind: Kind::Fraction,
        default: DefaultValue::Number(0.999),
        only: ADAMW,
    },
    Setting {
        name: "eps",
        help: "AdamW's term added to the denominator",
        kind: Kind::Positive,
        default: DefaultValue::Number(1e-8),
        only: ADAMW,
    },
    Setting {
        name: "weight_decay",
        help: "AdamW's decoupled weight decay",
        kind: Kind::NonNegative,
        default: DefaultValue::Number(0.01),
        only: ADAMW,
    },
    always(
        "grad_clip",
        "Largest gradient norm over all parameters, as torch.nn.utils.clip_grad_norm_ (0: no clipping)",
        Kind::NonNegative,
        DefaultValue::Number(0.0),
    ),
    always(
        "batch_size",
        "Examples per minibatch",
        Kind::Count {
            min: 2,
            why: "BatchNorm needs a batch to take statistics over",
        },
        DefaultValue::Count(32),
    ),
    always("steps", "Training steps", count(1), DefaultValue::Count(200_000)),
    always(
        "seed",
        "Seed of weight init, minibatches and samples",
        count(0),
        DefaultValue::Count(42),
    ),
    always(
        "split_seed",
        "Seed of the shuffle before the 80/10/10 train/val/test split",
        count(0),
        DefaultValue::Count(42),
    ),
    always(
        "log_every",
        "Steps per averaged training-loss point",
        count(1),
        DefaultValue::Count(100),
    ),
    always(
        "eval_every",
        "Steps between full validation-split evaluations",
        count(1),
        DefaultValue::Count(10_000),
    ),
    always(
        "final_train_sample",
        "Examples of the train split (windows, or items for rnn, gru and transformer) the final train loss is computed on, drawn once from split_seed; for short runs, where a whole train-split pass would outlast training (0: the whole split)",
        count(0),
        DefaultValue::Count(0),
    ),
    always(
        "fast_path",
        "Train with the model's hand-derived backward pass, where it has one and the optimizer is plain SGD (off: Burn's autodiff)",
        Kind::Flag,
        DefaultValue::Flag(true),
    ),
];
