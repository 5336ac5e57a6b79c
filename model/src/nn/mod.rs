//! Layers in the lecture's form where Burn's differ: weight init (the lecture's, or PyTorch's
//! default for makemore.py's models) drawn from our own seeded `Rng` so every backend starts
//! from the same numbers, dropout, tanh and the sigmoid (vectorised on the CPU, with their
//! slopes for autodiff: `pointwise`), and the SGD step. The lecture's BatchNorm1d has its
//! own module, `batchnorm`; attention and GELU theirs.

pub mod attention;
pub mod batchnorm;
pub mod gelu;

use burn::module::Param;
use burn::nn::{Embedding, Linear};
use burn::tensor::{DType, Device, Distribution, Tensor, TensorData};

use burn_autodiff::ops::{Backward, unary};
use burn_backend::ops::FloatTensorOps;

use crate::backend::is_pure_rust_cpu;
use crate::kernels::flex_ops::{self, Checkpointer, Flex, FlexTensor, Flexed, Gradients, Ops};
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

/// tanh. On a pure-Rust CPU backend through `crate::kernels::activations`'s vectorised loop, within 3 ulp of
/// the true value — in place off the autodiff device (the fast path, evaluation, sampling),
/// with its slope on it (`pointwise`); elsewhere (libtorch, GPUs) Burn's own.
pub fn tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if x.device().is_autodiff() {
        return pointwise(x, crate::kernels::activations::tanh_and_slopes, Tensor::tanh);
    }
    in_place_on_cpu(x, crate::kernels::activations::tanh_in_place, Tensor::tanh)
}

/// The logistic sigmoid; on a pure-Rust CPU backend through `crate::kernels::activations`'s vectorised loop
/// (`pointwise`), elsewhere Burn's own.
pub fn sigmoid<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    pointwise(
        x,
        crate::kernels::activations::sigmoid_and_slopes,
        burn::tensor::activation::sigmoid,
    )
}

/// tanh(x + bias): `x [N, C]`, `bias [C]` → `[N, C]`, in one pass over x where `tanh` takes
/// its own loop, else with Burn's ops.
pub fn bias_tanh(x: Tensor<2>, bias: Tensor<1>) -> Tensor<2> {
    let [_, c] = x.dims();
    in_place_on_cpu(
        x,
        |values| crate::kernels::activations::bias_tanh_in_place(values, &f32_values(bias.clone())),
        |x| tanh(x + bias.clone().reshape([1, c])),
    )
}

/// Whether `in_place_on_cpu` takes `x`: f32 on a pure-Rust CPU backend, off autodiff.
pub(crate) fn can_run_in_place<const D: usize>(x: &Tensor<D>) -> bool {
    let device = x.device();
    !device.is_autodiff() && x.dtype() == DType::F32 && is_pure_rust_cpu(&device)
}

/// A tensor's values, row-major, for an f32 tensor (`can_run_in_place` and `pointwise` check).
pub(crate) fn f32_values<const D: usize>(x: Tensor<D>) -> Vec<f32> {
    let Ok(values) = x.into_data().try_into_vec::<f32>() else {
        unreachable!("checked by the caller: f32")
    };
    values
}

/// An element-wise function f of `x`, given as a loop `values_and_slopes` that writes f(v)
/// over each value v and f'(v) into its second slice, where `x` is f32 on a pure-Rust CPU
/// backend, the autodiff device included; elsewhere `otherwise(x)`. On the autodiff device the
/// values enter the graph as f(x) + (x − x̄)·f'(x), x̄ being x detached: the second term is
/// exactly zero and its gradient is f'(x), so autodiff records three cheap ops in place of f's
/// — except on flex, where the same numbers enter the tape as one op (`pointwise_on_flex`).
pub fn pointwise<const D: usize>(
    x: Tensor<D>,
    values_and_slopes: impl FnOnce(&mut [f32], &mut [f32]),
    otherwise: impl FnOnce(Tensor<D>) -> Tensor<D>,
) -> Tensor<D> {
    if Flexed::opens(&x) {
        return pointwise_on_flex(Flexed::open(x), values_and_slopes);
    }
    let device = x.device();
    if x.dtype() != DType::F32 || !is_pure_rust_cpu(&device) {
        return otherwise(x);
    }
    let shape = x.shape();
    let mut values = f32_values(x.clone().detach());
    let mut slopes = vec![0f32; values.len()];
    values_and_slopes(&mut values, &mut slopes);
    let tensor = |values: Vec<f32>| Tensor::from_data(TensorData::new(values, shape.clone()), &device);
    if !device.is_autodiff() {
        return tensor(values);
    }
    tensor(values) + (x.clone() - x.detach()) * tensor(slopes)
}

