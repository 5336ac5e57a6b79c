//! The Tree-structured Parzen Estimator (Bergstra et al. 2011) exactly as Optuna's default
//! univariate `TPESampler` builds it, one parameter at a time. The finished runs split into
//! the best γ(n) = min(⌈n/10⌉, 25) ("below") and the rest ("above"), with the running runs
//! above (the "constant liar"); each set, in the order the runs were made, gives a Parzen
//! mixture (`parzen`; for categories, a smoothed count per run plus a uniform prior), and of
//! 24 candidates drawn from the "below" mixture the one with the highest log l(x) − log g(x)
//! is proposed. `tests/fixtures/tpe` holds Optuna 5.0.0's own scores for recorded histories,
//! which these must equal to 1e-9. `planner` asks it for each run a `bayes` search adds after
//! its random first runs.

mod gauss;
mod parzen;

use model::rng::Rng;

use super::domain::Domain;
use super::raw::Scalar;
use parzen::{Parzen, Space};

/// Candidates drawn from l(x) per proposal (Optuna's `n_ei_candidates`).
const CANDIDATES: usize = 24;
/// Weight of the prior component (Optuna's `prior_weight`).
const PRIOR_WEIGHT: f64 = 1.0;

/// One run's value of the parameter and its loss to minimize (`None` while it trains).
pub type Observation = (Scalar, Option<f64>);

/// Runs counted as good among `n` finished ones (Optuna's `default_gamma`).
fn good_count(n: usize) -> usize {
    n.div_ceil(10).min(25)
}

/// Each of `n` observations' weight, oldest first (Optuna's `default_weights`): equal, but
/// past 25 the oldest ramp up from 1/n.
fn default_weights(n: usize) -> Vec<f64> {
    let ramp = n.saturating_sub(25);
    let start = 1.0 / n as f64;
    let step = if ramp > 1 {
        (1.0 - start) / (ramp - 1) as f64
    } else {
        0.0
    };
    (0..ramp)
        .map(|i| {
            if i + 1 == ramp && ramp > 1 {
                1.0
            } else {
                start + i as f64 * step
            }
        })
        .chain(std::iter::repeat_n(1.0, n - ramp))
        .collect()
}

/// The runs TPE counts as good, best first: the best γ(finished) of those with a loss
/// (`losses` in run order, `None` for a run still training), ties to the earlier run.
pub fn good(losses: &[Option<f64>]) -> Vec<usize> {
    let mut finished: Vec<usize> = (0..losses.len()).filter(|&i| losses[i].is_some()).collect();
    let loss = |i: usize| losses[i].unwrap_or(f64::INFINITY);
    finished.sort_by(|&a, &b| loss(a).total_cmp(&loss(b)));
    finished.truncate(good_count(finished.len()));
    finished
}

/// The indices of the "below" and "above" observations, each in run order: the good runs
/// (`good`), and the rest with the running ones.
fn split(observations: &[Observation]) -> (Vec<usize>, Vec<usize>) {
    let losses: Vec<Option<f64>> = observations.iter().map(|observation| observation.1).collect();
    let mut below = good(&losses);
    below.sort_unstable();
    let above = (0..observations.len())
        .filter(|i| below.binary_search(i).is_err())
        .collect();
    (below, above)
}

/// A value TPE proposed and how: the score log l(x) − log g(x) of each candidate, the value
/// being the first with the highest (none for a fixed value, which is not chosen).
pub struct Scored {
    pub value: Scalar,
    pub scores: Vec<f64>,
}

/// The value TPE proposes for a parameter over `domain`, from `observations` (in run order).
pub fn propose(domain: &Domain, observations: &[Observation], rng: &mut Rng) -> Scored {
    let Some(model) = Model::new(domain, observations) else {
        // A fixed value: itself (drawing one takes nothing from `rng`).
        return Scored {
            value: domain.draw(rng),
            scores: Vec::new(),
        };
    };
    let candidates: Vec<Scalar> = (0..CANDIDATES).map(|_| model.sample(rng)).collect();
    let scores: Vec<f64> = candidates.iter().map(|c| model.score(c)).collect();
    // The first of the best, as numpy's argmax.
    let best = (0..candidates.len()).fold(0, |best, i| if scores[i] > scores[best] { i } else { best });
    Scored {
        value: candidates[best].clone(),
        scores,
    }
}

