//! Every model behind one seam. A model is one file: a Burn module implementing `LanguageModel`
//! (its settings, declared there, and its defaults for others; whether it reads windows of
//! context or whole items, and how many characters; how to build it, count its parameters,
//! and compute logits for evaluation and for training; optionally a hand-derived training
//! step) and one line in the `models!` list below. The list makes `ModelKind` (the names
//! runs and sweep files use) and `Network` (the module the trainer, checkpoints, evaluation
//! and sampling hold); nothing else changes for a new model.

pub mod bigram;
pub mod gru;
pub mod lecture;
pub mod mlp;
pub mod rnn;
mod shared;
pub mod transformer;
pub mod wavenet;
pub mod wavenet_conv;

use burn::module::Module;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::dataset::{Batch, Reading};
use crate::rng::Rng;
use crate::settings::ConfigError;
use crate::settings::{DefaultValue, Setting, Values};

/// What the trainer needs of a model.
pub trait LanguageModel: Module + Sized {
    /// The settings it takes, declared in its file.
    const SETTINGS: &'static [Setting];
    /// Those settings, typed; read from a run's values of them (every one present).
    type Settings: DeserializeOwned;
    /// Its defaults for settings declared elsewhere (training's, or one it shares with other
    /// models), where they differ from the declared ones: makemore.py's for its models.
    const DEFAULTS: &'static [(&'static str, DefaultValue)] = &[];
    /// Whether `fast_step` is implemented.
    const FAST_PATH: bool = false;
    /// What one training example is: a window of context (`forward`, `train_loss`), or a
    /// whole item (`item_logits`).
    const READS: Reading = Reading::Windows;

    /// Characters of context it reads to predict the next one; for a model that reads items,
    /// the longest input it takes (start token and characters).
    fn context(settings: &Self::Settings) -> usize;

    /// Settings that do not fit together, with the key to blame.
    fn check(_settings: &Self::Settings) -> Result<(), ConfigError> {
        Ok(())
    }

    /// A freshly initialised model, every weight drawn from `rng` in a fixed order.
    fn build(settings: &Self::Settings, vocab: usize, rng: &mut Rng, device: &Device) -> Self;

    /// Trainable values, counted without building it.
    fn count_params(settings: &Self::Settings, vocab: usize) -> usize;

    /// Evaluation: contexts `[B, context]` → logits of the next character `[B, vocab]`. A
    /// model that reads items need not write it: the last position of `item_logits`.
    fn forward(&self, contexts: Tensor<2, Int>) -> Tensor<2> {
        let logits = self.item_logits(contexts);
        last_position(logits.expect("a model that reads windows writes its own `forward`"))
    }

    /// Training mode (batch statistics and the like): what autodiff differentiates; by
    /// default `forward`, for a model that trains as it evaluates.
    fn forward_train(&self, contexts: Tensor<2, Int>) -> Tensor<2> {
        self.forward(contexts)
    }

    /// Trainable values of the model as built.
    fn trainable_params(&self) -> usize;

    /// The minibatch loss autodiff minimises: by default the mean cross-entropy of each
    /// context's next character; a model that predicts every position may use them all.
    fn train_loss(&self, contexts: Tensor<2, Int>, targets: Tensor<1, Int>) -> Tensor<1> {
        cross_entropy(self.forward_train(contexts), targets)
    }

    /// A model that reads items: the logits after every position, inputs `[B, T]` (start
    /// token, characters) → `[B, T, vocab]`, each seeing only the positions up to it.
    /// `None` for a model that reads windows.
    fn item_logits(&self, _inputs: Tensor<2, Int>) -> Option<Tensor<3>> {
        None
    }

    /// One step of plain SGD by a hand-derived backward pass, where the model has one
    /// (`FAST_PATH`): the minibatch loss. `None` where it has none.
    fn fast_step(&mut self, _contexts: Tensor<2, Int>, _targets: Tensor<1, Int>, _lr: f64) -> Option<Tensor<1>> {
        None
    }
}

