//! The lecture's `BatchNorm1d`, channels last, with the unbiased variance (and the lecture's
//! dim-0 bug on request): evaluation by the running statistics or folded into the Linear
//! before it, and training with the backward pass the hand-derived fast path uses — in Burn's
//! ops on every backend, and fused with the tanh after it in `norm_tanh`'s loops on the
//! pure-Rust CPU backends.

use burn::module::{Module, Param, RunningState};
use burn::tensor::{Device, Tensor, TensorData};

use crate::kernels::norm_tanh;
use crate::nn::{self, can_run_in_place, f32_values, sgd_step};

pub const BATCHNORM_EPS: f64 = 1e-5;
pub const BATCHNORM_MOMENTUM: f64 = 0.1;

/// What `BatchNorm1d::backward` needs from the training pass.
pub struct NormTape {
    /// x̂, in the statistics layout (`[B·T, C]`, or `[B, T·C]` with the bug).
    normalized: Tensor<2>,
    /// 1/√(var + ε), `[1, F]`.
    inv_std: Tensor<2>,
}

/// What `BatchNorm1d::backward_tanh` needs from `forward_train_tanh`.
pub enum NormTanhTape {
    /// By Burn's ops (every backend): BatchNorm's tape and tanh's output `[B, T, C]`.
    Ops(Box<(NormTape, Tensor<3>)>),
    /// By `norm_tanh`'s loops: their tape and tanh's output values, in the statistics layout.
    Loops { tape: norm_tanh::Tape, out: Vec<f32> },
}

/// The lecture's `BatchNorm1d` for `[B, T, C]` input (channels last).
///
/// Training (`forward_train`): normalise with the batch mean and the *unbiased*
/// variance (`torch.var`) over dims (0, 1), and move the running statistics 10% towards
/// them. Evaluation (`forward`): normalise with the running
/// statistics. With `per_position` (the lecture's bug) the statistics are taken over dim 0
/// only, so every (position, channel) pair has its own: running stats hold `T × C` values.
#[derive(Module, Debug)]
pub struct BatchNorm1d {
    pub(crate) gamma: Param<Tensor<1>>,
    pub(crate) beta: Param<Tensor<1>>,
    running_mean: RunningState<Tensor<1>>,
    running_var: RunningState<Tensor<1>>,
    per_position: bool,
}

impl BatchNorm1d {
    /// `channels` = C; `positions` = T of the input it will see (used only with the bug).
    pub fn new(channels: usize, positions: usize, per_position: bool, device: &Device) -> Self {
        let features = if per_position { positions * channels } else { channels };
        Self {
            gamma: Param::from_tensor(Tensor::ones([channels], device)),
            beta: Param::from_tensor(Tensor::zeros([channels], device)),
            running_mean: RunningState::new(Tensor::zeros([features], device)),
            running_var: RunningState::new(Tensor::ones([features], device)),
            per_position,
        }
    }

    /// Trainable values: gamma and beta (the running statistics are not trained).
    pub fn trainable_params(&self) -> usize {
        2 * self.gamma.dims()[0]
    }

