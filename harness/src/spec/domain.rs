//! One sweep parameter's set of values as a sweep file writes it, checked into a
//! `space::Domain`: a fixed value, a list, or one of W&B's distributions.

use serde_saphyr::{Location, Spanned};

use super::raw::RawParameter;
pub use crate::space::{Domain, Scalar, quantized};

/// The distributions a parameter may name (a subset of W&B's).
pub const DISTRIBUTIONS: [&str; 5] = [
    "uniform",
    "int_uniform",
    "log_uniform_values",
    "q_uniform",
    "categorical",
];

/// A problem with one parameter: where, and what.
pub struct DomainError {
    pub at: Option<Location>,
    pub message: String,
}

fn fail<T>(at: Option<Location>, message: impl Into<String>) -> Result<T, DomainError> {
    Err(DomainError {
        at,
        message: message.into(),
    })
}

/// A bound as a number, and whether it was written as a whole number.
fn number(bound: Spanned<Scalar>) -> Result<(Spanned<f64>, bool), DomainError> {
    let (value, whole) = match bound.value {
        Scalar::Int(n) => (n as f64, true),
        Scalar::Float(x) => (x, false),
        other => return fail(Some(bound.referenced), format!("{other}: expected a number")),
    };
    Ok((
        Spanned {
            value,
            referenced: bound.referenced,
            defined: bound.defined,
        },
        whole,
    ))
}

impl Domain {
    pub fn from_raw(raw: RawParameter, at: Location) -> Result<Self, DomainError> {
        let RawParameter {
            value,
            values,
            distribution,
            min,
            max,
            q,
            probabilities,
        } = raw;
        let bounds_given = min
            .as_ref()
            .map(|s| s.referenced)
            .or(max.as_ref().map(|s| s.referenced))
            .or(q.as_ref().map(|s| s.referenced));
        let min = min.map(number).transpose()?;
        let max = max.map(number).transpose()?;
        if let Some(dist) = distribution {
            if let Some(v) = &value {
                return fail(Some(v.referenced), "give either `value` or `distribution`, not both");
            }
            return Self::distribution(&dist.value, dist.referenced, values, min, max, q, probabilities);
        }
        // W&B infers the distribution from `min` and `max` alone: whole numbers give
        // `int_uniform`, others `uniform`.
        let bounds_alone = value.is_none() && values.is_none() && q.is_none() && probabilities.is_none();
        if let (Some(lo), Some(hi), true) = (&min, &max, bounds_alone) {
            let name = if lo.1 && hi.1 { "int_uniform" } else { "uniform" };
            return Self::distribution(name, at, None, min, max, None, None);
        }
        if bounds_given.is_some() || probabilities.is_some() {
            let at = bounds_given.or(probabilities.map(|p| p.referenced));
            return fail(
                at,
                "give both `min` and `max` (W&B infers `uniform`, `int_uniform` for whole numbers), and a `distribution` to use `q` or `probabilities`",
            );
        }
        match (value, values) {
            (Some(v), None) => Ok(Self::Fixed(v.value)),
            (None, Some(values)) => Ok(Self::Choice {
                values: distinct(values, at)?,
                weights: None,
            }),
            (Some(v), Some(_)) => fail(Some(v.referenced), "give either `value` or `values`, not both"),
            (None, None) => fail(
                Some(at),
                "give `value: x`, `values: [x, y]` or a `distribution` (with `min`/`max`)",
            ),
        }
    }

    fn distribution(
        name: &str,
        at: Location,
        values: Option<Vec<serde_saphyr::Spanned<Scalar>>>,
        min: Option<(serde_saphyr::Spanned<f64>, bool)>,
        max: Option<(serde_saphyr::Spanned<f64>, bool)>,
        q: Option<serde_saphyr::Spanned<f64>>,
        probabilities: Option<serde_saphyr::Spanned<Vec<f64>>>,
    ) -> Result<Self, DomainError> {
        if name == "categorical" {
            let Some(values) = values else {
                return fail(Some(at), "`categorical` needs `values`");
            };
            let values = distinct(values, at)?;
            let weights = match probabilities {
                None => None,
                Some(p) if p.value.len() != values.len() => {
                    return fail(Some(p.referenced), "needs one probability per value");
                }
                Some(p) if p.value.iter().any(|w| !(w.is_finite() && *w >= 0.0)) => {
                    return fail(Some(p.referenced), "probabilities must be numbers ≥ 0");
                }
                Some(p) if (p.value.iter().sum::<f64>() - 1.0).abs() > 1e-6 => {
                    return fail(Some(p.referenced), "probabilities must sum to 1");
                }
                Some(p) => Some(p.value),
            };
            return Ok(Self::Choice { values, weights });
        }
        if !DISTRIBUTIONS.contains(&name) {
            return fail(
                Some(at),
                format!("unknown distribution `{name}`; supported: {}", DISTRIBUTIONS.join(", ")),
            );
        }
        if let Some(v) = values {
            let at = v.first().map_or(at, |s| s.referenced);
            return fail(Some(at), format!("`values` goes with `categorical`, not `{name}`"));
        }
        let (Some((min, _)), Some((max, _))) = (min, max) else {
            return fail(Some(at), format!("`{name}` needs `min` and `max`"));
        };
        if !(min.value.is_finite() && max.value.is_finite()) || min.value > max.value {
            return fail(
                Some(min.referenced),
                format!("`min` ({}) must not be greater than `max` ({})", min.value, max.value),
            );
        }
        let (lo, hi) = (min.value, max.value);
        match (name, q) {
            ("q_uniform", None) => fail(Some(at), "`q_uniform` needs `q`"),
            ("q_uniform", Some(q)) if !(q.value.is_finite() && q.value > 0.0) => {
                fail(Some(q.referenced), "`q` must be a positive number")
            }
            ("q_uniform", Some(q)) => Ok(Self::QUniform {
                min: lo,
                max: hi,
                q: q.value,
            }),
            (_, Some(q)) => fail(Some(q.referenced), "`q` goes with `q_uniform`"),
            ("log_uniform_values", None) if lo <= 0.0 => {
                fail(Some(min.referenced), "`log_uniform_values` needs `min` > 0")
            }
            ("log_uniform_values", None) => Ok(Self::LogUniform { min: lo, max: hi }),
            ("int_uniform", None) if lo.fract() != 0.0 || hi.fract() != 0.0 => fail(
                Some(min.referenced),
                "`int_uniform` needs whole numbers for `min` and `max`",
            ),
            ("int_uniform", None) => Ok(Self::IntUniform {
                min: lo as i64,
                max: hi as i64,
            }),
            _ => Ok(Self::Uniform { min: lo, max: hi }),
        }
    }
}

fn distinct(values: Vec<serde_saphyr::Spanned<Scalar>>, at: Location) -> Result<Vec<Scalar>, DomainError> {
    if values.is_empty() {
        return fail(Some(at), "`values` is empty; list at least one value");
    }
    let mut seen: Vec<Scalar> = Vec::with_capacity(values.len());
    for v in values {
        if seen.contains(&v.value) {
            return fail(Some(v.referenced), format!("`values` lists {} twice", v.value));
        }
        seen.push(v.value);
    }
    Ok(seen)
}
