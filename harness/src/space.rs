//! The values a sweep parameter ranges over, whatever asks: a YAML `Scalar` as written, and
//! its `Domain` — a fixed value, a list, or one of W&B's distributions — which a grid
//! enumerates, a random search draws from with our seeded Rng, TPE models and population-based
//! training perturbs. `spec` checks a sweep file's entries into these.

use std::fmt;

use model::rng::Rng;
use serde::{Deserialize, Serialize};

/// A YAML scalar, kept as typed as YAML wrote it (`8` is an integer, `8.0` a float).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Scalar {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl Scalar {
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Bool(b) => serde_json::Value::Bool(*b),
            Self::Int(i) => serde_json::Value::from(*i),
            Self::Float(f) => serde_json::Value::from(*f),
            Self::Text(s) => serde_json::Value::String(s.clone()),
        }
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bool(b) => write!(f, "{b}"),
            Self::Int(i) => write!(f, "{i}"),
            Self::Float(x) => write!(f, "{x}"),
            Self::Text(s) => f.write_str(s),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Domain {
    Fixed(Scalar),
    /// `values`, or `distribution: categorical` with optional `probabilities`.
    Choice {
        values: Vec<Scalar>,
        weights: Option<Vec<f64>>,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    IntUniform {
        min: i64,
        max: i64,
    },
    LogUniform {
        min: f64,
        max: f64,
    },
    QUniform {
        min: f64,
        max: f64,
        q: f64,
    },
}

impl std::fmt::Display for Domain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |values: &[Scalar]| values.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        match self {
            Self::Fixed(v) => write!(f, "{v}"),
            Self::Choice { values, weights: None } => write!(f, "one of [{}]", list(values)),
            Self::Choice {
                values,
                weights: Some(weights),
            } => write!(f, "one of [{}] with probabilities {weights:?}", list(values)),
            Self::Uniform { min, max } => write!(f, "uniform over [{min}, {max}]"),
            Self::IntUniform { min, max } => write!(f, "int_uniform over [{min}, {max}]"),
            Self::LogUniform { min, max } => write!(f, "log_uniform_values over [{min}, {max}]"),
            Self::QUniform { min, max, q } => write!(f, "q_uniform over [{min}, {max}] in steps of {q}"),
        }
    }
}

impl Domain {
    /// Every value, for a grid; `None` for a continuous distribution.
    pub fn grid(&self) -> Option<Vec<Scalar>> {
        match self {
            Self::Fixed(v) => Some(vec![v.clone()]),
            Self::Choice { values, .. } => Some(values.clone()),
            Self::IntUniform { min, max } => Some((*min..=*max).map(Scalar::Int).collect()),
            Self::QUniform { min, max, q } => {
                let (first, last) = ((min / q).ceil() as i64, (max / q).floor() as i64);
                Some((first..=last).map(|k| quantized(k as f64 * q, *q)).collect())
            }
            Self::Uniform { .. } | Self::LogUniform { .. } => None,
        }
    }

    pub fn draw(&self, rng: &mut Rng) -> Scalar {
        match self {
            Self::Fixed(v) => v.clone(),
            Self::Choice { values, weights: None } => values[rng.below(values.len())].clone(),
            Self::Choice {
                values,
                weights: Some(weights),
            } => {
                let weights: Vec<f32> = weights.iter().map(|w| *w as f32).collect();
                values[rng.weighted_index(&weights)].clone()
            }
            Self::Uniform { min, max } => Scalar::Float(min + (max - min) * rng.uniform()),
            Self::IntUniform { min, max } => Scalar::Int(min + rng.below((max - min + 1) as usize) as i64),
            Self::LogUniform { min, max } => Scalar::Float((min.ln() + (max.ln() - min.ln()) * rng.uniform()).exp()),
            Self::QUniform { min, max, q } => {
                let x = min + (max - min) * rng.uniform();
                quantized((x / q).round() * q, *q)
            }
        }
    }

    /// How many values `grid` gives, without listing them; `None` for a continuous one.
    pub fn grid_len(&self) -> Option<u64> {
        match self {
            Self::Fixed(_) => Some(1),
            Self::Choice { values, .. } => Some(values.len() as u64),
            Self::IntUniform { min, max } => Some(max.abs_diff(*min).saturating_add(1)),
            Self::QUniform { min, max, q } => Some(((max / q).floor() - (min / q).ceil() + 1.0).max(0.0) as u64),
            Self::Uniform { .. } | Self::LogUniform { .. } => None,
        }
    }

    /// Values of the type this domain produces (its ends, for a range), to type-check
    /// against the parameter.
    pub fn examples(&self) -> Vec<Scalar> {
        match self {
            Self::Fixed(_) | Self::Choice { .. } => self.grid().unwrap_or_default(),
            Self::Uniform { min, max } | Self::LogUniform { min, max } => {
                vec![Scalar::Float(*min), Scalar::Float(*max)]
            }
            Self::IntUniform { min, max } => vec![Scalar::Int(*min), Scalar::Int(*max)],
            Self::QUniform { min, max, q } => vec![
                quantized((min / q).ceil() * q, *q),
                quantized((max / q).floor() * q, *q),
            ],
        }
    }
}

/// `x` as an integer when the step is whole (so `q: 16` suits `n_hidden`), else a float.
pub fn quantized(x: f64, q: f64) -> Scalar {
    if q.fract() == 0.0 {
        Scalar::Int(x.round() as i64)
    } else {
        Scalar::Float(x)
    }
}
