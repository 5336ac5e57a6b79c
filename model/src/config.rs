//! Training configuration in two stages: the settings a user set (CLI flags, a sweep file's
//! keys), checked against the declarations of the training settings (`TRAINING`, here) and
//! of the model's (`ModelKind::settings`), then `TrainConfig`: the checked, fully resolved
//! form that the model and the training loop take and never re-check. `TrainOptions` is the
//! typed mirror of every setting, its defaults those declared.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

use crate::network;
use crate::settings::{self, DefaultValue, Kind, Setting, Values};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Embedding → flatten → Linear → BatchNorm → Tanh → Linear.
    Mlp,
    /// Embedding → [FlattenConsecutive(2) → Linear → BatchNorm → Tanh] × log2(block) → Linear.
    Wavenet,
}

impl ModelKind {
    pub const ALL: [Self; 2] = [Self::Mlp, Self::Wavenet];
    pub const NAMES: [&'static str; 2] = ["mlp", "wavenet"];

    /// The settings this model takes, declared beside its code.
    pub fn settings(self) -> &'static [Setting] {
        match self {
            Self::Mlp => &network::MLP_SETTINGS,
            Self::Wavenet => &network::WAVENET_SETTINGS,
        }
    }

    /// Every setting of a run of this model: `model`, the model's own, then training's.
    pub fn run_settings(self) -> Vec<&'static Setting> {
        settings::union([&TRAINING[..1], self.settings(), &TRAINING[1..]])
    }

    fn takes(self, name: &str) -> bool {
        self.run_settings().iter().any(|s| s.name == name)
    }
}

/// Every setting of any model, each once: what a sweep file may set and a table may show.
pub fn all_settings() -> Vec<&'static Setting> {
    let models = ModelKind::ALL.map(ModelKind::settings);
    settings::union(std::iter::once(&TRAINING[..1]).chain(models).chain([&TRAINING[1..]]))
}

/// The lecture's decay: a tenth of the learning rate.
fn lr_final_default(lr: f64) -> f64 {
    lr / 10.0
}

/// The settings of every run, whatever its model. `model` comes first.
pub const TRAINING: [Setting; 11] = [
    Setting {
        name: "model",
        help: "The network: mlp or wavenet (the lecture's two)",
        kind: Kind::Choice(&ModelKind::NAMES),
        default: DefaultValue::Name("wavenet"),
    },
    Setting {
        name: "lr",
        help: "Learning rate",
        kind: Kind::Positive,
        default: DefaultValue::Number(0.1),
    },
    Setting {
        name: "lr_final",
        help: "Learning rate after the decay point",
        kind: Kind::NonNegative,
        default: DefaultValue::Derived {
            from: "lr",
            rule: lr_final_default,
            text: "lr / 10",
        },
    },
    Setting {
        name: "lr_decay_at",
        help: "Fraction of the steps after which lr_final is used",
        kind: Kind::Fraction,
        default: DefaultValue::Number(0.75),
    },
    Setting {
        name: "batch_size",
        help: "Examples per minibatch",
        kind: Kind::Count {
            min: 2,
            why: "BatchNorm needs a batch to take statistics over",
        },
        default: DefaultValue::Count(32),
    },
    Setting {
        name: "steps",
        help: "Training steps",
        kind: Kind::Count { min: 1, why: "" },
        default: DefaultValue::Count(200_000),
    },
    Setting {
        name: "seed",
        help: "Seed of weight init, minibatches and samples",
        kind: Kind::Count { min: 0, why: "" },
        default: DefaultValue::Count(42),
    },
    Setting {
        name: "split_seed",
        help: "Seed of the shuffle before the 80/10/10 train/val/test split",
        kind: Kind::Count { min: 0, why: "" },
        default: DefaultValue::Count(42),
    },
    Setting {
        name: "log_every",
        help: "Steps per averaged training-loss point",
        kind: Kind::Count { min: 1, why: "" },
        default: DefaultValue::Count(100),
    },
    Setting {
        name: "eval_every",
        help: "Steps between full validation-split evaluations",
        kind: Kind::Count { min: 1, why: "" },
        default: DefaultValue::Count(10_000),
    },
    FAST_PATH,
];

