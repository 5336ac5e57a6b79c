//! The sweep file as written: serde structs that mirror the YAML (W&B Sweeps syntax plus
//! `variants`), with the source location of every value kept for error messages. Nothing
//! is checked here beyond YAML types; `spec::validate` turns this into a `SweepSpec`.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_saphyr::Spanned;

pub use super::early_terminate::RawEarlyTerminate;
pub use super::halving::RawHalving;
pub use super::pbt::RawPbt;
pub use crate::space::Scalar;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpec {
    pub name: Option<Spanned<String>>,
    pub description: Option<String>,
    pub method: Option<Spanned<String>>,
    pub metric: Option<Spanned<RawMetric>>,
    pub run_cap: Option<Spanned<u64>>,
    pub sampler_seed: Option<u64>,
    /// `bayes`: how many of the latest runs each proposal counts as still training.
    pub proposal_lag: Option<Spanned<u64>>,
    /// `bayes`: the share of TPE's proposals drawn at random instead (BOHB's).
    pub random_fraction: Option<Spanned<f64>>,
    pub data: Option<Spanned<String>>,
    pub backend: Option<Spanned<String>>,
    /// `cpu`, `cuda` (any GPU of `gpus`) or `cuda:N`, for runs that do not set their own.
    pub device: Option<Spanned<String>>,
    pub gpus: Option<Spanned<Vec<u64>>>,
    pub runs_per_gpu: Option<Spanned<u64>>,
    pub workers: Option<Spanned<u64>>,
    pub threads: Option<Spanned<u64>>,
    pub max_retries: Option<u32>,
    /// Seconds, or a number with a unit: `90s`, `30m`, `2h`.
    pub timeout: Option<Spanned<Scalar>>,
    pub checkpoint_every: Option<Spanned<u64>>,
    /// `local` (default) or `slurm`.
    pub launcher: Option<Spanned<String>>,
    pub slurm: Option<Spanned<RawSlurm>>,
    pub parameters: Option<Spanned<OrderedMap<Spanned<RawParameter>>>>,
    pub variants: Option<Vec<Spanned<OrderedMap<Spanned<VariantValue>>>>>,
    pub early_terminate: Option<Spanned<RawEarlyTerminate>>,
    /// Successive halving with restarts: short complete runs first, the best retrained longer.
    pub halving: Option<Spanned<RawHalving>>,
    /// Population-based training: members that copy the best and change their settings.
    pub pbt: Option<Spanned<RawPbt>>,
    // W&B keys this harness does not use yet: accepted, and named in a warning.
    pub program: Option<Spanned<IgnoredAny>>,
    pub command: Option<Spanned<IgnoredAny>>,
    pub entity: Option<Spanned<IgnoredAny>>,
    pub project: Option<Spanned<IgnoredAny>>,
}

/// The `slurm:` section: what each `srun` asks for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSlurm {
    pub partition: Option<String>,
    pub account: Option<String>,
    pub qos: Option<String>,
    pub time: Option<Spanned<Scalar>>,
    pub mem: Option<String>,
    pub constraint: Option<String>,
    pub gres: Option<String>,
    pub extra_args: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetric {
    pub name: String,
    pub goal: Option<String>,
    pub target: Option<f64>,
}

/// One entry of `parameters`, in any of W&B's forms.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawParameter {
    pub value: Option<Spanned<Scalar>>,
    pub values: Option<Vec<Spanned<Scalar>>>,
    pub distribution: Option<Spanned<String>>,
    /// Numbers; whole ones make W&B's inferred distribution `int_uniform`.
    pub min: Option<Spanned<Scalar>>,
    pub max: Option<Spanned<Scalar>>,
    pub q: Option<Spanned<f64>>,
    pub probabilities: Option<Spanned<Vec<f64>>>,
}

/// A value in a variant: a training option's value, or a mapping (for `reference`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum VariantValue {
    Scalar(Scalar),
    Table(BTreeMap<String, f64>),
}

/// A YAML mapping with its keys in file order (grid axes expand in the order written).
#[derive(Debug)]
pub struct OrderedMap<V>(pub Vec<(Spanned<String>, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for OrderedVisitor<V> {
            type Value = OrderedMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                // serde-saphyr already refuses a key given twice.
                let mut entries: Vec<(Spanned<String>, V)> = Vec::new();
                while let Some(entry) = map.next_entry::<Spanned<String>, V>()? {
                    entries.push(entry);
                }
                Ok(OrderedMap(entries))
            }
        }
        deserializer.deserialize_map(OrderedVisitor(PhantomData))
    }
}
