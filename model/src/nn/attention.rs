//! Causal multi-head self-attention's core, softmax(q·kᵀ/√d, each position over itself and
//! the earlier ones)·v, for the Transformer. Through Burn's ops it is some ten operations and,
//! per item and head, tiny matrix products (16 × 16 at makemore's sizes) that cost a gemm call
//! each; on the flex backend it is one operation here instead (`flex_ops`): a loop over items
//! and heads, forward and backward, vectorised. Other backends keep Burn's ops (`by_ops`).

use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Tensor};
use burn_autodiff::ops::Backward;
use rayon::prelude::*;

use crate::kernels::activations::exp_non_positive;
use crate::kernels::flex_ops::{self, Checkpointer, Flex, FlexTensor, Flexed, Gradients, Ops};
use crate::kernels::simd::simd_when_present;

/// Items per parallel task: enough work to amortise handing it to a thread.
const ITEMS_PER_TASK: usize = 4;
/// f32 lanes of the widest vector (AVX-512): rows of scores are padded to a multiple of it.
const LANES: usize = 16;

/// `q`, `k`, `v [B, T, C]`, each position's `heads` heads side by side (head h in columns
/// h·C/heads up to (h+1)·C/heads) → `[B, T, C]`, each head's attention in its own columns.
/// A NaN or an infinite score makes its row's weights NaN, as in PyTorch.
///
/// # Panics
/// When q, k and v differ in shape, or `heads` does not divide C.
pub fn causal_self_attention(q: Tensor<3>, k: Tensor<3>, v: Tensor<3>, heads: usize) -> Tensor<3> {
    let shape = q.dims();
    assert!(
        k.dims() == shape && v.dims() == shape,
        "attention: q {shape:?}, k {:?} and v {:?} must have one shape",
        k.dims(),
        v.dims()
    );
    assert!(
        heads > 0 && shape[2].is_multiple_of(heads),
        "attention: {heads} heads do not divide {} channels",
        shape[2]
    );
    if ![&q, &k, &v].into_iter().all(Flexed::opens) {
        return by_ops(q, k, v, heads);
    }
    let dims = Dims::new(q.dims(), heads);
    let [q, k, v] = [q, k, v].map(Flexed::open);
    on_flex(q, k, v, dims)
}

/// The same with Burn's ops, heads split out as `[B, H, T, D]`.
fn by_ops(q: Tensor<3>, k: Tensor<3>, v: Tensor<3>, heads: usize) -> Tensor<3> {
    let [b, t, c] = q.dims();
    let d = c / heads;
    let split = |x: Tensor<3>| x.reshape([b, t, heads, d]).swap_dims(1, 2);
    let later = Tensor::<2, Bool>::tril_mask([t, t], 0, &q.device())
        .reshape([1, 1, t, t])
        .expand([b, heads, t, t]);
    let scores = split(q).matmul(split(k).swap_dims(2, 3)) / (d as f64).sqrt();
    let weights = softmax(scores.mask_fill(later, f32::NEG_INFINITY), 3);
    weights.matmul(split(v)).swap_dims(1, 2).reshape([b, t, c])
}

/// Sizes of one attention: items, positions, heads, and each head's width.
#[derive(Clone, Copy, Debug)]
struct Dims {
    items: usize,
    positions: usize,
    heads: usize,
    width: usize,
}

impl Dims {
    fn new([items, positions, channels]: [usize; 3], heads: usize) -> Self {
        Self {
            items,
            positions,
            heads,
            width: channels / heads,
        }
    }

    /// Values of one item of q, k, v or the output: `[T, C]`.
    fn item(&self) -> usize {
        self.positions * self.heads * self.width
    }

    /// A row of scores or weights, padded to whole vectors.
    fn padded(&self) -> usize {
        self.positions.next_multiple_of(LANES)
    }

    /// Attention weights of one item: `[H, T, padded T]`.
    fn item_weights(&self) -> usize {
        self.heads * self.positions * self.padded()
    }

    fn scale(&self) -> f32 {
        1.0 / (self.width as f32).sqrt()
    }
}