const FAST_PATH: Setting = Setting {
    name: "fast_path",
    help: "Train with the model's hand-derived backward pass, where it has one and the optimizer is SGD (off: Burn's autodiff)",
    kind: Kind::Flag,
    default: DefaultValue::Flag(true),
};

/// For configurations stored before `fast_path` existed: they trained on the fast path.
fn fast_path_default() -> bool {
    matches!(FAST_PATH.default, DefaultValue::Flag(true))
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Mlp => "mlp",
            Self::Wavenet => "wavenet",
        })
    }
}

impl FromStr for ModelKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "mlp" => Ok(Self::Mlp),
            "wavenet" => Ok(Self::Wavenet),
            other => Err(format!("unknown model `{other}`; expected one of: mlp, wavenet")),
        }
    }
}

/// A configuration key that failed its check, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`{key}` {reason}")]
pub struct ConfigError {
    pub key: String,
    pub reason: String,
}

impl ConfigError {
    fn new(key: &str, reason: impl Into<String>) -> Self {
        Self {
            key: key.to_string(),
            reason: reason.into(),
        }
    }
}

/// Every setting, typed; unset keys take their declared defaults, the lecture's values (its
/// final model: wavenet, block 8, n_embd 24, n_hidden 128; batch 32, lr 0.1 → 0.01 at 75% of
/// 200,000 steps, seed 42). `lr_final: None` is its derived default, lr / 10.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainOptions {
    pub model: ModelKind,
    pub n_embd: usize,
    pub n_hidden: usize,
    /// Context length in tokens.
    pub block_size: usize,
    /// Reproduce the lecture's BatchNorm bug: statistics over dim 0 only for 3-D input.
    pub batchnorm_bug: bool,
    pub lr: f64,
    /// Learning rate after the decay point; `None` means `lr / 10`.
    pub lr_final: Option<f64>,
    /// Fraction of `steps` after which `lr_final` is used.
    pub lr_decay_at: f64,
    pub batch_size: usize,
    pub steps: u64,
    /// Seeds weight init, minibatches and samples.
    pub seed: u64,
    /// Seeds the shuffle before the 80/10/10 split; kept apart from `seed` so that seed
    /// replicates train on the same split.
    pub split_seed: u64,
    /// Steps per averaged training-loss point.
    pub log_every: u64,
    /// Steps between full validation-split evaluations.
    pub eval_every: u64,
    /// Use the model's hand-derived backward pass where it has one.
    #[serde(default = "fast_path_default")]
    pub fast_path: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        let defaults: Values = all_settings()
            .into_iter()
            .filter_map(|s| Some((s.name.to_string(), s.default_value()?)))
            .collect();
        serde_json::from_value(Value::Object(defaults)).expect("the declared defaults are valid options")
    }
}

/// Checked training configuration. Only `TryFrom<TrainOptions>` makes one (outside this
/// crate), so holding a `TrainConfig` means every value is usable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TrainOptions")]
#[non_exhaustive]
pub struct TrainConfig {
    pub model: ModelKind,
    pub n_embd: usize,
    pub n_hidden: usize,
    pub block_size: usize,
    pub batchnorm_bug: bool,
    pub lr: f64,
    pub lr_final: f64,
    pub lr_decay_at: f64,
    pub batch_size: usize,
    pub steps: u64,
    pub seed: u64,
    pub split_seed: u64,
    pub log_every: u64,
    pub eval_every: u64,
    pub fast_path: bool,
}

impl TrainConfig {
    /// Learning rate for a 0-based step.
    pub fn lr_at(&self, step: u64) -> f64 {
        if (step as f64) < self.lr_decay_at * self.steps as f64 {
            self.lr
        } else {
            self.lr_final
        }
    }

    /// Trainable values of the network this configuration builds for `vocab_size` tokens,
    /// counted without building it (a sweep stores every run's count before any starts).
    pub fn trainable_params(&self, vocab_size: usize) -> usize {
        let group = match self.model {
            ModelKind::Mlp => self.block_size,
            ModelKind::Wavenet => 2,
        };
        let mut width = self.n_embd;
        let mut total = vocab_size * self.n_embd;
        for _ in 0..self.depth() {
            // Linear without bias, then BatchNorm's gamma and beta.
            total += width * group * self.n_hidden + 2 * self.n_hidden;
            width = self.n_hidden;
        }
        total + self.n_hidden * vocab_size + vocab_size
    }