/// The good (l) and bad (g) mixtures of one parameter; none for a fixed value.
enum Model<'a> {
    Categorical {
        values: &'a [Scalar],
        l: Vec<f64>,
        g: Vec<f64>,
    },
    Numeric {
        l: Parzen,
        g: Parzen,
    },
}

impl<'a> Model<'a> {
    fn new(domain: &'a Domain, observations: &[Observation]) -> Option<Self> {
        let (below, above) = split(observations);
        Some(match domain {
            Domain::Fixed(_) => return None,
            Domain::Choice { values, .. } => Self::Categorical {
                values,
                l: categorical(values, observations, &below),
                g: categorical(values, observations, &above),
            },
            numeric => {
                let space = Space::of(numeric);
                Self::Numeric {
                    l: numeric_parzen(space, observations, &below),
                    g: numeric_parzen(space, observations, &above),
                }
            }
        })
    }

    /// A candidate drawn from l.
    fn sample(&self, rng: &mut Rng) -> Scalar {
        match self {
            Self::Categorical { values, l, .. } => {
                let weights: Vec<f32> = l.iter().map(|p| *p as f32).collect();
                values[rng.weighted_index(&weights)].clone()
            }
            Self::Numeric { l, .. } => l.sample(rng),
        }
    }

    /// log l(x) − log g(x); −∞ for a value outside the domain's kind.
    fn score(&self, candidate: &Scalar) -> f64 {
        match self {
            Self::Categorical { values, l, g } => match values.iter().position(|v| v == candidate) {
                Some(i) => l[i].ln() - g[i].ln(),
                None => f64::NEG_INFINITY,
            },
            Self::Numeric { l, g } => match Space::number(candidate) {
                Some(x) => l.log_pdf(x) - g.log_pdf(x),
                None => f64::NEG_INFINITY,
            },
        }
    }
}

fn numeric_parzen(space: Space, observations: &[Observation], chosen: &[usize]) -> Parzen {
    let values: Vec<f64> = chosen
        .iter()
        .filter_map(|&i| Space::number(&observations[i].0))
        .collect();
    Parzen::new(space, &values, &default_weights(values.len()))
}

/// The probability of each category under the mixture of the `chosen` observations' kernels
/// (each its category plus a share of the prior, normalized) and a uniform prior, weighted as
/// the numeric mixtures are.
fn categorical(values: &[Scalar], observations: &[Observation], chosen: &[usize]) -> Vec<f64> {
    let observed: Vec<usize> = chosen
        .iter()
        .filter_map(|&i| values.iter().position(|v| *v == observations[i].0))
        .collect();
    let uniform = vec![1.0 / values.len() as f64; values.len()];
    if observed.is_empty() {
        return uniform;
    }
    let kernels = (observed.len() + 1) as f64;
    let smoothing = PRIOR_WEIGHT / kernels;
    let row_total = smoothing * values.len() as f64 + 1.0;
    let mut weights = default_weights(observed.len());
    weights.push(PRIOR_WEIGHT);
    let total: f64 = weights.iter().sum();
    let mut probabilities: Vec<f64> = uniform.iter().map(|p| p * PRIOR_WEIGHT / total).collect();
    for (&category, weight) in observed.iter().zip(&weights) {
        for (c, p) in probabilities.iter_mut().enumerate() {
            let kernel = (smoothing + if c == category { 1.0 } else { 0.0 }) / row_total;
            *p += weight / total * kernel;
        }
    }
    probabilities
}

/// log Σ exp(x), without overflow.
fn log_sum_exp(xs: impl Iterator<Item = f64>) -> f64 {
    let xs: Vec<f64> = xs.collect();
    let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + xs.iter().map(|x| (x - max).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests;