/// The forward pass on flex; its weights `[B, H, T, padded T]` are kept for the backward pass.
fn on_flex(q: Flexed, k: Flexed, v: Flexed, dims: Dims) -> Tensor<3> {
    #[cfg(test)]
    tests::FLEX_PASSES.with(|passes| passes.set(passes.get() + 1));
    let (qs, ks, vs) = (q.values(), k.values(), v.values());
    let (q_values, k_values, v_values) = (
        flex_ops::contiguous(qs),
        flex_ops::contiguous(ks),
        flex_ops::contiguous(vs),
    );
    let mut weights = vec![0f32; dims.items * dims.item_weights()];
    let mut out = vec![0f32; dims.items * dims.item()];
    let task = ITEMS_PER_TASK * dims.item();
    (out.par_chunks_mut(task)
        .zip(weights.par_chunks_mut(ITEMS_PER_TASK * dims.item_weights())))
    .enumerate()
    .for_each(|(n, (out, weights))| {
        let at = n * task..n * task + out.len();
        let inputs = [&q_values[at.clone()], &k_values[at.clone()], &v_values[at]];
        attend(inputs, dims, weights, out);
    });
    let state = || Saved {
        inputs: [qs.clone(), ks.clone(), vs.clone()],
        weights: flex_ops::flex_tensor(weights, [dims.items, dims.item_weights()]),
        dims,
    };
    let output = flex_ops::flex_tensor(out, [dims.items, dims.positions, dims.heads * dims.width]);
    Flexed::record(Attention, [&q, &k, &v], state, output)
}

/// What the backward pass reads: q, k, v and the forward pass's weights.
#[derive(Clone, Debug)]
struct Saved {
    inputs: [FlexTensor; 3],
    weights: FlexTensor,
    dims: Dims,
}

#[derive(Debug)]
struct Attention;

impl Backward<Flex, 3> for Attention {
    type State = Saved;

    fn backward(self, ops: Ops<Saved, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        #[cfg(test)]
        tests::FLEX_PASSES.with(|passes| passes.set(passes.get() + 1));
        let Ops { parents, node, state } = ops;
        let grad: FlexTensor = grads.consume::<Flex>(&node);
        let [q, k, v] = state.inputs.each_ref().map(flex_ops::contiguous);
        let (dims, weights, grad) = (
            state.dims,
            flex_ops::contiguous(&state.weights),
            flex_ops::contiguous(&grad),
        );
        let size = dims.items * dims.item();
        let (mut dq, mut dk, mut dv) = (vec![0f32; size], vec![0f32; size], vec![0f32; size]);
        let task = ITEMS_PER_TASK * dims.item();
        let weights_task = ITEMS_PER_TASK * dims.item_weights();
        (dq.par_chunks_mut(task)
            .zip(dk.par_chunks_mut(task))
            .zip(dv.par_chunks_mut(task)))
        .enumerate()
        .for_each(|(n, ((dq, dk), dv))| {
            let at = n * task..n * task + dq.len();
            let weights = &weights[n * weights_task..][..dq.len() / dims.item() * dims.item_weights()];
            let inputs = [&q[at.clone()], &k[at.clone()], &v[at.clone()]];
            attend_backward(inputs, weights, &grad[at], dims, [dq, dk, dv]);
        });
        let shape = [dims.items, dims.positions, dims.heads * dims.width];
        for (parent, values) in parents.into_iter().zip([dq, dk, dv]) {
            if let Some(parent) = parent {
                grads.register::<Flex>(parent.id, flex_ops::flex_tensor(values, shape));
            }
        }
    }
}

simd_when_present! {
    /// The forward pass over whole items: `[q, k, v]` and `out` `[n, T, C]`, `weights` `[n, H, T, padded T]`.
    fn attend => attend_loop(inputs: [&[f32]; 3], dims: Dims, weights: &mut [f32], out: &mut [f32]) -> ();
    /// The backward pass over whole items: the gradient of `out` → those of q, k and v.
    fn attend_backward => attend_backward_loop(inputs: [&[f32]; 3], weights: &[f32], grad: &[f32], dims: Dims, into: [&mut [f32]; 3]) -> ();
}