    /// Number of FlattenConsecutive → Linear → BatchNorm → Tanh blocks.
    pub fn depth(&self) -> usize {
        match self.model {
            ModelKind::Mlp => 1,
            ModelKind::Wavenet => self.block_size.trailing_zeros() as usize,
        }
    }
}

impl TrainConfig {
    /// The configuration of the settings a user set (`values`, by name): each must be a
    /// setting of the chosen model (or of training), of the right kind and range; unset ones
    /// take their defaults.
    pub fn from_settings(values: &Values) -> Result<Self, ConfigError> {
        let model: ModelKind = match values.get("model") {
            Some(value) => {
                TRAINING[0]
                    .check(value)
                    .map_err(|reason| ConfigError::new("model", reason))?;
                value
                    .as_str()
                    .unwrap_or_default()
                    .parse()
                    .map_err(|e: String| ConfigError::new("model", e))?
            }
            None => TrainOptions::default().model,
        };
        let all = all_settings();
        for (key, value) in values {
            let Some(setting) = all.iter().find(|s| s.name == key) else {
                let names: Vec<&str> = all.iter().map(|s| s.name).collect();
                return Err(ConfigError::new(
                    key,
                    format!("is not a setting; the settings are: {}", names.join(", ")),
                ));
            };
            if !model.takes(key) {
                return Err(not_taken(key, model));
            }
            setting.check(value).map_err(|reason| ConfigError::new(key, reason))?;
        }
        let Ok(Value::Object(mut full)) = serde_json::to_value(TrainOptions::default()) else {
            unreachable!("options serialize as an object")
        };
        full.extend(values.clone());
        let options: TrainOptions =
            serde_json::from_value(Value::Object(full)).map_err(|e| ConfigError::new("", e.to_string()))?;
        Self::try_from(options)
    }
}

fn not_taken(key: &str, model: ModelKind) -> ConfigError {
    let own: Vec<&str> = model.settings().iter().map(|s| s.name).collect();
    ConfigError::new(
        key,
        format!(
            "is not a setting of model `{model}` (its own settings: {})",
            own.join(", ")
        ),
    )
}

impl TryFrom<TrainOptions> for TrainConfig {
    type Error = ConfigError;

