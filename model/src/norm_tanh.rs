//! BatchNorm in training (batch statistics, unbiased variance) followed by tanh, forward and
//! backward, as loops over `[rows, F]` values: five passes over the activations where Burn's
//! ops took about fifteen (a quarter of a step at batch 2,048 went to them). Used by the
//! hand-derived fast path on the pure-Rust CPU backends (`batchnorm` decides); sums are kept
//! in f64. AVX2 is chosen at run time, as in `tanh`.

use crate::tanh::tanh;

/// A training pass's statistics and what the backward pass needs, per feature `F`.
pub struct Tape {
    /// The batch mean `[F]`.
    pub mean: Vec<f32>,
    /// The batch's unbiased variance `[F]`.
    pub var: Vec<f32>,
    /// 1/√(var + ε) `[F]`.
    inv_std: Vec<f32>,
    /// x̂ = (x − mean)·inv_std, `[rows, F]`.
    normalized: Vec<f32>,
}

/// `pre [rows, F]` → tanh(γ·x̂ + β) `[rows, F]` with x̂ normalised by the batch's own
/// statistics, and the tape. Needs at least two rows (the unbiased variance divides by rows − 1).
pub fn forward(pre: &[f32], gamma: &[f32], beta: &[f32], eps: f32) -> (Vec<f32>, Tape) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2, checked just above.
        return unsafe { forward_avx2(pre, gamma, beta, eps) };
    }
    forward_portable(pre, gamma, beta, eps)
}

/// From `d_out [rows, F]`, the gradient of tanh's output, and that output `out`: the gradient
/// of the input, written over `d_out`, and those of γ and β `[F]`.
pub fn backward(tape: &Tape, out: &[f32], gamma: &[f32], d_out: &mut [f32]) -> (Vec<f32>, Vec<f32>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2, checked just above.
        return unsafe { backward_avx2(tape, out, gamma, d_out) };
    }
    backward_portable(tape, out, gamma, d_out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn forward_avx2(pre: &[f32], gamma: &[f32], beta: &[f32], eps: f32) -> (Vec<f32>, Tape) {
    forward_portable(pre, gamma, beta, eps)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn backward_avx2(tape: &Tape, out: &[f32], gamma: &[f32], d_out: &mut [f32]) -> (Vec<f32>, Vec<f32>) {
    backward_portable(tape, out, gamma, d_out)
}

#[inline(always)]
fn forward_portable(pre: &[f32], gamma: &[f32], beta: &[f32], eps: f32) -> (Vec<f32>, Tape) {
    let features = gamma.len();
    let rows = pre.len() / features;
    let mut sum = vec![0f64; features];
    for row in pre.chunks_exact(features) {
        for (s, x) in sum.iter_mut().zip(row) {
            *s += f64::from(*x);
        }
    }
    let mean: Vec<f32> = sum.iter().map(|s| (s / rows as f64) as f32).collect();
    let mut squares = vec![0f64; features];
    for row in pre.chunks_exact(features) {
        for ((s, x), m) in squares.iter_mut().zip(row).zip(&mean) {
            let d = f64::from(x - m);
            *s += d * d;
        }
    }
    let var: Vec<f32> = squares.iter().map(|s| (s / (rows - 1) as f64) as f32).collect();
    let inv_std: Vec<f32> = var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect();
    let mut normalized = vec![0f32; pre.len()];
    let mut out = vec![0f32; pre.len()];
    let per_row = pre.chunks_exact(features).zip(normalized.chunks_exact_mut(features));
    for ((row, normalized_row), out_row) in per_row.zip(out.chunks_exact_mut(features)) {
        let per_feature = mean.iter().zip(&inv_std).zip(gamma.iter().zip(beta));
        let values = row.iter().zip(normalized_row.iter_mut()).zip(out_row.iter_mut());
        for (((x, x_hat), y), ((m, s), (g, b))) in values.zip(per_feature) {
            *x_hat = (x - m) * s;
            *y = tanh(g * *x_hat + b);
        }
    }
    let tape = Tape {
        mean,
        var,
        inv_std,
        normalized,
    };
    (out, tape)
}

/// With dy = d_out·(1 − out²) the gradient at BatchNorm's output and n rows (the lecture's
/// Part 4 derivation): dβ = Σdy, dγ = Σdy·x̂, dx = inv_std·γ·(dy − dβ/n − x̂·dγ/(n − 1)).
#[inline(always)]
fn backward_portable(tape: &Tape, out: &[f32], gamma: &[f32], d_out: &mut [f32]) -> (Vec<f32>, Vec<f32>) {
    let features = gamma.len();
    let rows = d_out.len() / features;
    let (mut d_beta, mut d_gamma) = (vec![0f64; features], vec![0f64; features]);
    for ((d_row, out_row), x_hat_row) in d_out
        .chunks_exact(features)
        .zip(out.chunks_exact(features))
        .zip(tape.normalized.chunks_exact(features))
    {
        let values = d_row.iter().zip(out_row).zip(x_hat_row);
        for (((d, y), x_hat), (d_b, d_g)) in values.zip(d_beta.iter_mut().zip(d_gamma.iter_mut())) {
            let dy = d - d * y * y;
            *d_b += f64::from(dy);
            *d_g += f64::from(dy * x_hat);
        }
    }
    let mean_dy: Vec<f32> = d_beta.iter().map(|s| (s / rows as f64) as f32).collect();
    let mean_dy_x_hat: Vec<f32> = d_gamma.iter().map(|s| (s / (rows - 1) as f64) as f32).collect();
    let scale: Vec<f32> = tape.inv_std.iter().zip(gamma).map(|(s, g)| s * g).collect();
    for ((d_row, out_row), x_hat_row) in d_out
        .chunks_exact_mut(features)
        .zip(out.chunks_exact(features))
        .zip(tape.normalized.chunks_exact(features))
    {
        let values = d_row.iter_mut().zip(out_row).zip(x_hat_row);
        let per_feature = scale.iter().zip(&mean_dy).zip(&mean_dy_x_hat);
        for (((d, y), x_hat), ((s, m_dy), m_dyx)) in values.zip(per_feature) {
            let dy = *d - *d * y * y;
            *d = s * (dy - m_dy - x_hat * m_dyx);
        }
    }
    let to_f32 = |sums: Vec<f64>| sums.into_iter().map(|s| s as f32).collect();
    (to_f32(d_gamma), to_f32(d_beta))
}