/// makemore.py's defaults, which its models (`rnn`, `gru`, `transformer`) take so that
/// `harness train --model transformer` is its default run: n_embd 64 (n_embd2 64 is the
/// declared default), block_size 16 (the longest name, 15, + 1), AdamW at a constant 5e-4
/// with betas 0.9/0.99, eps 1e-8 and weight decay 0.01, batch 32.
const MAKEMORE_DEFAULTS: &[(&str, DefaultValue)] = &[
    ("n_embd", DefaultValue::Count(64)),
    ("block_size", DefaultValue::Count(16)),
    ("optimizer", DefaultValue::Name("adamw")),
    ("lr", DefaultValue::Number(5e-4)),
    ("lr_schedule", DefaultValue::Name("constant")),
    ("beta2", DefaultValue::Number(0.99)),
];

/// The logits after the last position of `[B, T, vocab]`: `[B, vocab]`.
fn last_position(logits: Tensor<3>) -> Tensor<2> {
    let [b, t, v] = logits.dims();
    logits.narrow(1, t - 1, 1).reshape([b, v])
}

/// A `block_size` that halving reduces to one position (`why` says which model needs it).
pub(crate) fn power_of_two_block(block_size: usize, why: &str) -> Result<(), ConfigError> {
    if block_size >= 2 && block_size.is_power_of_two() {
        return Ok(());
    }
    Err(ConfigError {
        key: "block_size".into(),
        reason: format!("must be a power of two ≥ 2 for {why}, got {block_size}"),
    })
}

/// `M`'s typed settings from a run's values of them.
fn typed<M: LanguageModel>(values: &Values) -> Result<M::Settings, ConfigError> {
    serde_json::from_value(Value::Object(values.clone())).map_err(|e| ConfigError {
        key: String::new(),
        reason: e.to_string(),
    })
}