    fn try_from(o: TrainOptions) -> Result<Self, ConfigError> {
        let Ok(Value::Object(values)) = serde_json::to_value(&o) else {
            unreachable!("options serialize as an object")
        };
        for setting in all_settings() {
            let value = values.get(setting.name).unwrap_or(&Value::Null);
            if value.is_null() && matches!(setting.default, DefaultValue::Derived { .. }) {
                continue;
            }
            if o.model.takes(setting.name) {
                setting
                    .check(value)
                    .map_err(|reason| ConfigError::new(setting.name, reason))?;
            } else if Some(value) != setting.default_value().as_ref() {
                return Err(not_taken(setting.name, o.model));
            }
        }
        if o.model == ModelKind::Wavenet && !(o.block_size >= 2 && o.block_size.is_power_of_two()) {
            return Err(ConfigError::new(
                "block_size",
                format!(
                    "must be a power of two ≥ 2 for wavenet (it halves the context at each layer), got {}",
                    o.block_size
                ),
            ));
        }
        let lr_final = o.lr_final.unwrap_or_else(|| lr_final_default(o.lr));
        Ok(Self {
            model: o.model,
            n_embd: o.n_embd,
            n_hidden: o.n_hidden,
            block_size: o.block_size,
            batchnorm_bug: o.batchnorm_bug,
            lr: o.lr,
            lr_final,
            lr_decay_at: o.lr_decay_at,
            batch_size: o.batch_size,
            steps: o.steps,
            seed: o.seed,
            split_seed: o.split_seed,
            log_every: o.log_every,
            eval_every: o.eval_every,
            fast_path: o.fast_path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(edit: impl FnOnce(&mut TrainOptions)) -> Result<TrainConfig, ConfigError> {
        let mut options = TrainOptions::default();
        edit(&mut options);
        TrainConfig::try_from(options)
    }

    #[test]
    fn defaults_are_the_lecture_schedule() {
        let c = config(|_| {}).unwrap();
        assert_eq!(c.lr_final, 0.01);
        assert_eq!(c.lr_at(149_999), 0.1);
        assert_eq!(c.lr_at(150_000), 0.01);
        assert_eq!(c.depth(), 3);
    }

    #[test]
    fn each_bad_value_names_its_key() {
        type Edit = Box<dyn FnOnce(&mut TrainOptions)>;
        let cases: Vec<(&str, Edit)> = vec![
            ("n_embd", Box::new(|o| o.n_embd = 0)),
            ("n_hidden", Box::new(|o| o.n_hidden = 0)),
            ("block_size", Box::new(|o| o.block_size = 6)),
            ("block_size", Box::new(|o| o.block_size = 1)),
            ("batch_size", Box::new(|o| o.batch_size = 1)),
            ("lr", Box::new(|o| o.lr = f64::NAN)),
            ("lr", Box::new(|o| o.lr = -0.1)),
            ("lr_final", Box::new(|o| o.lr_final = Some(-1.0))),
            ("lr_decay_at", Box::new(|o| o.lr_decay_at = 1.5)),
            ("steps", Box::new(|o| o.steps = 0)),
            ("log_every", Box::new(|o| o.log_every = 0)),
            ("eval_every", Box::new(|o| o.eval_every = 0)),
        ];
        for (key, edit) in cases {
            assert_eq!(config(edit).unwrap_err().key, key);
        }
    }

    fn set(values: serde_json::Value) -> Result<TrainConfig, ConfigError> {
        TrainConfig::from_settings(values.as_object().unwrap())
    }

    #[test]
    fn settings_a_model_does_not_take_are_refused_naming_the_model() {
        let err = set(serde_json::json!({"model": "mlp", "batchnorm_bug": true})).unwrap_err();
        assert_eq!(err.key, "batchnorm_bug");
        assert!(
            err.reason
                .contains("not a setting of model `mlp` (its own settings: n_embd, n_hidden, block_size)"),
            "{err}"
        );
        // Even set to its default: the user asked for something the model has not got.
        assert!(set(serde_json::json!({"model": "mlp", "batchnorm_bug": false})).is_err());
        let c = set(serde_json::json!({"model": "wavenet", "batchnorm_bug": true, "lr": 0.3})).unwrap();
        assert!(c.batchnorm_bug);
        assert!((c.lr_final - 0.03).abs() < 1e-15, "lr_final derived from lr");
        let unknown = set(serde_json::json!({"n_embed": 10})).unwrap_err();
        assert_eq!(unknown.key, "n_embed");
        assert!(unknown.reason.contains("the settings are: model, n_embd"), "{unknown}");
        assert_eq!(
            set(serde_json::json!({"n_hidden": 0})).unwrap_err().reason,
            "must be at least 1, got 0"
        );
        assert_eq!(set(serde_json::json!({})).unwrap(), config(|_| {}).unwrap());
    }

    #[test]
    fn the_typed_options_mirror_every_declared_setting() {
        let Ok(Value::Object(fields)) = serde_json::to_value(TrainOptions::default()) else {
            panic!()
        };
        let mut fields: Vec<&str> = fields.keys().map(String::as_str).collect();
        let mut declared: Vec<&str> = all_settings().iter().map(|s| s.name).collect();
        fields.sort_unstable();
        declared.sort_unstable();
        assert_eq!(fields, declared);
    }

    #[test]
    fn mlp_takes_any_block_size() {
        let c = config(|o| {
            o.model = ModelKind::Mlp;
            o.block_size = 3;
        })
        .unwrap();
        assert_eq!(c.depth(), 1);
    }

    #[test]
    fn deserializing_goes_through_validation() {
        let c = config(|o| o.lr_final = Some(0.02)).unwrap();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<TrainConfig>(&json).unwrap(), c);
        let bad = json.replace("\"n_embd\":24", "\"n_embd\":0");
        assert!(
            serde_json::from_str::<TrainConfig>(&bad)
                .unwrap_err()
                .to_string()
                .contains("n_embd")
        );
        assert!(serde_json::from_str::<TrainConfig>("{\"n_embed\":3}").is_err());
    }
}
