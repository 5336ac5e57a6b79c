//! BatchNorm in training (batch statistics, unbiased variance) followed by tanh, forward and
//! backward, as loops over `[rows, F]` values: five passes over the activations where Burn's
//! ops took about fifteen (a quarter of a step at batch 2,048 went to them). Used by the
//! hand-derived fast path on the pure-Rust CPU backends (`batchnorm` decides); sums are kept
//! in f64. The widest vectors are chosen at run time (`simd`).

use rayon::prelude::*;

use crate::kernels::activations::tanh_approx;
use crate::kernels::simd::simd_when_present;

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

/// Values per parallel task: a task is a fixed number of whole rows for a given width, so the
/// per-task partial sums, added in task order, and with them every result, are the same at
/// any thread count. One task (the sequential loops) up to batch 32 of the lecture's model.
const TASK_VALUES: usize = 16 * 1024;

/// `pre [rows, F]` → tanh(γ·x̂ + β) `[rows, F]` with x̂ normalised by the batch's own
/// statistics, and the tape. Needs at least two rows (the unbiased variance divides by rows − 1).
pub fn forward(pre: &[f32], gamma: &[f32], beta: &[f32], eps: f32) -> (Vec<f32>, Tape) {
    let features = gamma.len();
    let (rows, task) = (pre.len() / features, task_len(features));
    let sum = ordered_sum(pre.par_chunks(task).map(|chunk| column_sums(chunk, features)));
    let mean: Vec<f32> = sum.iter().map(|s| (s / rows as f64) as f32).collect();
    let squares = ordered_sum(pre.par_chunks(task).map(|chunk| squared_deviations(chunk, &mean)));
    let var: Vec<f32> = squares.iter().map(|s| (s / (rows - 1) as f64) as f32).collect();
    let inv_std: Vec<f32> = var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect();
    let mut normalized = vec![0f32; pre.len()];
    let mut out = vec![0f32; pre.len()];
    let per_row = |((pre, normalized), out): ((&[f32], &mut [f32]), &mut [f32])| {
        normalize_tanh(pre, (&mean, &inv_std), (gamma, beta), normalized, out);
    };
    (pre.par_chunks(task).zip(normalized.par_chunks_mut(task)))
        .zip(out.par_chunks_mut(task))
        .for_each(per_row);
    let tape = Tape {
        mean,
        var,
        inv_std,
        normalized,
    };
    (out, tape)
}

/// From `d_out [rows, F]`, the gradient of tanh's output, and that output `out`: the gradient
/// of the input, written over `d_out`, and those of γ and β `[F]`.
///
/// With dy = d_out·(1 − out²) the gradient at BatchNorm's output and n rows (the lecture's
/// Part 4 derivation): dβ = Σdy, dγ = Σdy·x̂, dx = inv_std·γ·(dy − dβ/n − x̂·dγ/(n − 1)).
pub fn backward(tape: &Tape, out: &[f32], gamma: &[f32], d_out: &mut [f32]) -> (Vec<f32>, Vec<f32>) {
    let features = gamma.len();
    let (rows, task) = (d_out.len() / features, task_len(features));
    let sums = ordered_sum(
        (d_out.par_chunks(task).zip(out.par_chunks(task)))
            .zip(tape.normalized.par_chunks(task))
            .map(|((d, y), x_hat)| gradient_sums(d, y, x_hat, features)),
    );
    let (d_beta, d_gamma) = sums.split_at(features);
    let mean_dy: Vec<f32> = d_beta.iter().map(|s| (s / rows as f64) as f32).collect();
    let mean_dy_x_hat: Vec<f32> = d_gamma.iter().map(|s| (s / (rows - 1) as f64) as f32).collect();
    let scale: Vec<f32> = tape.inv_std.iter().zip(gamma).map(|(s, g)| s * g).collect();
    let per_rows = |((d, y), x_hat): ((&mut [f32], &[f32]), &[f32])| {
        input_gradient(d, y, x_hat, &scale, (&mean_dy, &mean_dy_x_hat));
    };
    (d_out.par_chunks_mut(task).zip(out.par_chunks(task)))
        .zip(tape.normalized.par_chunks(task))
        .for_each(per_rows);
    let to_f32 = |sums: &[f64]| sums.iter().map(|s| *s as f32).collect();
    (to_f32(d_gamma), to_f32(d_beta))
}

/// The length of a task's slice: whole rows of `features` values.
fn task_len(features: usize) -> usize {
    (TASK_VALUES / features).max(1) * features
}

/// The tasks' partial sums added in task order (not in the order they finish).
fn ordered_sum(partials: impl IndexedParallelIterator<Item = Vec<f64>>) -> Vec<f64> {
    let partials: Vec<Vec<f64>> = partials.collect();
    let mut total = vec![0f64; partials.first().map_or(0, Vec::len)];
    for partial in partials {
        for (t, p) in total.iter_mut().zip(partial) {
            *t += p;
        }
    }
    total
}

simd_when_present! {
    fn column_sums => column_sums_kernel(rows: &[f32], features: usize) -> Vec<f64>;
    fn squared_deviations => squared_deviations_kernel(rows: &[f32], mean: &[f32]) -> Vec<f64>;
    fn normalize_tanh => normalize_tanh_kernel(
        pre: &[f32], stats: (&[f32], &[f32]), affine: (&[f32], &[f32]), normalized: &mut [f32], out: &mut [f32]
    ) -> ();
    fn gradient_sums => gradient_sums_kernel(d_out: &[f32], out: &[f32], normalized: &[f32], features: usize) -> Vec<f64>;
    fn input_gradient => input_gradient_kernel(
        d_out: &mut [f32], out: &[f32], normalized: &[f32], scale: &[f32], means: (&[f32], &[f32])
    ) -> ();
}

