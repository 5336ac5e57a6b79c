//! tanh and the sigmoid on the pure-Rust CPU backends: libm's scalar `tanhf` and `expf` were
//! the largest single costs of a step on `flex` (bench/profile.sh), so the values go through
//! branch-free approximations the compiler vectorises (tanh within 3 ulp of the true value),
//! in place for the fast path, evaluation and sampling, with their slopes for autodiff
//! (`nn::tanh` and `nn::sigmoid` decide; other backends keep Burn's own). The same
//! exponential serves `attention`'s softmax.

use crate::kernels::simd::simd_when_present;

/// Below this |x|, an odd polynomial; above it, 1 − 2 / (e^{2|x|} + 1).
const SMALL: f32 = 0.625;
/// tanh(x) = x · (1 + z · P(z)), z = x², on |x| < SMALL: P's coefficients, lowest first,
/// fitted for the least maximum relative error (max 8.2e-8 in f32 on [0, 0.625]).
const ODD: [f32; 5] = [
    -3.333_328e-1,
    1.333_144_4e-1,
    -5.373_983_3e-2,
    2.063_948_2e-2,
    -5.705_438_5e-3,
];
/// e^r = 1 + r + r² · Q(r) on |r| ≤ ln 2 / 2: Q's coefficients, lowest first (max relative
/// error 3.1e-9).
const EXP: [f32; 5] = [
    4.999_999_3e-1,
    1.666_652_1e-1,
    4.166_838_7e-2,
    8.368_694e-3,
    1.381_455_2e-3,
];
/// ln 2 in two parts (Cody and Waite): `n · LN2_HI` is exact for the n used here.
const LN2_HI: f32 = 0.693_145_75;
const LN2_LO: f32 = 1.428_606_8e-6;
/// 1.5 · 2²³: adding and subtracting it rounds a float of magnitude below 2²² to an integer.
const ROUND: f32 = 12_582_912.0;
/// tanh(10) rounds to 1 in f32; clamping keeps e^{2|x|} finite.
const CLAMP: f32 = 10.0;
/// The largest magnitude of argument `exp_bounded` takes: e^80 ≈ 5.5e34 is finite in f32
/// (σ(−80) and e^−80, 1.8e-35, are normal floats), and 2^n stays within the exponent range.
const EXP_MAX: f32 = 80.0;

simd_when_present! {
    /// tanh of each value, in place; NaN stays NaN, ±0 stays ±0.
    pub fn tanh_in_place => tanh_loop(values: &mut [f32]) -> ();
    /// tanh(v + bias[j]) for each value v in column j of `values`, rows of `bias.len()` values
    /// one after another, in place: a Linear's bias and the tanh after it in one pass.
    pub fn bias_tanh_in_place => bias_tanh_loop(values: &mut [f32], bias: &[f32]) -> ();
    /// tanh of each value, in place, and its derivative 1 − tanh² into `slopes`
    /// (`nn::pointwise`'s form).
    pub fn tanh_and_slopes => tanh_and_slopes_loop(values: &mut [f32], slopes: &mut [f32]) -> ();
    /// The logistic sigmoid σ of each value, in place, and its derivative σ·(1 − σ) into
    /// `slopes`.
    pub fn sigmoid_and_slopes => sigmoid_and_slopes_loop(values: &mut [f32], slopes: &mut [f32]) -> ();
}

#[inline(always)]
fn tanh_loop(values: &mut [f32]) {
    for value in values.iter_mut() {
        *value = tanh_approx(*value);
    }
}

#[inline(always)]
fn bias_tanh_loop(values: &mut [f32], bias: &[f32]) {
    for row in values.chunks_exact_mut(bias.len()) {
        for (value, b) in row.iter_mut().zip(bias) {
            *value = tanh_approx(*value + b);
        }
    }
}

#[inline(always)]
fn tanh_and_slopes_loop(values: &mut [f32], slopes: &mut [f32]) {
    for (value, slope) in values.iter_mut().zip(slopes) {
        let t = tanh_approx(*value);
        *value = t;
        *slope = 1.0 - t * t;
    }
}

#[inline(always)]
fn sigmoid_and_slopes_loop(values: &mut [f32], slopes: &mut [f32]) {
    for (value, slope) in values.iter_mut().zip(slopes) {
        let s = sigmoid_approx(*value);
        *value = s;
        *slope = s * (1.0 - s);
    }
}

/// e^y for y ≤ 0 (softmax's e^{s − max s}), e^−80 for anything below −80: the error that makes
/// beside a sum of at least 1 is below 2e-35. NaN stays NaN.
#[inline(always)]
pub(crate) fn exp_non_positive(y: f32) -> f32 {
    let e = exp_bounded(y.max(-EXP_MAX));
    if y.is_nan() { y } else { e }
}

/// e^y for |y| ≤ `EXP_MAX`: 2^n · e^r with n = round(y / ln 2), |r| ≤ ln 2 / 2.
#[inline(always)]
fn exp_bounded(y: f32) -> f32 {
    let n = (y * std::f32::consts::LOG2_E + ROUND) - ROUND;
    let r = (y - n * LN2_HI) - n * LN2_LO;
    let q = ((((EXP[4] * r + EXP[3]) * r + EXP[2]) * r + EXP[1]) * r + EXP[0]) * r * r + r + 1.0;
    // 2^n from its exponent bits: n + 127 sits in the low mantissa bits of n + 127 + ROUND.
    let two_to_n = f32::from_bits((n + 127.0 + ROUND).to_bits() << 23);
    q * two_to_n
}

