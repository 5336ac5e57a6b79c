//! Training configuration in two stages: the settings a user set (CLI flags, a sweep file's
//! keys), checked against the declarations of the training settings (`training::TRAINING`)
//! and of the model's (`ModelKind::settings`), then `TrainConfig`: the checked, fully
//! resolved form that the model and the training loop take and never re-check. The
//! training settings are typed fields of both; the model's own are a `net` map that the
//! model's file reads, typed, so a new model adds no field here. Defaults are those
//! declared, less those a model declares as its own (`ModelKind::default_of`).

mod training;

pub use training::{OptimizerKind, ScheduleKind, TRAINING};

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::dataset::{Dataset, Reading};
pub use crate::models::ModelKind;
use crate::settings::{self, ConfigError, DefaultValue, Setting, Values};

impl ModelKind {
    /// Every setting of a run of this model: `model`, the model's own, then training's.
    pub fn run_settings(self) -> Vec<&'static Setting> {
        settings::union([&TRAINING[..1], self.settings(), &TRAINING[1..]])
    }

    fn takes(self, name: &str) -> bool {
        self.run_settings().iter().any(|s| s.name == name)
    }
}

impl ModelKind {
    /// What `setting` is when a run of this model leaves it unset: the model's own default
    /// where it has one (makemore.py's models train with AdamW), else the declared one;
    /// `None` for a derived default.
    pub fn default_of(self, setting: &Setting) -> Option<Value> {
        self.default_override(setting.name)
            .map_or_else(|| setting.default_value(), |own| own.value())
    }

    /// Every setting's default for a run of this model (derived ones left out), by name.
    fn defaults(self) -> Values {
        all_settings()
            .iter()
            .filter_map(|s| Some((s.name.to_string(), self.default_of(s)?)))
            .collect()
    }
}

/// Every setting of any model, each once: what a sweep file may set and a table may show.
/// Gathered once: a sweep of 10,000 runs asks for it at every run.
pub fn all_settings() -> &'static [&'static Setting] {
    static ALL: LazyLock<Vec<&'static Setting>> = LazyLock::new(|| {
        let models = ModelKind::ALL.iter().map(|m| m.settings());
        settings::union(std::iter::once(&TRAINING[..1]).chain(models).chain([&TRAINING[1..]]))
    });
    &ALL
}

/// Every setting, the training ones typed; `Default` gives the declared defaults, the lecture's values (its
/// final model: wavenet, block 8, n_embd 24, n_hidden 128; SGD with batch 32, lr 0.1 → 0.01
/// at 75% of 200,000 steps, seed 42). `lr_final: None` is its derived default, lr / 10.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    pub model: ModelKind,
    /// The model's settings (and anything else written, refused when checked), by name.
    #[serde(flatten)]
    pub net: Values,
    pub optimizer: OptimizerKind,
    pub lr: f64,
    pub lr_schedule: ScheduleKind,
    /// Learning rate after the decay point (step) or at the end (cosine); `None`: lr / 10.
    pub lr_final: Option<f64>,
    /// Fraction of `steps` after which `lr_final` is used (step).
    pub lr_decay_at: f64,
    pub warmup_steps: u64,
    pub momentum: f64,
    pub nesterov: bool,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// Largest global gradient norm; 0: no clipping.
    pub grad_clip: f64,
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
    /// Train-split examples the final train loss is computed on; 0: all of them.
    pub final_train_sample: usize,
    /// Use the model's hand-derived backward pass where it has one.
    pub fast_path: bool,
}

/// The model `values` name, else the default one.
fn model_of(values: &Values) -> Result<ModelKind, ConfigError> {
    match text(values, "model") {
        Some(name) => name.parse().map_err(|e: String| ConfigError::new("model", e)),
        None => Ok(default_model()),
    }
}

fn default_model() -> ModelKind {
    let declared = TRAINING[0].default_value().and_then(|v| v.as_str()?.parse().ok());
    declared.expect("the declared default model is a model")
}

impl TrainOptions {
    /// Sets one of the model's settings: `options.set("n_embd", 10)`.
    pub fn set(&mut self, name: &str, value: impl Into<Value>) -> &mut Self {
        self.net.insert(name.to_string(), value.into());
        self
    }
}

impl Default for TrainOptions {
    fn default() -> Self {
        serde_json::from_value(Value::Object(default_model().defaults()))
            .expect("the declared defaults are valid options")
    }
}

/// Checked training configuration: the options, every value usable and `lr_final`
/// resolved. Only `TryFrom<TrainOptions>` makes one, so holding a `TrainConfig` means every
/// value was checked; its settings are read through `Deref` (`config.lr`) and never changed.
/// Read back from JSON, a setting it does not hold (a configuration stored before that setting
/// existed) takes its declared default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Values", into = "TrainOptions")]
pub struct TrainConfig {
    /// The model's settings in `net` each given or its default, `lr_final` always `Some`.
    options: TrainOptions,
}

