//! The lecture's layers in the lecture's form where Burn's differ: a channels-last
//! BatchNorm1d with unbiased variance (and the lecture's dim-0 bug on request), and weight
//! init (the lecture's, or PyTorch's default for makemore.py's models) drawn from our own
//! seeded `Rng` so every backend starts from the same numbers.

use burn::module::{Module, Param, RunningState};
use burn::nn::{Embedding, Linear};
use burn::tensor::{DType, Device, Distribution, Tensor, TensorData};

use crate::backend::is_pure_rust_cpu;
use crate::rng::Rng;

/// A `[rows, cols]` tensor of N(0, 1) × `scale` draws, filled row-major like `torch.randn`.
fn randn(rng: &mut Rng, [rows, cols]: [usize; 2], scale: f64, device: &Device) -> Tensor<2> {
    let values: Vec<f32> = (0..rows * cols).map(|_| (rng.normal() * scale) as f32).collect();
    Tensor::from_data(TensorData::new(values, [rows, cols]), device)
}

/// `Embedding(n, dim)` with weights ~ N(0, 1), as the lecture's `torch.randn((n, dim))`.
pub fn embedding(rng: &mut Rng, n: usize, dim: usize, device: &Device) -> Embedding {
    Embedding {
        weight: Param::from_tensor(randn(rng, [n, dim], 1.0, device)),
    }
}

/// `Linear(fan_in, fan_out)` with weight `[fan_in, fan_out]` ~ N(0, 1) / √fan_in × `gain`
/// and an optional zero bias, as the lecture's own `Linear` class.
pub fn linear(rng: &mut Rng, fan_in: usize, fan_out: usize, bias: bool, gain: f64, device: &Device) -> Linear {
    let weight = randn(rng, [fan_in, fan_out], gain / (fan_in as f64).sqrt(), device);
    Linear {
        weight: Param::from_tensor(weight),
        bias: bias.then(|| Param::from_tensor(Tensor::zeros([fan_out], device))),
    }
}

/// `Linear(fan_in, fan_out)` as PyTorch's `nn.Linear` initialises it, which makemore.py's
/// models keep: weight `[fan_in, fan_out]`, then the bias, ~ U(−k, k) with k = 1/√fan_in.
pub fn torch_linear(rng: &mut Rng, fan_in: usize, fan_out: usize, bias: bool, device: &Device) -> Linear {
    let k = 1.0 / (fan_in as f64).sqrt();
    let mut uniform = |n: usize| -> Vec<f32> { (0..n).map(|_| ((rng.uniform() * 2.0 - 1.0) * k) as f32).collect() };
    let weight = Tensor::from_data(TensorData::new(uniform(fan_in * fan_out), [fan_in, fan_out]), device);
    Linear {
        weight: Param::from_tensor(weight),
        bias: bias.then(|| Param::from_tensor(Tensor::from_data(TensorData::new(uniform(fan_out), [fan_out]), device))),
    }
}

/// Dropout in training: each value zeroed with probability `p`, the others scaled by
/// 1/(1 − p), drawn from the device's generator (the trainer seeds it every step from the
/// run's seed and the step, so a resumed run draws the same masks). Off the autodiff device —
/// evaluation, sampling — and at `p` 0, `x` unchanged.
pub fn dropout<const D: usize>(x: Tensor<D>, p: f64) -> Tensor<D> {
    if p == 0.0 || !x.device().is_autodiff() {
        return x;
    }
    let keep = Tensor::random(x.shape(), Distribution::Bernoulli(1.0 - p), &x.device());
    x * keep / (1.0 - p)
}

/// tanh. On a pure-Rust CPU backend off the autodiff device (the fast path, evaluation,
/// sampling) through `crate::tanh`'s vectorised loop, within 3 ulp of the true value;
/// elsewhere (autodiff, libtorch, GPUs) Burn's own.
pub fn tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    in_place_on_cpu(x, crate::tanh::tanh_in_place).unwrap_or_else(Tensor::tanh)
}

/// tanh(x + bias): `x [N, C]`, `bias [C]` → `[N, C]`, in one pass over x where `tanh` takes
/// its own loop, else with Burn's ops.
pub fn bias_tanh(x: Tensor<2>, bias: Tensor<1>) -> Tensor<2> {
    let [_, c] = x.dims();
    let Some(bias_values) = bias.to_data().try_to_vec::<f32>().ok().filter(|_| can_run_in_place(&x)) else {
        return tanh(x + bias.reshape([1, c]));
    };
    in_place_on_cpu(x, |values| crate::tanh::bias_tanh_in_place(values, &bias_values))
        .unwrap_or_else(|x| unreachable!("checked by can_run_in_place: {:?}", x.dims()))
}