/// σ(x) = 1 / (1 + e^{−x}) without cancellation on either side: with E = e^{|x|},
/// 1 / (1 + E) below zero and E / (1 + E) above. Branch-free, so its loop vectorises.
#[inline(always)]
pub(crate) fn sigmoid_approx(x: f32) -> f32 {
    let e = exp_bounded(x.abs().min(EXP_MAX));
    let below = 1.0 / (1.0 + e);
    let s = if x < 0.0 { below } else { e * below };
    if x.is_nan() { x } else { s }
}

/// One value, written without branches so the loops above vectorise.
#[inline(always)]
pub(crate) fn tanh_approx(x: f32) -> f32 {
    let a = x.abs().min(CLAMP);
    let z = a * a;
    let p = (((ODD[4] * z + ODD[3]) * z + ODD[2]) * z + ODD[1]) * z + ODD[0];
    let near_zero = a + a * z * p;
    let far = 1.0 - 2.0 / (exp_bounded(2.0 * a) + 1.0);
    let magnitude = if a < SMALL { near_zero } else { far };
    if x.is_nan() { x } else { magnitude.copysign(x) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps_apart(a: f32, b: f32) -> u32 {
        a.to_bits().abs_diff(b.to_bits())
    }

    /// Every 97th float from −12 to 12 (about 21 million values, all exponents), against
    /// tanh in f64 rounded to f32.
    #[test]
    fn within_three_ulp_of_the_true_tanh_everywhere() {
        let mut worst = (0, 0.0f32);
        let mut values: Vec<f32> = (0..=12.0f32.to_bits()).step_by(97).map(f32::from_bits).collect();
        values.extend(values.clone().iter().map(|v| -v));
        let mut got = values.clone();
        tanh_in_place(&mut got);
        for (x, got) in values.iter().zip(got) {
            let ulps = ulps_apart(got, (f64::from(*x)).tanh() as f32);
            if ulps > worst.0 {
                worst = (ulps, *x);
            }
        }
        assert!(worst.0 <= 3, "{} ulp at {}", worst.0, worst.1);
    }

    #[test]
    fn keeps_signed_zeros_infinities_and_nan() {
        let mut values = [0.0, -0.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN, 1e-30, -50.0];
        tanh_in_place(&mut values);
        assert_eq!(values[0].to_bits(), 0.0f32.to_bits());
        assert_eq!(values[1].to_bits(), (-0.0f32).to_bits());
        assert_eq!(values[2..4], [1.0, -1.0]);
        assert!(values[4].is_nan());
        assert_eq!(values[5..], [1e-30, -1.0]);
    }

    #[test]
    fn bias_tanh_adds_each_columns_bias_then_takes_tanh() {
        let bias = [0.5, -1.0, 0.0];
        let mut values: Vec<f32> = (0..21).map(|i| i as f32 * 0.1 - 1.0).collect();
        let want: Vec<f32> = values
            .iter()
            .enumerate()
            .map(|(i, v)| tanh_approx(v + bias[i % 3]))
            .collect();
        bias_tanh_in_place(&mut values, &bias);
        assert_eq!(values, want);
    }

    /// The vectorised loop and one value at a time give the same bits (lengths that leave
    /// remainders after 16 and 8 lanes), and so does every kernel here at every vector width
    /// the processor runs (`simd::with_cap`).
    #[test]
    fn every_lane_width_gives_the_same_bits() {
        let values: Vec<f32> = (0..1_003).map(|i| (i as f32 * 0.37).sin() * 6.0).collect();
        let mut together = values.clone();
        tanh_in_place(&mut together);
        let one_by_one: Vec<f32> = values.iter().map(|&v| tanh_approx(v)).collect();
        assert_eq!(together, one_by_one);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
        crate::kernels::simd::assert_same_at_every_width(|| {
            let mut outs = [(); 4].map(|()| values.clone());
            let mut slopes = [(); 2].map(|()| vec![0f32; values.len()]);
            let [plain, biased, tanh_out, sigmoid_out] = &mut outs;
            let [tanh_slopes, sigmoid_slopes] = &mut slopes;
            tanh_in_place(plain);
            // Rows of three values (1,002 of the 1,003).
            bias_tanh_in_place(&mut biased[..1_002], &[0.5, -1.0, 2.0]);
            tanh_and_slopes(tanh_out, tanh_slopes);
            sigmoid_and_slopes(sigmoid_out, sigmoid_slopes);
            outs.iter().chain(&slopes).map(|v| bits(v)).collect::<Vec<_>>()
        });
    }

    /// Every 97th float from −80 to 80 against σ in f64: within 4 ulp both where σ is tiny
    /// (no cancellation below zero) and near 1; beyond, at most σ(−80) and 1; NaN stays NaN.
    #[test]
    fn sigmoid_is_within_four_ulp_of_the_true_value() {
        let mut values: Vec<f32> = (0..=EXP_MAX.to_bits()).step_by(97).map(f32::from_bits).collect();
        values.extend(values.clone().iter().map(|v| -v));
        let mut got = values.clone();
        let mut slopes = vec![0f32; values.len()];
        sigmoid_and_slopes(&mut got, &mut slopes);
        let mut worst = (0, 0.0f32);
        for (x, got) in values.iter().zip(&got) {
            let want = 1.0 / (1.0 + (-f64::from(*x)).exp());
            let ulps = ulps_apart(*got, want as f32);
            if ulps > worst.0 {
                worst = (ulps, *x);
            }
        }
        assert!(worst.0 <= 4, "{} ulp at {}", worst.0, worst.1);
        let mut special = [f32::NAN, f32::INFINITY, 0.0, -90.0, f32::NEG_INFINITY];
        sigmoid_and_slopes(&mut special, &mut [0.0; 5]);
        assert!(special[0].is_nan());
        assert_eq!(special[1..3], [1.0, 0.5]);
        assert!(special[3..].iter().all(|s| (0.0..1.9e-35).contains(s)), "{special:?}");
    }
}