/// The models, one line each: `Variant = "name" => Type`.
macro_rules! models {
    ($($variant:ident = $name:literal => $model:ty),+ $(,)?) => {
        /// Which network a run trains.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum ModelKind {
            $(#[serde(rename = $name)] $variant),+
        }

        crate::settings::named!(ModelKind, NAMES: $($variant = $name),+);

        impl ModelKind {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The settings this model takes, declared beside its code.
            pub fn settings(self) -> &'static [Setting] {
                match self {
                    $(Self::$variant => <$model as LanguageModel>::SETTINGS),+
                }
            }

            /// Whether the model has a hand-derived training step.
            pub fn has_fast_path(self) -> bool {
                match self {
                    $(Self::$variant => <$model as LanguageModel>::FAST_PATH),+
                }
            }

            /// What one training example of the model is.
            pub fn reading(self) -> Reading {
                match self {
                    $(Self::$variant => <$model as LanguageModel>::READS),+
                }
            }

            /// The model's own default for the setting `name`, where it differs from the
            /// declared one.
            pub fn default_override(self, name: &str) -> Option<DefaultValue> {
                let defaults = match self {
                    $(Self::$variant => <$model as LanguageModel>::DEFAULTS),+
                };
                defaults.iter().find(|(setting, _)| *setting == name).map(|(_, value)| *value)
            }

            /// Characters of context the model reads, with these values of its settings.
            pub fn context(self, values: &Values) -> Result<usize, ConfigError> {
                match self {
                    $(Self::$variant => Ok(<$model>::context(&typed::<$model>(values)?))),+
                }
            }

            /// Settings of the model that do not fit together.
            pub fn check(self, values: &Values) -> Result<(), ConfigError> {
                match self {
                    $(Self::$variant => <$model>::check(&typed::<$model>(values)?)),+
                }
            }

            /// Trainable values of the model these settings build for `vocab` tokens.
            pub fn count_params(self, values: &Values, vocab: usize) -> Result<usize, ConfigError> {
                match self {
                    $(Self::$variant => Ok(<$model>::count_params(&typed::<$model>(values)?, vocab))),+
                }
            }
        }

        /// A run's network: one of the models.
        // One network per trainer: the size of the largest variant costs nothing.
        #[allow(clippy::large_enum_variant)]
        #[derive(Module, Debug)]
        pub enum Network {
            $($variant($model)),+
        }

        impl Network {
            /// A freshly initialised network of `kind` with these values of its settings.
            pub fn new(kind: ModelKind, values: &Values, vocab: usize, rng: &mut Rng, device: &Device) -> Result<Self, ConfigError> {
                Ok(match kind {
                    $(ModelKind::$variant => Self::$variant(<$model>::build(&typed::<$model>(values)?, vocab, rng, device))),+
                })
            }

            /// Evaluation: contexts `[B, context]` → logits `[B, vocab]`.
            pub fn forward(&self, contexts: Tensor<2, Int>) -> Tensor<2> {
                match self {
                    $(Self::$variant(model) => model.forward(contexts)),+
                }
            }

            /// Training mode: contexts `[B, context]` → logits `[B, vocab]`.
            pub fn forward_train(&self, contexts: Tensor<2, Int>) -> Tensor<2> {
                match self {
                    $(Self::$variant(model) => model.forward_train(contexts)),+
                }
            }

            /// The minibatch loss autodiff minimises: the model's own over windows; over
            /// items, the mean cross-entropy of every real target.
            pub fn train_loss(&self, batch: Batch) -> Tensor<1> {
                match batch {
                    Batch::Windows { contexts, targets } => match self {
                        $(Self::$variant(model) => model.train_loss(contexts, targets)),+
                    },
                    // Every item has a real target: its end.
                    Batch::Items { inputs, targets, mask } => {
                        let count = mask.clone().sum();
                        masked_nll_sum(self.item_logits(inputs), targets, mask) / count
                    }
                }
            }

            /// A model that reads items: the logits after every position, `[B, T, vocab]`.
            pub fn item_logits(&self, inputs: Tensor<2, Int>) -> Tensor<3> {
                match self {
                    $(Self::$variant(model) => model.item_logits(inputs)),+
                }
                .expect("only a model that reads items is given items")
            }

            pub fn trainable_params(&self) -> usize {
                match self {
                    $(Self::$variant(model) => model.trainable_params()),+
                }
            }

            /// One plain-SGD step by the model's hand-derived backward pass, where it has one
            /// (it reads windows).
            pub fn fast_step(&mut self, batch: Batch, lr: f64) -> Option<Tensor<1>> {
                let Batch::Windows { contexts, targets } = batch else {
                    return None;
                };
                match self {
                    $(Self::$variant(model) => model.fast_step(contexts, targets, lr)),+
                }
            }
        }
    };
}

models! {
    Mlp = "mlp" => mlp::Mlp,
    Wavenet = "wavenet" => wavenet::Wavenet,
    Bigram = "bigram" => bigram::Bigram,
    WavenetConv = "wavenet-conv" => wavenet_conv::WavenetConv,
    Rnn = "rnn" => rnn::Rnn,
    Gru = "gru" => gru::Gru,
    Transformer = "transformer" => transformer::Transformer,
}

/// Mean cross-entropy of `logits [B, V]` against `targets [B]`, as `F.cross_entropy`: `[1]`.
pub fn cross_entropy(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    mean_nll(log_softmax(logits, 1), targets)
}

/// The summed negative log-likelihood of `targets [B, T]` under `logits [B, T, V]`, where
/// `mask [B, T]` is 1: `[1]`.
pub fn masked_nll_sum(logits: Tensor<3>, targets: Tensor<2, Int>, mask: Tensor<2>) -> Tensor<1> {
    let [b, t, _] = logits.dims();
    let picked = log_softmax(logits, 2)
        .gather(2, targets.reshape([b, t, 1]))
        .reshape([b, t]);
    (picked * mask).sum().neg()
}

/// Mean negative log-likelihood of `targets [B]` under `log_probs [B, V]`: `[1]`.
fn mean_nll(log_probs: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    let [b, _] = log_probs.dims();
    log_probs.gather(1, targets.reshape([b, 1])).mean().neg()
}

#[cfg(test)]
mod tests {
    use burn::tensor::TensorData;