/// Per item, head and position i: weights w_ij = softmax_j(q_i·k_j / √d) over j ≤ i, and
/// out_i = Σ_j w_ij v_j. Each step runs over a head's whole block of rows, so consecutive
/// vector operations are independent (a row of scores comes as Σ_d q_i[d]·kᵀ[d][..], k
/// transposed into rows padded to whole vectors): bound by throughput, not by latency.
#[inline(always)]
fn attend_loop([q, k, v]: [&[f32]; 3], dims: Dims, weights: &mut [f32], out: &mut [f32]) {
    let Dims {
        positions: t,
        heads,
        width: d,
        ..
    } = dims;
    let padded = dims.padded();
    let mut k_t = vec![0f32; d * padded];
    for (item, weights) in weights.chunks_exact_mut(dims.item_weights()).enumerate() {
        for (head, w) in weights.chunks_exact_mut(t * padded).enumerate() {
            let at = |i: usize| (item * t + i) * heads * d + head * d;
            transpose(k, at, dims, &mut k_t);
            for (dd, k_t) in k_t.chunks_exact(padded).enumerate() {
                for (i, scores) in w.chunks_exact_mut(padded).enumerate() {
                    add_scaled(scores, q[at(i) + dd], k_t);
                }
            }
            softmax_rows(w, dims);
            for j in 0..t {
                let v = &v[at(j)..][..d];
                for i in j..t {
                    add_scaled(&mut out[at(i)..][..d], w[i * padded + j], v);
                }
            }
        }
    }
}

/// With g_i the gradient of out_i: dw_ij = g_i·v_j; through the softmax,
/// ds_ij = w_ij (dw_ij − Σ_l w_il dw_il); dq_i = Σ_j ds_ij k_j / √d; dk_j = Σ_i ds_ij q_i / √d;
/// dv_j = Σ_i w_ij g_i. Ordered as `attend_loop` is, a head's block at a time.
#[inline(always)]
fn attend_backward_loop(
    [q, k, v]: [&[f32]; 3],
    weights: &[f32],
    grad: &[f32],
    dims: Dims,
    [dq, dk, dv]: [&mut [f32]; 3],
) {
    let Dims {
        positions: t,
        heads,
        width: d,
        ..
    } = dims;
    let (padded, scale) = (dims.padded(), dims.scale());
    let (mut v_t, mut ds) = (vec![0f32; d * padded], vec![0f32; t * padded]);
    for (item, weights) in weights.chunks_exact(dims.item_weights()).enumerate() {
        for (head, w) in weights.chunks_exact(t * padded).enumerate() {
            let at = |i: usize| (item * t + i) * heads * d + head * d;
            transpose(v, at, dims, &mut v_t);
            ds.fill(0.0);
            for (dd, v_t) in v_t.chunks_exact(padded).enumerate() {
                for (i, dw) in ds.chunks_exact_mut(padded).enumerate() {
                    add_scaled(dw, grad[at(i) + dd], v_t);
                }
            }
            for (ds, w) in ds.chunks_exact_mut(padded).zip(w.chunks_exact(padded)) {
                let weighted = lane_dot(w, ds);
                for (ds, w) in ds.iter_mut().zip(w) {
                    *ds = w * (*ds - weighted) * scale;
                }
            }
            for j in 0..t {
                let k = &k[at(j)..][..d];
                for i in j..t {
                    add_scaled(&mut dq[at(i)..][..d], ds[i * padded + j], k);
                }
            }
            for i in 0..t {
                let (q, g) = (&q[at(i)..][..d], &grad[at(i)..][..d]);
                for j in 0..=i {
                    add_scaled(&mut dk[at(j)..][..d], ds[i * padded + j], q);
                    add_scaled(&mut dv[at(j)..][..d], w[i * padded + j], g);
                }
            }
        }
    }
}

/// One head's `[T, D]` rows of `values` (row i at `at(i)`) into `transposed` `[D, padded T]`.
#[inline(always)]
fn transpose(values: &[f32], at: impl Fn(usize) -> usize, dims: Dims, transposed: &mut [f32]) {
    let padded = dims.padded();
    for j in 0..dims.positions {
        for (d, value) in values[at(j)..][..dims.width].iter().enumerate() {
            transposed[d * padded + j] = *value;
        }
    }
}