/// Σ x per feature over `rows [n, F]`.
#[inline(always)]
fn column_sums_kernel(rows: &[f32], features: usize) -> Vec<f64> {
    let mut sum = vec![0f64; features];
    for row in rows.chunks_exact(features) {
        for (s, x) in sum.iter_mut().zip(row) {
            *s += f64::from(*x);
        }
    }
    sum
}

/// Σ (x − mean)² per feature over `rows [n, F]`.
#[inline(always)]
fn squared_deviations_kernel(rows: &[f32], mean: &[f32]) -> Vec<f64> {
    let mut squares = vec![0f64; mean.len()];
    for row in rows.chunks_exact(mean.len()) {
        for ((s, x), m) in squares.iter_mut().zip(row).zip(mean) {
            let d = f64::from(x - m);
            *s += d * d;
        }
    }
    squares
}

/// x̂ = (x − mean)·inv_std into `normalized`, tanh(γ·x̂ + β) into `out`, row by row.
#[inline(always)]
fn normalize_tanh_kernel(
    pre: &[f32],
    (mean, inv_std): (&[f32], &[f32]),
    (gamma, beta): (&[f32], &[f32]),
    normalized: &mut [f32],
    out: &mut [f32],
) {
    let features = mean.len();
    let per_row = pre.chunks_exact(features).zip(normalized.chunks_exact_mut(features));
    for ((row, normalized_row), out_row) in per_row.zip(out.chunks_exact_mut(features)) {
        let per_feature = mean.iter().zip(inv_std).zip(gamma.iter().zip(beta));
        let values = row.iter().zip(normalized_row.iter_mut()).zip(out_row.iter_mut());
        for (((x, x_hat), y), ((m, s), (g, b))) in values.zip(per_feature) {
            *x_hat = (x - m) * s;
            *y = tanh_approx(g * *x_hat + b);
        }
    }
}

/// Σdy then Σdy·x̂ per feature (`[2F]`), dy = d_out·(1 − out²).
#[inline(always)]
fn gradient_sums_kernel(d_out: &[f32], out: &[f32], normalized: &[f32], features: usize) -> Vec<f64> {
    let mut sums = vec![0f64; 2 * features];
    let (d_beta, d_gamma) = sums.split_at_mut(features);
    let per_row = d_out.chunks_exact(features).zip(out.chunks_exact(features));
    for ((d_row, out_row), x_hat_row) in per_row.zip(normalized.chunks_exact(features)) {
        let values = d_row.iter().zip(out_row).zip(x_hat_row);
        for (((d, y), x_hat), (d_b, d_g)) in values.zip(d_beta.iter_mut().zip(d_gamma.iter_mut())) {
            let dy = d - d * y * y;
            *d_b += f64::from(dy);
            *d_g += f64::from(dy * x_hat);
        }
    }
    sums
}

/// dx = scale·(dy − mean_dy − x̂·mean_dy_x̂), written over `d_out`, row by row.
#[inline(always)]
fn input_gradient_kernel(
    d_out: &mut [f32],
    out: &[f32],
    normalized: &[f32],
    scale: &[f32],
    (mean_dy, mean_dy_x_hat): (&[f32], &[f32]),
) {
    let features = scale.len();
    let per_row = d_out.chunks_exact_mut(features).zip(out.chunks_exact(features));
    for ((d_row, out_row), x_hat_row) in per_row.zip(normalized.chunks_exact(features)) {
        let values = d_row.iter_mut().zip(out_row).zip(x_hat_row);
        let per_feature = scale.iter().zip(mean_dy).zip(mean_dy_x_hat);
        for (((d, y), x_hat), ((s, m_dy), m_dyx)) in values.zip(per_feature) {
            let dy = *d - *d * y * y;
            *d = s * (dy - m_dy - x_hat * m_dyx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// Forward and backward on `rows` rows of `features` in a pool of `threads` threads: the
    /// output, the tape's statistics, and the three gradients.
    fn pass(threads: usize, rows: usize, features: usize) -> [Vec<f32>; 6] {
        let mut rng = Rng::seed_from(5);
        let mut draw = |n: usize| (0..n).map(|_| rng.normal() as f32).collect::<Vec<_>>();
        let (pre, mut d_out) = (draw(rows * features), draw(rows * features));
        let (gamma, beta) = (draw(features), draw(features));
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let (out, tape) = forward(&pre, &gamma, &beta, 1e-5);
            let (d_gamma, d_beta) = backward(&tape, &out, &gamma, &mut d_out);
            [out, tape.mean, tape.var, d_out, d_gamma, d_beta]
        })
    }

    /// Every vector width the processor runs (`simd::with_cap`), bit for bit.
    #[test]
    fn every_width_gives_the_same_bits() {
        let bits = || pass(1, 2000, 24).map(|values| values.iter().map(|v| v.to_bits()).collect::<Vec<u32>>());
        crate::kernels::simd::assert_same_at_every_width(bits);
    }

    #[test]
    fn results_do_not_depend_on_the_number_of_threads() {
        // 2,000 rows of 24: three tasks of 682 rows (TASK_VALUES / 24), the last one short.
        let one = pass(1, 2000, 24);
        for threads in [2, 4] {
            assert_eq!(
                pass(threads, 2000, 24),
                one,
                "{threads} threads against one, bit for bit"
            );
        }
    }
}