impl std::ops::Deref for TrainConfig {
    type Target = TrainOptions;

    fn deref(&self) -> &TrainOptions {
        &self.options
    }
}

impl From<TrainConfig> for TrainOptions {
    fn from(config: TrainConfig) -> Self {
        config.options
    }
}

impl TrainConfig {
    /// The same configuration trained for `steps` steps instead (its schedule, in fractions
    /// of the steps, scaled to them), checked again.
    pub fn with_steps(&self, steps: u64) -> Result<Self, ConfigError> {
        let mut options = self.options.clone();
        options.steps = steps;
        Self::try_from(options)
    }

    /// Learning rate after the decay point (step) or at the end (cosine): the one set, else
    /// lr / 10.
    pub fn lr_final(&self) -> f64 {
        self.options.lr_final.expect("resolved when the configuration was made")
    }

    /// Learning rate for a 0-based step: the schedule's, scaled up linearly over the first
    /// `warmup_steps` (step `s` of the warm-up gets (s + 1) / warmup_steps of it). A cosine
    /// runs over the steps after the warm-up: lr_final + (lr − lr_final)·(1 + cos(π·t/T)) / 2.
    pub fn lr_at(&self, step: u64) -> f64 {
        let scheduled = match self.lr_schedule {
            ScheduleKind::Constant => self.lr,
            ScheduleKind::Step if (step as f64) < self.lr_decay_at * self.steps as f64 => self.lr,
            ScheduleKind::Step => self.lr_final(),
            ScheduleKind::Cosine => {
                let span = self.steps.saturating_sub(self.warmup_steps).max(1) as f64;
                let t = (step.saturating_sub(self.warmup_steps) as f64 / span).min(1.0);
                self.lr_final() + (self.lr - self.lr_final()) * (1.0 + (std::f64::consts::PI * t).cos()) / 2.0
            }
        };
        if step < self.warmup_steps {
            scheduled * (step + 1) as f64 / self.warmup_steps as f64
        } else {
            scheduled
        }
    }

    /// The settings that mean something for this run, by name: every setting of its model
    /// and of training, less those its other settings rule out (`beta1` for SGD,
    /// `lr_decay_at` for a cosine). What a store keeps of a run; reading it back as a
    /// `TrainConfig` gives the others their defaults.
    pub fn applicable_settings(&self) -> Values {
        let Ok(Value::Object(all)) = serde_json::to_value(self) else {
            unreachable!("a configuration serializes as an object")
        };
        self.model
            .run_settings()
            .into_iter()
            .filter(|s| s.ruled_out(|name| text(&all, name)).is_none())
            .filter_map(|s| Some((s.name.to_string(), all.get(s.name)?.clone())))
            .collect()
    }