/// `pointwise` on the flex backend: `values_and_slopes` runs over a copy of `x`'s values and
/// the output enters the tape as one operation whose backward multiplies by the slopes — the
/// same numbers as the three ops it replaces (their gradient is that product, their extra
/// term exactly zero), without reading `x` out through `TensorData` (three copies).
fn pointwise_on_flex<const D: usize>(x: Flexed, values_and_slopes: impl FnOnce(&mut [f32], &mut [f32])) -> Tensor<D> {
    let input = x.values();
    let shape = input.layout().shape().clone();
    let mut values = flex_ops::contiguous(input).into_owned();
    let mut slopes = vec![0f32; values.len()];
    values_and_slopes(&mut values, &mut slopes);
    let output = flex_ops::flex_tensor(values, shape.clone());
    Flexed::record(TimesSlopes, [&x], || flex_ops::flex_tensor(slopes, shape), output)
}

/// The backward pass of `pointwise_on_flex`: the gradient times the slopes.
#[derive(Debug)]
struct TimesSlopes;

impl Backward<Flex, 1> for TimesSlopes {
    type State = FlexTensor;

    fn backward(self, ops: Ops<FlexTensor, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let Ops {
            parents,
            node,
            state: slopes,
        } = ops;
        unary::<Flex, _>(parents, node, grads, |grad| Flex::float_mul(grad, slopes));
    }
}

/// `x`'s values through `f`, in place, where `can_run_in_place`; elsewhere `otherwise(x)`.
fn in_place_on_cpu<const D: usize>(
    x: Tensor<D>,
    f: impl FnOnce(&mut [f32]),
    otherwise: impl FnOnce(Tensor<D>) -> Tensor<D>,
) -> Tensor<D> {
    if !can_run_in_place(&x) {
        return otherwise(x);
    }
    let (shape, device) = (x.shape(), x.device());
    let mut values = f32_values(x);
    f(&mut values);
    Tensor::from_data(TensorData::new(values, shape), &device)
}

/// One SGD step on a parameter: `w − lr · grad` (in place when nothing else holds `w`).
pub fn sgd_step<const D: usize>(param: Param<Tensor<D>>, grad: Tensor<D>, lr: f64) -> Param<Tensor<D>> {
    param.map(|w| w - grad * lr)
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

    /// On flex's autodiff device the vectorised loops with their slopes, against Burn's own
    /// ops: values within a few ulp, gradients within 1e-6.
    #[test]
    fn tanh_and_sigmoid_in_the_autodiff_graph_match_burns_ops() {
        type Op = fn(Tensor<2>) -> Tensor<2>;
        let device = Device::flex().autodiff();
        let points: Vec<f32> = (0..40).map(|i| (i as f32 - 20.0) * 0.45).collect();
        let cases: [(&str, Op, Op); 2] = [
            ("tanh", tanh, Tensor::tanh),
            ("sigmoid", sigmoid, burn::tensor::activation::sigmoid),
        ];
        for (name, ours, burns) in cases {
            let input = || Tensor::<2>::from_data(TensorData::new(points.clone(), [4, 10]), &device).require_grad();
            let run = |f: Op| {
                let x = input();
                let y = f(x.clone());
                let grad = x.grad(&(y.clone() * y.clone()).sum().backward()).unwrap();
                let read = |t: Tensor<2>| t.into_data().try_to_vec::<f32>().unwrap();
                (read(y), read(grad))
            };
            let ((y, grad), (want_y, want_grad)) = (run(ours), run(burns));
            for i in 0..points.len() {
                assert!(
                    (y[i] - want_y[i]).abs() <= 3e-7,
                    "{name}({}): {} vs {}",
                    points[i],
                    y[i],
                    want_y[i]
                );
                assert!(
                    (grad[i] - want_grad[i]).abs() <= 1e-6,
                    "{name}'({}): {} vs {}",
                    points[i],
                    grad[i],
                    want_grad[i]
                );
            }
        }
    }
}
