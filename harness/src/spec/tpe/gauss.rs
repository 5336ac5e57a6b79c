//! The Gaussian masses and densities TPE's truncated kernels need, as Optuna computes them
//! (`optuna/samplers/_tpe/_truncnorm.py`): Φ from erf/erfc, log Φ with its asymptotic series
//! far in the left tail, and the log of the mass between two points worked out in the left
//! tail (where it is accurate) by symmetry.

use libm::{erf, erfc};

const LN_SQRT_TAU: f64 = 0.918_938_533_204_672_8;

/// Φ(a), as Optuna's `_ndtr`.
fn ndtr(a: f64) -> f64 {
    0.5 + 0.5 * erf(a / std::f64::consts::SQRT_2)
}

/// Φ(a) with erfc in the tails, as Optuna's `_ndtr_single`.
fn ndtr_tails(a: f64) -> f64 {
    let x = a / std::f64::consts::SQRT_2;
    let edge = std::f64::consts::FRAC_1_SQRT_2;
    if x < -edge {
        0.5 * erfc(-x)
    } else if x < edge {
        0.5 + 0.5 * erf(x)
    } else {
        1.0 - 0.5 * erfc(x)
    }
}

/// log Φ(a), as Optuna's `_log_ndtr_single`.
fn log_ndtr(a: f64) -> f64 {
    if a > 6.0 {
        return -ndtr_tails(-a);
    }
    if a > -20.0 {
        return ndtr_tails(a).ln();
    }
    let log_lhs = -0.5 * a * a - (-a).ln() - LN_SQRT_TAU;
    let (mut last, mut total, mut numerator, mut factor, mut sign): (f64, f64, f64, f64, f64) =
        (0.0, 1.0, 1.0, 1.0, 1.0);
    let mut i = 0.0;
    while (last - total).abs() > f64::EPSILON {
        i += 1.0;
        last = total;
        sign = -sign;
        factor /= a * a;
        numerator *= 2.0 * i - 1.0;
        total += sign * numerator * factor;
    }
    log_lhs + total.ln()
}

/// log(p − q) from log p and log q.
fn log_diff(log_p: f64, log_q: f64) -> f64 {
    log_p + (-(log_q - log_p).exp()).ln_1p()
}

/// log of the standard normal's mass on [a, b].
pub fn log_mass(a: f64, b: f64) -> f64 {
    if b <= 0.0 {
        log_diff(log_ndtr(b), log_ndtr(a))
    } else if a > 0.0 {
        log_mass(-b, -a)
    } else {
        (-ndtr(a) - ndtr(-b)).ln_1p()
    }
}

/// log density at `x` of a normal (`mu`, `sigma`) truncated to [low, high]; −∞ outside.
pub fn log_truncated(x: f64, mu: f64, sigma: f64, low: f64, high: f64) -> f64 {
    if x < low || x > high {
        return f64::NEG_INFINITY;
    }
    let z = (x - mu) / sigma;
    -0.5 * z * z - LN_SQRT_TAU - log_mass((low - mu) / sigma, (high - mu) / sigma) - sigma.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Optuna 5.0.0's `_truncnorm._log_ndtr_single` and `_log_gauss_mass` at these points.
    #[test]
    fn masses_match_optuna_s_in_the_middle_and_far_in_the_tails() {
        let close = |got: f64, want: f64| (got - want).abs() <= 1e-12 * want.abs().max(1.0);
        for (a, want) in [
            (0.0, -std::f64::consts::LN_2),
            (1.0, -0.172_753_779_023_449_9),
            (-30.0, -454.321_243_956_343_15),
        ] {
            assert!(close(log_ndtr(a), want), "log Φ({a}) = {}", log_ndtr(a));
        }
        // The whole line, a central interval, and one far in the right tail.
        assert!(close(log_mass(f64::NEG_INFINITY, f64::INFINITY), 0.0));
        assert!(close(log_mass(-1.0, 1.0), -0.381_715_146_302_126_16));
        assert!(
            close(log_mass(8.0, 9.0), -35.013_618_593_437_144),
            "{}",
            log_mass(8.0, 9.0)
        );
    }
}