    /// Whether a run trained with this configuration may go on with `next` instead: they
    /// differ only in settings declared `mid_run` (what the optimizer reads at each step).
    /// Else the first setting that differs, and why it cannot change.
    pub fn check_change_to(&self, next: &TrainConfig) -> Result<(), ConfigError> {
        let (Ok(Value::Object(now)), Ok(Value::Object(then))) =
            (serde_json::to_value(self), serde_json::to_value(next))
        else {
            unreachable!("a configuration serializes as an object")
        };
        let keys = now.keys().chain(then.keys().filter(|key| !now.contains_key(*key)));
        for key in keys {
            if now.get(key) == then.get(key) {
                continue;
            }
            let mid_run = all_settings().iter().any(|s| s.name == key && s.mid_run);
            if !mid_run {
                let may: Vec<&str> = all_settings().iter().filter(|s| s.mid_run).map(|s| s.name).collect();
                return Err(ConfigError::new(
                    key,
                    format!(
                        "cannot change part-way through a run (it shapes the model or the data); only {} can",
                        may.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Whether training takes the model's hand-derived backward pass: asked for, the model
    /// has one, and plain SGD without clipping (the pass computes gradients and descends
    /// with them, nothing more).
    pub fn uses_fast_path(&self) -> bool {
        self.fast_path
            && self.model.has_fast_path()
            && self.optimizer == OptimizerKind::Sgd
            && self.momentum == 0.0
            && self.grad_clip == 0.0
    }

    /// Characters of context the model reads (a `block_size` for the lecture's models).
    pub fn context(&self) -> usize {
        self.model
            .context(&self.net)
            .expect("the model's settings were checked when made")
    }

    /// Whether the model can read `dataset`: one that reads whole items needs `block_size`
    /// to hold the longest of them and its start token.
    pub fn check_data(&self, dataset: &Dataset) -> Result<(), ConfigError> {
        let (needed, block_size) = (dataset.longest_item() + 1, self.context());
        if self.model.reading() == Reading::Windows || needed <= block_size {
            return Ok(());
        }
        Err(ConfigError::new(
            "block_size",
            format!(
                "is {block_size}, but model `{}` reads whole items and the longest item of the data has {} characters: set block_size to at least {needed} (the longest item + its start token)",
                self.model,
                needed - 1
            ),
        ))
    }

    /// Trainable values of the network this configuration builds for `vocab_size` tokens,
    /// counted without building it (a sweep stores every run's count before any starts).
    pub fn trainable_params(&self, vocab_size: usize) -> usize {
        self.model
            .count_params(&self.net, vocab_size)
            .expect("the model's settings were checked when made")
    }

    /// The configuration of the settings a user set (`values`, by name): each must be a
    /// setting of the chosen model (or of training) that applies with the run's other
    /// settings (`momentum` with `sgd`), of the right kind and range; unset ones take their
    /// defaults.
    pub fn from_settings(values: &Values) -> Result<Self, ConfigError> {
        let all = all_settings();
        for (key, value) in values {
            let Some(setting) = all.iter().find(|s| s.name == key) else {
                let names: Vec<&str> = all.iter().map(|s| s.name).collect();
                return Err(ConfigError::new(
                    key,
                    format!("is not a setting; the settings are: {}", names.join(", ")),
                ));
            };
            setting.check(value).map_err(|reason| ConfigError::new(key, reason))?;
        }
        let model = model_of(values)?;
        let mut full = model.defaults();
        full.extend(values.clone());
        for key in values.keys() {
            if !model.takes(key) {
                return Err(not_taken(key, model));
            }
            let setting = all.iter().find(|s| s.name == key).expect("checked above");
            if let Some(reason) = setting.ruled_out(|name| text(&full, name)) {
                return Err(ConfigError::new(key, reason));
            }
        }
        Self::try_from(full)
    }
}

/// A setting's value as text (names as they are, numbers as JSON writes them).
fn text(values: &Values, name: &str) -> Option<String> {
    values
        .get(name)
        .map(|v| v.as_str().map_or_else(|| v.to_string(), String::from))
}

fn not_taken(key: &str, model: ModelKind) -> ConfigError {
    let own: Vec<&str> = model.settings().iter().map(|s| s.name).collect();
    let own = if own.is_empty() {
        "it has no settings of its own".to_string()
    } else {
        format!("its own settings: {}", own.join(", "))
    };
    ConfigError::new(key, format!("is not a setting of model `{model}` ({own})"))
}

/// Every setting's value, the declared default for those missing (stored before they
/// existed), then checked as `TrainOptions`.
impl TryFrom<Values> for TrainConfig {
    type Error = ConfigError;

    fn try_from(values: Values) -> Result<Self, ConfigError> {
        let mut full = model_of(&values)?.defaults();
        full.extend(values);
        let options: TrainOptions =
            serde_json::from_value(Value::Object(full)).map_err(|e| ConfigError::new("", e.to_string()))?;
        Self::try_from(options)
    }
}

impl TryFrom<TrainOptions> for TrainConfig {
    type Error = ConfigError;

    fn try_from(o: TrainOptions) -> Result<Self, ConfigError> {
        let Ok(Value::Object(given)) = serde_json::to_value(&o) else {
            unreachable!("options serialize as an object")
        };
        // A model setting left out of `net` is its default.
        let mut values = o.model.defaults();
        values.extend(given);
        for setting in all_settings() {
            let value = values.get(setting.name).unwrap_or(&Value::Null);
            if value.is_null() && matches!(setting.default, DefaultValue::Derived { .. }) {
                continue;
            }
            let applies = o.model.takes(setting.name) && setting.ruled_out(|name| text(&values, name)).is_none();
            if applies {
                setting
                    .check(value)
                    .map_err(|reason| ConfigError::new(setting.name, reason))?;
            } else if Some(value) != o.model.default_of(setting).as_ref()
                && !setting.is_derived_in(|name| values.get(name)?.as_f64())
            {
                // A value that means nothing for this run is a mistake, unless it is the default.
                return Err(match setting.ruled_out(|name| text(&values, name)) {
                    Some(reason) => ConfigError::new(setting.name, reason),
                    None => not_taken(setting.name, o.model),
                });
            }
        }
        if let Some(key) = o.net.keys().find(|key| !all_settings().iter().any(|s| s.name == *key)) {
            return Err(ConfigError::new(key, "is not a setting"));
        }
        // The model's own settings, each given or its default.
        let net: Values = o
            .model
            .settings()
            .iter()
            .filter_map(|s| {
                Some((
                    s.name.to_string(),
                    values.get(s.name).cloned().or_else(|| o.model.default_of(s))?,
                ))
            })
            .collect();
        o.model.check(&net)?;
        let lr_final = Some(o.lr_final.unwrap_or_else(|| training::lr_final_default(o.lr)));
        Ok(Self {
            options: TrainOptions { net, lr_final, ..o },
        })
    }
}

#[cfg(test)]
mod tests;
