//! makemore.py's GELU, the tanh approximation 0.5·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³),
//! used by the Transformer's MLP. On the pure-Rust CPU backends, training included, one
//! vectorised loop writes each value and its slope and `nn::pointwise` enters them in the
//! autodiff graph: Burn's ops took seven passes forward, more backward, and a scalar `expf`
//! per value (about a quarter of a Transformer step). Elsewhere (libtorch, GPUs) Burn's ops.

use burn::tensor::Tensor;
use burn::tensor::activation::sigmoid;

use crate::kernels::activations::tanh_approx;
use crate::kernels::simd::simd_when_present;
use crate::nn;

/// √(2/π).
const SQRT_2_OVER_PI: f32 = 0.797_884_6;
/// The cubic term's coefficient.
const CUBIC: f32 = 0.044_715;

/// GELU of every value of `x`.
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    nn::pointwise(x, values_and_slopes, by_ops)
}

/// The same function by Burn's ops, written as x·σ(2u) (σ costs one `exp`, libm's `tanhf`
/// several).
fn by_ops<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let two_u = (x.clone() * x.clone() * f64::from(CUBIC) + 1.0) * x.clone() * f64::from(2.0 * SQRT_2_OVER_PI);
    x * sigmoid(two_u)
}

simd_when_present! {
    /// GELU(v) over each value v, and its derivative into `slopes`:
    /// 0.5·(1 + t) + 0.5·v·(1 − t²)·√(2/π)·(1 + 3·0.044715·v²), t = tanh(u).
    fn values_and_slopes => values_and_slopes_loop(values: &mut [f32], slopes: &mut [f32]) -> ();
}

#[inline(always)]
fn values_and_slopes_loop(values: &mut [f32], slopes: &mut [f32]) {
    for (value, slope) in values.iter_mut().zip(slopes) {
        let x = *value;
        let x2 = x * x;
        let t = tanh_approx(SQRT_2_OVER_PI * (x + CUBIC * x2 * x));
        let half_one_plus_t = 0.5 * (1.0 + t);
        *value = x * half_one_plus_t;
        *slope = half_one_plus_t + 0.5 * x * (1.0 - t * t) * SQRT_2_OVER_PI * (1.0 + 3.0 * CUBIC * x2);
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, TensorData};

    use super::*;

    const POINTS: [f32; 10] = [-8.0, -6.0, -3.0, -1.0, -0.1, 0.0, 0.5, 2.0, 4.5, 7.0];

    /// makemore.py's NewGELU and its derivative in f64.
    fn reference(x: f32) -> (f64, f64) {
        let (x, c) = (f64::from(x), (2.0 / std::f64::consts::PI).sqrt());
        let t = (c * (x + 0.044715 * x.powi(3))).tanh();
        (
            0.5 * x * (1.0 + t),
            0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * c * (1.0 + 3.0 * 0.044715 * x * x),
        )
    }

    fn values<const D: usize>(x: Tensor<D>) -> Vec<f32> {
        x.into_data().try_to_vec().unwrap()
    }

    #[test]
    fn values_and_slopes_are_makemore_s_gelu_and_its_derivative() {
        let mut got = POINTS.to_vec();
        let mut slopes = vec![0f32; got.len()];
        values_and_slopes(&mut got, &mut slopes);
        for ((x, value), slope) in POINTS.iter().zip(got).zip(slopes) {
            let (want, want_slope) = reference(*x);
            assert!(
                (f64::from(value) - want).abs() <= 1e-6 * want.abs().max(1.0),
                "{x}: {value} vs {want}"
            );
            assert!(
                (f64::from(slope) - want_slope).abs() <= 1e-6,
                "{x}: {slope} vs {want_slope}"
            );
        }
    }

    /// Through autodiff on flex the loop's values and slopes; Burn's ops give the same value and
    /// gradient (the path other backends take).
    /// Every vector width the processor runs (`simd::with_cap`), bit for bit, over a length
    /// that leaves remainders after 16 and 8 lanes.
    #[test]
    fn every_width_gives_the_same_bits() {
        let values: Vec<f32> = (0..1_003).map(|i| (i as f32 * 0.37).sin() * 6.0).collect();
        crate::kernels::simd::assert_same_at_every_width(|| {
            let (mut got, mut slopes) = (values.clone(), vec![0f32; values.len()]);
            values_and_slopes(&mut got, &mut slopes);
            [got, slopes].map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>())
        });
    }

    #[test]
    fn the_loop_in_the_autodiff_graph_matches_burns_ops() {
        let device = Device::flex().autodiff();
        let input = || Tensor::<2>::from_data(TensorData::new(POINTS.to_vec(), [2, 5]), &device).require_grad();
        let weights = Tensor::<2>::from_data(TensorData::new((1..=10).map(|i| i as f32).collect(), [2, 5]), &device);
        let [x_loop, x_ops] = [input(), input()];
        let (y_loop, y_ops) = (gelu(x_loop.clone()), by_ops(x_ops.clone()));
        let grad = |x: &Tensor<2>, y: Tensor<2>| values(x.grad(&(y * weights.clone()).sum().backward()).unwrap());
        let (got, want) = (values(y_loop.clone()), values(y_ops.clone()));
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-6 * w.abs().max(1.0), "{got:?} vs {want:?}");
        }
        let (got, want) = (grad(&x_loop, y_loop), grad(&x_ops, y_ops));
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-5 * w.abs().max(1.0), "{got:?} vs {want:?}");
        }
    }
}