    use super::*;

    #[test]
    fn cross_entropy_matches_pytorch() {
        // PyTorch: F.cross_entropy(torch.tensor([[1., 2., 3.], [1., 1., 1.]]), torch.tensor([2, 0]))
        //          = tensor(0.7531)
        let device = Device::flex();
        let logits = Tensor::<2>::from_data(TensorData::new(vec![1f32, 2., 3., 1., 1., 1.], [2, 3]), &device);
        let targets = Tensor::<1, Int>::from_data(TensorData::new(vec![2i64, 0], [2]), &device);
        let loss: f32 = cross_entropy(logits, targets).into_scalar();
        assert!((loss - 0.7531).abs() < 1e-4, "{loss}");
    }

    /// Every parameter's values, in visit order.
    fn parameters(network: &Network) -> Vec<Vec<f32>> {
        struct Collect(Vec<Vec<f32>>);
        impl burn::module::ModuleVisitor for Collect {
            fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
                self.0.push(param.val().into_data().try_to_vec().unwrap());
            }
        }
        let mut collect = Collect(Vec::new());
        network.visit(&mut collect);
        collect.0
    }

    /// One SGD step on the fast path and one by autodiff, from the same weights and batch,
    /// end with the same parameters — for every model that has a fast path, through the
    /// seam (BatchNorm's running statistics included; the wavenet with the lecture's bug too).
    #[test]
    fn every_fast_path_steps_like_autodiff_parameter_by_parameter() {
        use crate::config::TrainConfig;
        use burn::optim::{GradientsParams, SgdConfig};

        let with_bug = serde_json::json!({"model": "wavenet", "batchnorm_bug": true, "n_embd": 6, "n_hidden": 20});
        let mut cases: Vec<serde_json::Value> = ModelKind::ALL
            .iter()
            .filter(|m| m.has_fast_path())
            .map(|m| serde_json::json!({"model": m.to_string(), "n_embd": 6, "n_hidden": 20}))
            .collect();
        assert!(cases.len() >= 2, "mlp and wavenet have fast paths");
        cases.push(with_bug);
        for case in cases {
            let config = TrainConfig::from_settings(case.as_object().unwrap()).unwrap();
            let (vocab, batch, t) = (27, 16, config.context());
            let mut rng = Rng::seed_from(5);
            let ids = |n: usize, rng: &mut Rng| (0..n).map(|_| rng.below(vocab) as i64).collect::<Vec<_>>();
            let (contexts, targets) = (ids(batch * t, &mut rng), ids(batch, &mut rng));
            let data = |device: &Device| {
                (
                    Tensor::<2, Int>::from_data(TensorData::new(contexts.clone(), [batch, t]), device),
                    Tensor::<1, Int>::from_data(TensorData::new(targets.clone(), [batch]), device),
                )
            };
            let build = |device: &Device| {
                Network::new(config.model, &config.net, vocab, &mut Rng::seed_from(11), device).unwrap()
            };
            let plain = Device::flex();
            let mut fast = build(&plain);
            let (c, y) = data(&plain);
            let batch = Batch::Windows {
                contexts: c,
                targets: y,
            };
            fast.fast_step(batch, 0.1).expect("a fast path");

            let autodiff = plain.clone().autodiff();
            let model = build(&autodiff);
            let (c, y) = data(&autodiff);
            let loss = model.train_loss(Batch::Windows {
                contexts: c,
                targets: y,
            });
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let stepped = SgdConfig::new().init().step(0.1, model, grads).valid();

            // `valid()` brings the BatchNorm running statistics up to date on both.
            for (i, (f, a)) in parameters(&fast.valid()).iter().zip(parameters(&stepped)).enumerate() {
                let scale = a.iter().fold(0f32, |m, x| m.max(x.abs())).max(1e-3);
                for (x, y) in f.iter().zip(&a) {
                    assert!(
                        (x - y).abs() <= 1e-5 * scale.max(1.0),
                        "{case}: parameter {i}: {x} vs {y}"
                    );
                }
            }
        }
    }
}
