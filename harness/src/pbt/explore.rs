//! Explore: a member that exploited takes its donor's settings with each mutable one changed —
//! drawn afresh from its distribution with probability `resample`, else perturbed: a number
//! multiplied by one of `factors` and clamped into its range (rounded for a whole number or a
//! `q` step), a value of a list moved to a neighbour (kept at the ends), as Ray Tune's PBT does.
//! A setting whose default derives from a changed one and was left at it (`lr_final`, lr / 10)
//! follows it.

use model::TrainConfig;
use model::rng::Rng;
use model::settings::DefaultValue;
use results::summary::cell;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Pbt;
use crate::space::{Domain, Scalar};

/// A setting that may change at an exploit, and the values it ranges over (its `parameters`
/// entry: the initial draws come from it too).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mutation {
    pub setting: String,
    pub domain: Domain,
}

impl Mutation {
    /// "lr ×0.8 or ×1.2 within [0.0003, 0.01]", "batch_size to a neighbour in [16, 32, 64]".
    pub fn describe(&self, factors: &[f64]) -> String {
        let factors: Vec<String> = factors.iter().map(|f| format!("×{f}")).collect();
        let (setting, factors) = (&self.setting, factors.join(" or "));
        match &self.domain {
            Domain::Choice { values, .. } => {
                let values: Vec<String> = values.iter().map(ToString::to_string).collect();
                format!("{setting} to a neighbour in [{}]", values.join(", "))
            }
            Domain::Uniform { min, max } | Domain::LogUniform { min, max } => {
                format!("{setting} {factors} within [{min}, {max}]")
            }
            Domain::IntUniform { min, max } => format!("{setting} {factors} within [{min}, {max}]"),
            Domain::QUniform { min, max, q } => format!("{setting} {factors} within [{min}, {max}] in steps of {q}"),
            Domain::Fixed(value) => format!("{setting} fixed at {value}"),
        }
    }
}

/// How one setting changed.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub setting: String,
    pub from: Value,
    pub to: Value,
    pub how: How,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum How {
    /// Drawn afresh from its distribution.
    Resampled,
    /// Multiplied by `factor`; `clamped` when that left its range.
    Scaled { factor: f64, clamped: bool },
    /// Moved `by` places along its list (0 at an end it could not pass).
    Shifted { by: i64 },
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (setting, from, to) = (&self.setting, cell(Some(&self.from)), cell(Some(&self.to)));
        match self.how {
            How::Resampled => write!(f, "{setting} {from} → {to} (drawn afresh)"),
            How::Scaled { factor, clamped: false } => write!(f, "{setting} {from} → {to} (×{factor})"),
            How::Scaled { factor, clamped: true } => {
                write!(f, "{setting} {from} → {to} (×{factor}, held at the end of its range)")
            }
            How::Shifted { by: 0 } => write!(f, "{setting} {from} → {to} (at the end of its list)"),
            How::Shifted { by } => write!(f, "{setting} {from} → {to} ({by:+} along its list)"),
        }
    }
}

/// `donor` with every mutation of `pbt` applied, in their order, drawing from `rng`.
pub fn explore(
    pbt: &Pbt,
    donor: &TrainConfig,
    rng: &mut Rng,
) -> Result<(TrainConfig, Vec<Change>), model::ConfigError> {
    let Ok(Value::Object(mut values)) = serde_json::to_value(donor) else {
        unreachable!("a configuration serializes as an object")
    };
    let following = derived_from_mutations(pbt, &values);
    let mut changes = Vec::with_capacity(pbt.mutations.len());
    for mutation in &pbt.mutations {
        let from = values.get(&mutation.setting).cloned().unwrap_or(Value::Null);
        let perturbation = if rng.uniform() < pbt.resample {
            None
        } else {
            perturbed(&mutation.domain, &from, &pbt.factors, rng)
        };
        let (to, how) = perturbation.unwrap_or_else(|| (mutation.domain.draw(rng).to_json(), How::Resampled));
        values.insert(mutation.setting.clone(), to.clone());
        changes.push(Change {
            setting: mutation.setting.clone(),
            from,
            to,
            how,
        });
    }
    for setting in following {
        values.remove(setting);
    }
    Ok((TrainConfig::try_from(values)?, changes))
}

/// Whether two values are the same, a number written whole (`0`) equal to the same written
/// with a point (`0.0`), as a list in a sweep file may write a setting's number.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// The settings `values` leaves at a default derived from a setting `pbt` changes, and that
/// `pbt` does not change itself: unset, they are derived again from the new value.
fn derived_from_mutations(pbt: &Pbt, values: &model::settings::Values) -> Vec<&'static str> {
    let mutated = |name: &str| pbt.mutations.iter().any(|m| m.setting == name);
    model::all_settings()
        .iter()
        .filter(|s| matches!(s.default, DefaultValue::Derived { from, .. } if mutated(from)) && !mutated(s.name))
        .filter(|s| s.is_derived_in(|name| values.get(name)?.as_f64()))
        .map(|s| s.name)
        .collect()
}

/// `value` perturbed within `domain`; `None` where it cannot be (a value not in its list, a
/// fixed one): it is drawn afresh instead.
fn perturbed(domain: &Domain, value: &Value, factors: &[f64], rng: &mut Rng) -> Option<(Value, How)> {
    let factor = |rng: &mut Rng| factors[rng.below(factors.len())];
    match domain {
        Domain::Fixed(_) => None,
        Domain::Choice { values, .. } => {
            let at = values.iter().position(|v| same_value(&v.to_json(), value))?;
            let wanted = if rng.below(2) == 0 {
                at as i64 - 1
            } else {
                at as i64 + 1
            };
            let to = wanted.clamp(0, values.len() as i64 - 1);
            Some((values[to as usize].to_json(), How::Shifted { by: to - at as i64 }))
        }
        Domain::Uniform { min, max } | Domain::LogUniform { min, max } => {
            let factor = factor(rng);
            let scaled = value.as_f64()? * factor;
            let to = scaled.clamp(*min, *max);
            Some((
                Scalar::Float(to).to_json(),
                How::Scaled {
                    factor,
                    clamped: to != scaled,
                },
            ))
        }
        Domain::IntUniform { min, max } => {
            let factor = factor(rng);
            let scaled = (value.as_f64()? * factor).round();
            let to = scaled.clamp(*min as f64, *max as f64);
            Some((
                Scalar::Int(to as i64).to_json(),
                How::Scaled {
                    factor,
                    clamped: to != scaled,
                },
            ))
        }
        Domain::QUniform { q, .. } => {
            let factor = factor(rng);
            let scaled = (value.as_f64()? * factor / q).round() * q;
            let ends = domain.examples();
            let number = |s: &Scalar| s.to_json().as_f64().unwrap_or(scaled);
            let (lo, hi) = (number(&ends[0]), number(&ends[1]));
            let to = scaled.clamp(lo, hi);
            Some((
                crate::space::quantized(to, *q).to_json(),
                How::Scaled {
                    factor,
                    clamped: to != scaled,
                },
            ))
        }
    }
}
