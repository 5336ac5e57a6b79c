//! Training configuration in two stages: `TrainOptions` is what a user wrote (CLI flags,
//! later a sweep file), with the lecture's values as defaults; `TrainConfig` is the checked,
//! fully resolved form that the model and the training loop take and never re-check.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Embedding → flatten → Linear → BatchNorm → Tanh → Linear.
    Mlp,
    /// Embedding → [FlattenConsecutive(2) → Linear → BatchNorm → Tanh] × log2(block) → Linear.
    Wavenet,
}

impl ModelKind {
    pub const NAMES: [&'static str; 2] = ["mlp", "wavenet"];
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

/// A setting whose unset value is computed from another one (`lr_final` = `lr` / 10).
pub struct DerivedDefault {
    pub key: &'static str,
    pub from: &'static str,
    pub rule: fn(f64) -> f64,
}

impl DerivedDefault {
    /// Whether a configuration's `key` holds what the rule makes of its `from`, as when the
    /// user left it unset; `value` reads a setting of that configuration as a number.
    pub fn holds(&self, value: impl Fn(&str) -> Option<f64>) -> bool {
        match (value(self.key), value(self.from)) {
            (Some(set), Some(from)) => set == (self.rule)(from),
            _ => false,
        }
    }
}

/// Every derived default of `TrainOptions`: tables show such a key as varying only where a
/// run's value is not the derived one.
pub const DERIVED_DEFAULTS: [DerivedDefault; 1] = [DerivedDefault {
    key: "lr_final",
    from: "lr",
    rule: lr_final_default,
}];

/// The lecture's decay: a tenth of the learning rate.
fn lr_final_default(lr: f64) -> f64 {
    lr / 10.0
}

/// A configuration key that failed its check, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`{key}` {reason}")]
pub struct ConfigError {
    pub key: &'static str,
    pub reason: String,
}

/// Training options as written by the user; unset keys take the lecture's values
/// (its final model: wavenet, block 8, n_embd 24, n_hidden 128; batch 32, lr 0.1 → 0.01
/// at 75% of 200,000 steps, seed 42).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
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
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            model: ModelKind::Wavenet,
            n_embd: 24,
            n_hidden: 128,
            block_size: 8,
            batchnorm_bug: false,
            lr: 0.1,
            lr_final: None,
            lr_decay_at: 0.75,
            batch_size: 32,
            steps: 200_000,
            seed: 42,
            split_seed: 42,
            log_every: 100,
            eval_every: 10_000,
        }
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

fn check(ok: bool, key: &'static str, reason: impl FnOnce() -> String) -> Result<(), ConfigError> {
    if ok {
        Ok(())
    } else {
        Err(ConfigError { key, reason: reason() })
    }
}

impl TryFrom<TrainOptions> for TrainConfig {
    type Error = ConfigError;

    fn try_from(o: TrainOptions) -> Result<Self, ConfigError> {
        let positive = |key, value: u64| check(value > 0, key, || format!("must be at least 1, got {value}"));
        positive("n_embd", o.n_embd as u64)?;
        positive("n_hidden", o.n_hidden as u64)?;
        positive("block_size", o.block_size as u64)?;
        positive("steps", o.steps)?;
        positive("log_every", o.log_every)?;
        positive("eval_every", o.eval_every)?;
        if o.model == ModelKind::Wavenet {
            check(
                o.block_size >= 2 && o.block_size.is_power_of_two(),
                "block_size",
                || {
                    format!(
                        "must be a power of two ≥ 2 for wavenet (it halves the context at each layer), got {}",
                        o.block_size
                    )
                },
            )?;
        }
        check(o.batch_size >= 2, "batch_size", || {
            format!(
                "must be at least 2 (BatchNorm needs a batch to take statistics over), got {}",
                o.batch_size
            )
        })?;
        check(o.lr.is_finite() && o.lr > 0.0, "lr", || {
            format!("must be a positive number, got {}", o.lr)
        })?;
        let lr_final = o.lr_final.unwrap_or_else(|| lr_final_default(o.lr));
        check(lr_final.is_finite() && lr_final >= 0.0, "lr_final", || {
            format!("must be a non-negative number, got {lr_final}")
        })?;
        check((0.0..=1.0).contains(&o.lr_decay_at), "lr_decay_at", || {
            format!("must be a fraction of the steps between 0 and 1, got {}", o.lr_decay_at)
        })?;
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

    #[test]
    fn lr_final_is_derived_only_where_it_is_a_tenth_of_lr() {
        let [derived] = &DERIVED_DEFAULTS;
        let of = |c: &TrainConfig| {
            let (lr, lr_final) = (c.lr, c.lr_final);
            move |key: &str| match key {
                "lr" => Some(lr),
                "lr_final" => Some(lr_final),
                _ => None,
            }
        };
        let unset = config(|o| o.lr = 0.3).unwrap();
        assert!(derived.holds(of(&unset)));
        let set = config(|o| o.lr_final = Some(0.02)).unwrap();
        assert!(!derived.holds(of(&set)));
        assert!(!derived.holds(|_| None), "a setting that is not there is not derived");
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
