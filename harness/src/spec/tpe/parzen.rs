//! Optuna's Parzen estimator over one numeric parameter (`_ParzenEstimator` with its default
//! parameters): a truncated Gaussian at each observation, in the order the runs were made and
//! weighted by `default_weights`, plus a prior over the whole domain; bandwidths from the
//! neighbours (the inner one at either edge), clipped by the "magic clip". Log-uniform
//! parameters live in log space; whole and quantized ones get the probability mass of their
//! step rather than a density.

use model::rng::Rng;

use super::super::domain::{Domain, quantized};
use super::super::raw::Scalar;
use super::gauss::{log_mass, log_truncated};
use super::{PRIOR_WEIGHT, log_sum_exp};

/// A numeric domain as TPE models it.
#[derive(Clone, Copy)]
pub struct Space {
    /// The domain's bounds, in its own units.
    min: f64,
    max: f64,
    /// The spacing of whole or quantized values.
    step: Option<f64>,
    log: bool,
    /// The kernels' interval (log space for `log`; half a step past each bound).
    low: f64,
    high: f64,
}

impl Space {
    pub fn of(domain: &Domain) -> Self {
        let (min, max, step, log) = match *domain {
            Domain::Uniform { min, max } => (min, max, None, false),
            Domain::LogUniform { min, max } => (min, max, None, true),
            Domain::IntUniform { min, max } => (min as f64, max as f64, Some(1.0), false),
            Domain::QUniform { min, max, q } => (min, max, Some(q), false),
            Domain::Fixed(_) | Domain::Choice { .. } => unreachable!("categorical domains are not numeric"),
        };
        let half = step.map_or(0.0, |step| step / 2.0);
        let to = |x: f64| if log { x.ln() } else { x };
        Self {
            min,
            max,
            step,
            log,
            low: to(min - half),
            high: to(max + half),
        }
    }

    /// A parameter value as a number, in the domain's own units.
    pub fn number(value: &Scalar) -> Option<f64> {
        match value {
            Scalar::Int(n) => Some(*n as f64),
            Scalar::Float(x) => Some(*x),
            _ => None,
        }
    }

    fn internal(&self, x: f64) -> f64 {
        if self.log { x.ln() } else { x }
    }

    /// The parameter value a kernel sample `x` (internal) stands for, as Optuna rounds it.
    fn value(&self, x: f64) -> Scalar {
        let x = if self.log { x.exp() } else { x };
        match self.step {
            None => Scalar::Float(x.clamp(self.min, self.max)),
            Some(step) => {
                let on_grid = (self.min + ((x - self.min) / step).round() * step).clamp(self.min, self.max);
                match step {
                    1.0 => Scalar::Int(on_grid.round() as i64),
                    q => quantized(on_grid, q),
                }
            }
        }
    }
}

/// A mixture of truncated Gaussians over a `Space`.
pub struct Parzen {
    space: Space,
    /// (mean, sigma) in the space's internal units, the prior last.
    kernels: Vec<(f64, f64)>,
    /// Each kernel's weight, normalized.
    weights: Vec<f64>,
}

impl Parzen {
    /// The estimator over `values` (in the domain's units, in run order) weighted by
    /// `weights` (one each).
    pub fn new(space: Space, values: &[f64], weights: &[f64]) -> Self {
        let mus: Vec<f64> = values.iter().map(|&x| space.internal(x)).collect();
        let (low, high) = (space.low, space.high);
        let mut kernels: Vec<(f64, f64)> = mus.iter().copied().zip(sigmas(&mus, low, high)).collect();
        kernels.push((0.5 * (low + high), high - low));
        let mut weights = match mus.len() {
            0 => vec![1.0],
            _ => weights.iter().copied().chain([PRIOR_WEIGHT]).collect(),
        };
        let total: f64 = weights.iter().sum();
        weights.iter_mut().for_each(|w| *w /= total);
        Self {
            space,
            kernels,
            weights,
        }
    }

    /// A value drawn from the mixture.
    pub fn sample(&self, rng: &mut Rng) -> Scalar {
        let weights: Vec<f32> = self.weights.iter().map(|w| *w as f32).collect();
        let (mu, sigma) = self.kernels[rng.weighted_index(&weights)];
        let (low, high) = (self.space.low, self.space.high);
        // Truncated to the space by rejection (at least the prior's mass is inside).
        let x = (0..1000)
            .map(|_| mu + sigma * rng.normal())
            .find(|x| (low..=high).contains(x))
            .unwrap_or_else(|| mu.clamp(low, high));
        self.space.value(x)
    }

    /// log of the mixture's density at `value` (its mass, for a whole or quantized value).
    pub fn log_pdf(&self, value: f64) -> f64 {
        let space = &self.space;
        let per_kernel = self.kernels.iter().zip(&self.weights).map(|(&(mu, sigma), w)| {
            let kernel = match space.step {
                None => log_truncated(space.internal(value), mu, sigma, space.low, space.high),
                Some(step) => {
                    let (left, right) = (space.internal(value - step / 2.0), space.internal(value + step / 2.0));
                    log_mass((left - mu) / sigma, (right - mu) / sigma)
                        - log_mass((space.low - mu) / sigma, (space.high - mu) / sigma)
                }
            };
            w.ln() + kernel
        });
        log_sum_exp(per_kernel)
    }
}

/// Each kernel's bandwidth: the larger gap to its sorted neighbours (the interval's ends
/// count as neighbours, but the outermost kernels take their inner gap), clipped between
/// the interval over min(100, kernels + 1) — the prior counting as one — and the interval.
fn sigmas(mus: &[f64], low: f64, high: f64) -> Vec<f64> {
    let mut order: Vec<usize> = (0..mus.len()).collect();
    order.sort_by(|&a, &b| mus[a].total_cmp(&mus[b]));
    let with_ends: Vec<f64> = std::iter::once(low)
        .chain(order.iter().map(|&i| mus[i]))
        .chain(std::iter::once(high))
        .collect();
    let mut sorted: Vec<f64> = (1..with_ends.len() - 1)
        .map(|i| (with_ends[i] - with_ends[i - 1]).max(with_ends[i + 1] - with_ends[i]))
        .collect();
    let n = sorted.len();
    if n >= 2 {
        sorted[0] = with_ends[2] - with_ends[1];
        sorted[n - 1] = with_ends[n] - with_ends[n - 1];
    }
    let kernels = mus.len() as f64 + 1.0;
    let (min_sigma, max_sigma) = ((high - low) / 100f64.min(1.0 + kernels), high - low);
    let mut sigmas = vec![0.0; n];
    for (rank, &i) in order.iter().enumerate() {
        sigmas[i] = sorted[rank].clamp(min_sigma, max_sigma);
    }
    sigmas
}