/// Row i of a head's scores `[T, padded T]` → softmax(scores[i][..=i] / √d), zeros after.
/// The exponentials run over the whole block at once (independent, so they pipeline). A NaN
/// score, or an infinite one (∞ − ∞), makes the row NaN, as in PyTorch: the comparisons
/// below keep NaN where `f32::max` and `min` would drop it.
#[inline(always)]
fn softmax_rows(scores: &mut [f32], dims: Dims) {
    let (padded, scale) = (dims.padded(), dims.scale());
    for (i, row) in scores.chunks_exact_mut(padded).enumerate() {
        let max = row[..=i]
            .iter()
            .fold(f32::NEG_INFINITY, |max, &s| if s > max || s.is_nan() { s } else { max });
        for s in row.iter_mut() {
            let below_max = *s - max;
            *s = if below_max > 0.0 { 0.0 } else { below_max } * scale;
        }
    }
    for s in scores.iter_mut() {
        *s = exp_non_positive(*s);
    }
    for (i, row) in scores.chunks_exact_mut(padded).enumerate() {
        row[i + 1..].fill(0.0);
        let sum = lane_sum(row);
        for s in row.iter_mut() {
            *s /= sum;
        }
    }
}

/// `into += scale · x`.
#[inline(always)]
fn add_scaled(into: &mut [f32], scale: f32, x: &[f32]) {
    let (into_vectors, into_rest) = into.as_chunks_mut::<LANES>();
    let (x_vectors, x_rest) = x.as_chunks::<LANES>();
    for (into, x) in into_vectors.iter_mut().zip(x_vectors) {
        *into = std::array::from_fn(|lane| into[lane] + scale * x[lane]);
    }
    for (into, x) in into_rest.iter_mut().zip(x_rest) {
        *into += scale * x;
    }
}

/// Σ a·b over two padded rows (whole vectors): a running sum per lane, then those pairwise.
#[inline(always)]
fn lane_dot(a: &[f32], b: &[f32]) -> f32 {
    let mut sum = [0f32; LANES];
    for (a, b) in a.as_chunks::<LANES>().0.iter().zip(b.as_chunks::<LANES>().0) {
        sum = std::array::from_fn(|lane| sum[lane] + a[lane] * b[lane]);
    }
    add_lanes(sum)
}

/// Σ a over a padded row, as `lane_dot` adds up.
#[inline(always)]
fn lane_sum(a: &[f32]) -> f32 {
    let mut sum = [0f32; LANES];
    for a in a.as_chunks::<LANES>().0 {
        sum = std::array::from_fn(|lane| sum[lane] + a[lane]);
    }
    add_lanes(sum)
}