/// Whether `in_place_on_cpu` takes `x`: f32 on a pure-Rust CPU backend, off autodiff.
fn can_run_in_place<const D: usize>(x: &Tensor<D>) -> bool {
    let device = x.device();
    !device.is_autodiff() && x.dtype() == DType::F32 && is_pure_rust_cpu(&device)
}

/// `x`'s values through `f`, in place, where `can_run_in_place`; otherwise `x` back.
fn in_place_on_cpu<const D: usize>(x: Tensor<D>, f: impl FnOnce(&mut [f32])) -> Result<Tensor<D>, Tensor<D>> {
    if !can_run_in_place(&x) {
        return Err(x);
    }
    let (shape, device) = (x.shape(), x.device());
    let Ok(mut values) = x.into_data().try_into_vec::<f32>() else {
        unreachable!("an f32 tensor's data is f32")
    };
    f(&mut values);
    Ok(Tensor::from_data(TensorData::new(values, shape), &device))
}

/// One SGD step on a parameter: `w − lr · grad` (in place when nothing else holds `w`).
pub fn descend<const D: usize>(param: Param<Tensor<D>>, grad: Tensor<D>, lr: f64) -> Param<Tensor<D>> {
    param.map(|w| w - grad * lr)
}

pub const BATCHNORM_EPS: f64 = 1e-5;
pub const BATCHNORM_MOMENTUM: f64 = 0.1;

/// The lecture's `BatchNorm1d` for `[B, T, C]` input (channels last).
///
/// Training (`forward_train`): normalise with the batch mean and the *unbiased*
/// variance (`torch.var`) over dims (0, 1), and move the running statistics 10% towards
/// them. Evaluation (`forward`): normalise with the running
/// statistics. With `per_position` (the lecture's bug) the statistics are taken over dim 0
/// only, so every (position, channel) pair has its own: running stats hold `T × C` values.
/// What `BatchNorm1d::backward` needs from the training pass.
pub struct NormTape {
    /// x̂, in the statistics layout (`[B·T, C]`, or `[B, T·C]` with the bug).
    normalized: Tensor<2>,
    /// 1/√(var + ε), `[1, F]`.
    inv_std: Tensor<2>,
}

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
    pub fn backward(&self, tape: NormTape, d_out: Tensor<3>) -> (Tensor<3>, Tensor<1>, Tensor<1>) {
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
    pub fn descend(self, d_gamma: Tensor<1>, d_beta: Tensor<1>, lr: f64) -> Self {
        Self {
            gamma: descend(self.gamma, d_gamma, lr),
            beta: descend(self.beta, d_beta, lr),
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

    #[test]
    fn dropout_zeroes_a_fraction_and_keeps_the_mean_in_training_only() {
        let plain = Device::flex();
        let ones = |device: &Device| Tensor::<2>::ones([200, 100], device);
        let same: f32 = (dropout(ones(&plain), 0.3) - ones(&plain)).abs().sum().into_scalar();
        assert_eq!(same, 0.0, "evaluation: unchanged");
        let autodiff = plain.autodiff();
        autodiff.seed(7);
        let dropped: Vec<f32> = dropout(ones(&autodiff), 0.3).into_data().try_to_vec().unwrap();
        let zeros = dropped.iter().filter(|x| **x == 0.0).count() as f64 / dropped.len() as f64;
        let mean = dropped.iter().sum::<f32>() / dropped.len() as f32;
        assert!(
            (zeros - 0.3).abs() < 0.02 && (mean - 1.0).abs() < 0.03,
            "{zeros} {mean}"
        );
        autodiff.seed(7);
        let again: Vec<f32> = dropout(ones(&autodiff), 0.3).into_data().try_to_vec().unwrap();
        assert_eq!(dropped, again, "the same seed, the same mask");
    }

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

    #[test]
    fn linear_init_scales_by_fan_in() {
        let device = Device::flex();
        let layer = linear(&mut Rng::seed_from(1), 400, 50, true, 1.0, &device);
        let w = layer.weight.val().into_data().try_to_vec::<f32>().unwrap();
        let var = w.iter().map(|x| x * x).sum::<f32>() / w.len() as f32;
        assert!((var * 400. - 1.0).abs() < 0.05, "variance × fan_in = {}", var * 400.);
        assert_eq!(
            layer.bias.unwrap().val().into_data().try_to_vec::<f32>().unwrap(),
            vec![0.0; 50]
        );
    }
}