    /// Evaluation: `[B, T, C]` → `[B, T, C]`, normalised with the running statistics.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let dims = x.dims();
        let rows = self.statistics_rows(x);
        let [_, features] = rows.dims();
        let mean = self.running_mean.value().reshape([1, features]);
        let var = self.running_var.value().reshape([1, features]);
        self.scale_and_shift((rows - mean) / (var + BATCHNORM_EPS).sqrt(), dims)
    }

    /// Evaluation folded into the bias-free Linear before it, whose weight is `[in, C]`:
    /// BatchNorm(x·W) = x·(W·s) + (β − μ·s) with s = γ / √(σ² + ε) per channel. Returns the
    /// folded weight `[in, C]` and bias `[C]`; `None` with per-position statistics (the
    /// lecture's bug), which no one weight can carry.
    pub fn fold_into(&self, weight: Tensor<2>) -> Option<(Tensor<2>, Tensor<1>)> {
        if self.per_position {
            return None;
        }
        let [_, c] = weight.dims();
        let scale = self.gamma.val() / (self.running_var.value() + BATCHNORM_EPS).sqrt();
        let bias = self.beta.val() - self.running_mean.value() * scale.clone();
        Some((weight * scale.reshape([1, c]), bias))
    }

    /// Training: `[B, T, C]` → `[B, T, C]`, normalised with the batch mean and unbiased
    /// variance, which also move the running statistics 10% towards them. The tape keeps
    /// what `backward` needs.
    pub fn forward_train(&self, x: Tensor<3>) -> (Tensor<3>, NormTape) {
        let dims = x.dims();
        let rows = self.statistics_rows(x);
        let (var, mean) = rows.clone().var_mean(0);
        Self::blend(&self.running_mean, mean.clone());
        Self::blend(&self.running_var, var.clone());
        let inv_std = (var + BATCHNORM_EPS).sqrt().recip();
        let normalized = (rows - mean) * inv_std.clone();
        let out = self.scale_and_shift(normalized.clone(), dims);
        (out, NormTape { normalized, inv_std })
    }

    /// Gradients from `d_out [B, T, C]`: (input `[B, T, C]`, gamma `[C]`, beta `[C]`).
    ///
    /// With x̂ the normalised rows, s = 1/√(var + ε) and n rows per statistic (the lecture's
    /// Part 4 derivation, unbiased variance): dx = s · (dx̂ − Σdx̂ / n − x̂ · Σ(dx̂ · x̂) / (n − 1)).
    fn backward(&self, tape: NormTape, d_out: Tensor<3>) -> (Tensor<3>, Tensor<1>, Tensor<1>) {
        let dims @ [b, t, c] = d_out.dims();
        let NormTape { normalized, inv_std } = tape;
        let per_channel = |x: Tensor<3>| x.sum_dims(&[0, 1]).reshape([c]);
        let d_gamma = per_channel(d_out.clone() * normalized.clone().reshape(dims));
        let d_beta = per_channel(d_out.clone());
        let d_normalized = self.statistics_rows(d_out * self.gamma.val().reshape([1, 1, c]));
        let n = d_normalized.dims()[0] as f64;
        let mean_d = d_normalized.clone().sum_dim(0) / n;
        let mean_d_x = (d_normalized.clone() * normalized.clone()).sum_dim(0) / (n - 1.0);
        let d_rows = (d_normalized - mean_d - normalized * mean_d_x) * inv_std;
        (d_rows.reshape([b, t, c]), d_gamma, d_beta)
    }

    /// Training, then tanh: `[B, T, C]` → tanh(BatchNorm(x)) `[B, T, C]`, moving the running
    /// statistics as `forward_train` does, and the tape for `backward_tanh`. In one set of
    /// loops on the pure-Rust CPU backends, by Burn's ops elsewhere.
    pub fn forward_train_tanh(&self, x: Tensor<3>) -> (Tensor<3>, NormTanhTape) {
        if !can_run_in_place(&x) {
            return self.forward_train_tanh_by_ops(x);
        }
        let (dims, device) = (x.dims(), x.device());
        let [gamma, beta] = [&self.gamma, &self.beta].map(|param| self.per_feature(param));
        let (out, tape) = norm_tanh::forward(&f32_values(x), &gamma, &beta, BATCHNORM_EPS as f32);
        let as_row = |stat: &[f32]| Tensor::from_data(TensorData::new(stat.to_vec(), [1, stat.len()]), &device);
        Self::blend(&self.running_mean, as_row(&tape.mean));
        Self::blend(&self.running_var, as_row(&tape.var));
        let out_tensor = Tensor::from_data(TensorData::new(out.clone(), dims), &device);
        (out_tensor, NormTanhTape::Loops { tape, out })
    }

    fn forward_train_tanh_by_ops(&self, x: Tensor<3>) -> (Tensor<3>, NormTanhTape) {
        let (normalized, norm) = self.forward_train(x);
        let out = nn::tanh(normalized);
        (out.clone(), NormTanhTape::Ops(Box::new((norm, out))))
    }

    /// Gradients from `d_out [B, T, C]` at tanh's output: (input `[B, T, C]`, gamma `[C]`,
    /// beta `[C]`).
    pub fn backward_tanh(&self, tape: NormTanhTape, d_out: Tensor<3>) -> (Tensor<3>, Tensor<1>, Tensor<1>) {
        let (tape, out) = match tape {
            NormTanhTape::Ops(tape) => {
                let (norm, out) = *tape;
                // tanh'(x) = 1 − tanh²(x)
                let d_normalized = d_out.clone() - d_out * out.square();
                return self.backward(norm, d_normalized);
            }
            NormTanhTape::Loops { tape, out } => (tape, out),
        };
        let (dims @ [_, _, c], device) = (d_out.dims(), d_out.device());
        let mut d_values = f32_values(d_out);
        let gamma = self.per_feature(&self.gamma);
        let (d_gamma, d_beta) = norm_tanh::backward(&tape, &out, &gamma, &mut d_values);
        // With the bug, a channel's gradient sums over its positions.
        let per_channel = |per_feature: Vec<f32>| {
            let sums: Vec<f32> = (0..c).map(|j| per_feature.iter().skip(j).step_by(c).sum()).collect();
            Tensor::from_data(TensorData::new(sums, [c]), &device)
        };
        let d_input = Tensor::from_data(TensorData::new(d_values, dims), &device);
        (d_input, per_channel(d_gamma), per_channel(d_beta))
    }

    /// gamma or beta `[C]` for each feature of the statistics layout: `[C]`, or repeated
    /// for each of the T positions with the bug.
    fn per_feature(&self, param: &Param<Tensor<1>>) -> Vec<f32> {
        let [features] = self.running_mean.value().dims();
        let values = f32_values(param.val());
        values.repeat(features / values.len())
    }

    /// `[B, T, C]` as rows of one statistic each: `[B·T, C]`, or `[B, T·C]` with the bug.
    fn statistics_rows(&self, x: Tensor<3>) -> Tensor<2> {
        let [b, t, c] = x.dims();
        match self.per_position {
            false => x.reshape([b * t, c]),
            true => x.reshape([b, t * c]),
        }
    }

    /// Normalised rows back to `[B, T, C]`, times gamma plus beta.
    fn scale_and_shift(&self, normalized: Tensor<2>, [b, t, c]: [usize; 3]) -> Tensor<3> {
        let gamma = self.gamma.val().reshape([1, 1, c]);
        let beta = self.beta.val().reshape([1, 1, c]);
        normalized.reshape([b, t, c]) * gamma + beta
    }

    /// Moves a running statistic 10% towards the batch's `[1, F]` value.
    fn blend(running: &RunningState<Tensor<1>>, batch: Tensor<2>) {
        let [_, features] = batch.dims();
        let updated =
            running.value_sync() * (1.0 - BATCHNORM_MOMENTUM) + batch.detach().reshape([features]) * BATCHNORM_MOMENTUM;
        running.update(updated.detach());
    }

    /// Takes one SGD step on gamma and beta.
    pub fn sgd_step(self, d_gamma: Tensor<1>, d_beta: Tensor<1>, lr: f64) -> Self {
        Self {
            gamma: sgd_step(self.gamma, d_gamma, lr),
            beta: sgd_step(self.beta, d_beta, lr),
            ..self
        }
    }

    #[cfg(test)]
    pub(crate) fn running_stats(&self) -> (Vec<f32>, Vec<f32>) {
        let read = |s: &RunningState<Tensor<1>>| s.value_sync().into_data().try_to_vec::<f32>().unwrap();
        (read(&self.running_mean), read(&self.running_var))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn close(actual: &[f32], expected: &[f32]) {
        assert_eq!(actual.len(), expected.len());
        for (a, e) in actual.iter().zip(expected) {
            assert!((a - e).abs() < 1e-4, "{actual:?} vs {expected:?}");
        }
    }

    /// x = [[[1, 2], [3, 4]], [[5, 6], [7, 12]]] as [B=2, T=2, C=2].
    fn input(device: &Device) -> Tensor<3> {
        Tensor::from_data(
            TensorData::new(vec![1f32, 2., 3., 4., 5., 6., 7., 12.], [2, 2, 2]),
            device,
        )
    }

    #[test]
    fn training_normalizes_over_batch_and_time_with_unbiased_variance() {
        // By hand, channel 0 sees {1,3,5,7}: mean 4, unbiased var 20/3;
        // channel 1 sees {2,4,6,12}: mean 6, unbiased var (16+4+0+36)/3 = 56/3.
        // PyTorch: x = torch.tensor(...); m = x.mean((0,1), keepdim=True);
        //          v = x.var((0,1), keepdim=True); (x - m) / torch.sqrt(v + 1e-5)
        let device = Device::flex();
        let bn = BatchNorm1d::new(2, 2, false, &device);
        let (out, _) = bn.forward_train(input(&device));
        let out = out.into_data().try_to_vec::<f32>().unwrap();
        let (s0, s1) = ((20f32 / 3. + 1e-5).sqrt(), (56f32 / 3. + 1e-5).sqrt());
        close(
            &out,
            &[-3. / s0, -4. / s1, -1. / s0, -2. / s1, 1. / s0, 0., 3. / s0, 6. / s1],
        );
        let (mean, var) = bn.running_stats();
        close(&mean, &[0.4, 0.6]);
        close(&var, &[0.9 + 0.1 * 20. / 3., 0.9 + 0.1 * 56. / 3.]);
    }

    #[test]
    fn the_lecture_bug_takes_statistics_per_position() {
        // Position 0, channel 0 sees {1,5}: mean 3, unbiased var 8, so ±2/√8.
        let device = Device::flex();
        let bn = BatchNorm1d::new(2, 2, true, &device);
        let (out, _) = bn.forward_train(input(&device));
        let out = out.into_data().try_to_vec::<f32>().unwrap();
        let s = (8f32 + 1e-5).sqrt();
        let s_last = (32f32 + 1e-5).sqrt(); // position 1, channel 1 sees {4, 12}
        close(
            &out,
            &[
                -2. / s,
                -2. / s,
                -2. / s,
                -4. / s_last,
                2. / s,
                2. / s,
                2. / s,
                4. / s_last,
            ],
        );
        let (mean, _) = bn.running_stats();
        close(&mean, &[0.3, 0.4, 0.5, 0.8]);
    }

    #[test]
    fn evaluation_uses_running_statistics() {
        let device = Device::flex();
        let bn = BatchNorm1d::new(2, 2, false, &device);
        bn.forward_train(input(&device));
        let out = bn
            .valid()
            .forward(input(&device))
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let (m0, m1) = (0.4f32, 0.6f32);
        let (v0, v1) = ((0.9f32 + 2. / 3. + 1e-5).sqrt(), (0.9f32 + 5.6 / 3. + 1e-5).sqrt());
        close(&out[..2], &[(1. - m0) / v0, (2. - m1) / v1]);
    }

    /// The fused loops (the pure-Rust CPU backends' path) give what Burn's ops give: output,
    /// running statistics and every gradient, with statistics per channel and per position
    /// (the bug), gamma and beta away from 1 and 0; enough rows for several of the loops'
    /// parallel tasks, the last one short.
    #[test]
    fn fused_training_with_tanh_matches_burns_ops() {
        let device = Device::flex();
        let mut rng = Rng::seed_from(3);
        let mut draw = |dims: &[usize], scale: f64, offset: f64| {
            let n = dims.iter().product();
            let values: Vec<f32> = (0..n).map(|_| (rng.normal() * scale + offset) as f32).collect();
            TensorData::new(values, dims.to_vec())
        };
        let [b, t, c] = [1000, 8, 6];
        for bug in [false, true] {
            let (gamma, beta) = (draw(&[c], 0.3, 1.0), draw(&[c], 0.3, 0.0));
            let (x, d_out) = (draw(&[b, t, c], 2.0, 0.5), draw(&[b, t, c], 1.0, 0.0));
            let [fused, ops] = [(), ()].map(|_| {
                let mut bn = BatchNorm1d::new(c, t, bug, &device);
                bn.gamma = Param::from_data(gamma.clone(), &device);
                bn.beta = Param::from_data(beta.clone(), &device);
                bn
            });
            let input = || Tensor::<3>::from_data(x.clone(), &device);
            let (out, tape) = fused.forward_train_tanh(input());
            assert!(matches!(tape, NormTanhTape::Loops { .. }), "flex takes the loops");
            let (want_out, want_tape) = ops.forward_train_tanh_by_ops(input());
            near(out, want_out);
            let (got, want) = (fused.running_stats(), ops.running_stats());
            near_values(&got.0, &want.0);
            near_values(&got.1, &want.1);
            let gradient = || Tensor::<3>::from_data(d_out.clone(), &device);
            let (d_x, d_gamma, d_beta) = fused.backward_tanh(tape, gradient());
            let (want_d_x, want_d_gamma, want_d_beta) = ops.backward_tanh(want_tape, gradient());
            near(d_x, want_d_x);
            near(d_gamma, want_d_gamma);
            near(d_beta, want_d_beta);
        }
    }

    fn near<const D: usize>(got: Tensor<D>, want: Tensor<D>) {
        let read = |t: Tensor<D>| t.into_data().try_to_vec::<f32>().unwrap();
        near_values(&read(got), &read(want));
    }

    fn near_values(got: &[f32], want: &[f32]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= 1e-6 + 1e-5 * w.abs(), "{got:?}\nvs {want:?}");
        }
    }
}