/// The lanes of a vector added pairwise: halves, then quarters, ….
#[inline(always)]
fn add_lanes(mut lanes: [f32; LANES]) -> f32 {
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for lane in 0..width {
            lanes[lane] += lanes[lane + width];
        }
    }
    lanes[0]
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use burn::tensor::{Device, TensorData};

    use super::*;

    thread_local! {
        /// Forward and backward passes of the flex operation on this thread: a test of it
        /// proves it ran, not Burn's ops in its place.
        pub(super) static FLEX_PASSES: Cell<usize> = const { Cell::new(0) };
    }

    /// `f`'s result, and how many flex passes it ran on this thread.
    fn counting_passes<R>(f: impl FnOnce() -> R) -> (R, usize) {
        let before = FLEX_PASSES.with(Cell::get);
        let result = f();
        (result, FLEX_PASSES.with(Cell::get) - before)
    }

    const SHAPE: [usize; 3] = [2, 3, 4];
    const HEADS: usize = 2;

    /// PyTorch 2.9 (`q`, `k`, `v` as `input` below, phases 0, 0.5 and 1.1):
    /// ```python
    /// B, T, C, H = 2, 3, 4, 2
    /// n = B * T * C
    /// x = lambda phase: torch.tensor([((i * 0.37 + phase) % 2.0) - 1.0 for i in range(n)]).reshape(B, T, C).requires_grad_()
    /// q, k, v = x(0.0), x(0.5), x(1.1)
    /// w = torch.arange(n, dtype=torch.float32).reshape(B, T, C) / n
    /// split = lambda t: t.view(B, T, H, C // H).transpose(1, 2)
    /// y = F.scaled_dot_product_attention(split(q), split(k), split(v), is_causal=True).transpose(1, 2).reshape(B, T, C)
    /// (y * w).sum().backward()   # y, then q.grad, k.grad, v.grad
    /// ```
    const PYTORCH: [[f32; 24]; 4] = [
        [
            0.1, 0.47, 0.84, -0.79, -0.184599, 0.185401, 0.524008, 0.109362, -0.456889, -0.086889, 0.290717, 0.04957,
            0.54, 0.91, -0.72, -0.35, 0.290033, 0.660033, 0.077755, -0.630292, 0.075419, 0.445419, 0.071985, -0.076149,
        ],
        [
            0.0, 0.0, 0.0, 0.0, -0.050561, 0.017765, -0.026444, -0.026444, -0.084646, -0.09488, 0.002342, 0.002342,
            0.0, 0.0, 0.0, 0.0, 0.065628, 0.065628, -0.063802, 0.181592, -0.198034, 0.23423, -0.241609, 0.199192,
        ],
        [
            0.01276, 0.05905, 0.016081, 0.052185, -0.016603, -0.02735, 0.010657, -0.087708, 0.003842, -0.0317,
            -0.026738, 0.035523, 0.209835, 0.090812, 0.231262, 0.104316, -0.123382, 0.07561, -0.021222, 0.015358,
            -0.086453, -0.166422, -0.21004, -0.119674,
        ],
        [
            0.184133, 0.258248, 0.308736, 0.379482, 0.183536, 0.21788, 0.290478, 0.329653, 0.132331, 0.148872,
            0.150786, 0.165865, 1.194127, 1.274827, 1.21813, 1.292144, 0.546756, 0.5781, 0.641746, 0.674999, 0.259117,
            0.272073, 0.390124, 0.407857,
        ],
    ];

    fn input(phase: f64, device: &Device) -> Tensor<3> {
        let values: Vec<f32> = (0..24)
            .map(|i| (((i as f64 * 0.37 + phase) % 2.0) - 1.0) as f32)
            .collect();
        Tensor::from_data(TensorData::new(values, SHAPE), device)
    }

    fn assert_close(got: Tensor<3>, want: &[f32; 24], what: &str) {
        let got: Vec<f32> = got.into_data().try_to_vec().unwrap();
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= 1e-5, "{what}: {got:?} vs PyTorch's {want:?}");
        }
    }

    /// Output and gradients of q, k and v against PyTorch's, through our operation on flex
    /// (training and evaluation) and through Burn's ops (the path of the other backends).
    fn matches_pytorch(attention: fn(Tensor<3>, Tensor<3>, Tensor<3>, usize) -> Tensor<3>) {
        let train = Device::flex().autodiff();
        let [q, k, v] = [0.0, 0.5, 1.1].map(|phase| input(phase, &train).require_grad());
        let y = attention(q.clone(), k.clone(), v.clone(), HEADS);
        let weights = Tensor::<1, burn::tensor::Int>::arange(0..24, &train)
            .float()
            .reshape(SHAPE)
            / 24.0;
        let grads = (y.clone() * weights).sum().backward();
        assert_close(y, &PYTORCH[0], "output");
        for (name, x, want) in [("q", q, &PYTORCH[1]), ("k", k, &PYTORCH[2]), ("v", v, &PYTORCH[3])] {
            assert_close(x.grad(&grads).unwrap(), want, name);
        }
        let evaluate = Device::flex();
        let [q, k, v] = [0.0, 0.5, 1.1].map(|phase| input(phase, &evaluate));
        assert_close(attention(q, k, v, HEADS), &PYTORCH[0], "output in evaluation");
    }

    #[test]
    fn the_flex_operation_matches_pytorch_forward_and_backward() {
        let ((), passes) = counting_passes(|| matches_pytorch(causal_self_attention));
        // Training: a forward and a backward pass; evaluation: a forward pass.
        assert_eq!(passes, 3, "the flex operation ran, not Burn's ops");
    }

    #[test]
    fn burns_ops_match_pytorch_forward_and_backward() {
        matches_pytorch(by_ops);
    }

    /// Output and gradients of q, k and v on `[items, positions, 3 heads of 24]` random
    /// inputs, through `attention`, as values.
    fn random_pass(
        attention: fn(Tensor<3>, Tensor<3>, Tensor<3>, usize) -> Tensor<3>,
        items: usize,
        positions: usize,
    ) -> [Vec<f32>; 4] {
        let train = Device::flex().autodiff();
        let shape = [items, positions, 3 * 24];
        let mut rng = crate::rng::Rng::seed_from(positions as u64);
        let mut random = || {
            let values = (0..shape.iter().product()).map(|_| rng.normal() as f32).collect();
            Tensor::<3>::from_data(TensorData::new(values, shape), &train)
        };
        let [q, k, v, weights] = [random(), random(), random(), random()];
        let [q, k, v] = [q, k, v].map(Tensor::require_grad);
        let y = attention(q.clone(), k.clone(), v.clone(), 3);
        let grads = (y.clone() * weights).sum().backward();
        [
            y.inner(),
            q.grad(&grads).unwrap(),
            k.grad(&grads).unwrap(),
            v.grad(&grads).unwrap(),
        ]
        .map(|t| t.into_data().try_to_vec().unwrap())
    }

    /// Items in several parallel tasks, heads wider than a vector, and contexts of one
    /// vector of scores (11), of two (17) and of three (40): the operation and Burn's ops
    /// agree on every output and gradient.
    #[test]
    fn the_flex_operation_matches_burns_ops_at_larger_sizes() {
        for positions in [11, 17, 40] {
            let (ours, passes) =
                counting_passes(|| random_pass(causal_self_attention, 2 * ITEMS_PER_TASK + 1, positions));
            assert_eq!(passes, 2, "the flex operation ran, forward and backward");
            let burns = random_pass(by_ops, 2 * ITEMS_PER_TASK + 1, positions);
            for (name, (a, b)) in ["output", "q", "k", "v"].iter().zip(ours.iter().zip(&burns)) {
                let worst = a
                    .iter()
                    .zip(b)
                    .map(|(a, b)| (a - b).abs() / b.abs().max(1.0))
                    .fold(0.0, f32::max);
                assert!(worst <= 1e-5, "T = {positions}, {name}: differs by {worst}");
            }
        }
    }

    /// Every vector width the processor runs (`simd::with_cap`), forward and backward, bit for
    /// bit, at a context of three vectors of scores.
    #[test]
    fn every_width_gives_the_same_bits() {
        crate::kernels::simd::assert_same_at_every_width(|| {
            random_pass(causal_self_attention, 3, 40).map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>())
        });
    }

    /// PyTorch: `F.scaled_dot_product_attention` on a row with a NaN score gives NaN for that
    /// row, and so does a row with a +∞ score (∞ − ∞) or with −∞ alone
    /// (`torch.softmax(torch.tensor([-inf]), 0)` is NaN), while a −∞ beside finite scores only
    /// gets weight 0; other rows and heads are untouched.
    #[test]
    fn a_nan_or_an_infinite_score_makes_its_row_nan_as_in_pytorch() {
        let device = Device::flex();
        let values = |tensor: Tensor<3>| -> Vec<f32> { tensor.into_data().try_to_vec().unwrap() };
        let with = |phase: f64, at: usize, value: f32| {
            let mut x = values(input(phase, &device));
            x[at] = value;
            Tensor::<3>::from_data(TensorData::new(x, SHAPE), &device)
        };
        let nan_at = |y: &[f32]| -> Vec<usize> { (0..24).filter(|&i| y[i].is_nan()).collect() };
        // q of item 0, position 1, head 0 (columns 0 and 1 of [T = 3, C = 4]).
        let q = with(0.0, 4, f32::NAN);
        let y = values(causal_self_attention(
            q,
            input(0.5, &device),
            input(1.1, &device),
            HEADS,
        ));
        assert_eq!(nan_at(&y), [4, 5], "the NaN query's row of head 0, nothing else");
        // k of item 1, position 0, column 1 is +∞: every query of item 1 and head 0 scores
        // q[1] · ∞ against it. q[1] at positions 0, 1, 2: −0.19, −0.71, 0.77 — so position 0
        // has −∞ alone (NaN), position 1 −∞ beside a finite score (weight 0), position 2 +∞.
        let k = with(0.5, 13, f32::INFINITY);
        let y = values(causal_self_attention(
            input(0.0, &device),
            k,
            input(1.1, &device),
            HEADS,
        ));
        assert_eq!(nan_at(&y), [12, 13, 20, 21]);
    }

    #[test]
    #[should_panic(expected = "3 heads do not divide 4 channels")]
    fn heads_that_do_not_divide_the_channels_are_refused() {
        let device = Device::flex();
        let [q, k, v] = [0.0, 0.5, 1.1].map(|phase| input(phase, &device));
        causal_self_attention(q, k, v, 3);
    }

    #[test]
    #[should_panic(expected = "must have one shape")]
    fn q_k_and_v_of_different_shapes_are_refused() {
        let device = Device::flex();
        let [q, k] = [0.0, 0.5].map(|phase| input(phase, &device));
        causal_self_attention(q, k.clone(), k.narrow(1, 0, 2), HEADS);
    }
}
