//! AdamW in one pass per parameter on the pure-Rust CPU backends. Burn's `AdamW` runs about
//! fifteen tensor ops per parameter and step, each a pass over memory with a fresh buffer (an
//! eighth of a Transformer step); this one updates weights and moments in a single loop, in
//! place where the tensors are not shared, with the same operations in the same order, so it
//! gives the same bits. It keeps Burn's state (`AdamWState`), so checkpoints read and write as
//! before; elsewhere (libtorch, GPUs) and for AMSGrad it is Burn's `AdamW`. `optim` builds it.

use burn::optim::{AdamWConfig, AdamWState, AdaptiveMomentumState, LearningRate, Optimizer};
use burn::tensor::{DType, Device, Tensor, TensorData};

use crate::backend::is_pure_rust_cpu;

/// PyTorch's AdamW: the moments m ← β₁m + (1 − β₁)g and v ← β₂v + (1 − β₂)g², then
/// w ← w·(1 − lr·λ) − lr · m̂ / (√v̂ + ε) with m̂, v̂ the moments over (1 − βᵗ).
#[derive(Clone)]
pub struct AdamW {
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    weight_decay: f32,
    /// The same optimizer by Burn's ops, where the loop does not apply.
    by_ops: burn::optim::AdamW,
}

impl AdamW {
    pub fn new(beta_1: f32, beta_2: f32, epsilon: f32, weight_decay: f32) -> Self {
        let by_ops = AdamWConfig::new()
            .with_beta_1(beta_1)
            .with_beta_2(beta_2)
            .with_epsilon(epsilon)
            .with_weight_decay(weight_decay)
            .build();
        Self {
            beta_1,
            beta_2,
            epsilon,
            weight_decay,
            by_ops,
        }
    }
}

impl Optimizer for AdamW {
    type State<const D: usize> = AdamWState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<AdamWState<D>>,
    ) -> (Tensor<D>, Option<AdamWState<D>>) {
        let amsgrad = state.as_ref().is_some_and(|s| s.momentum.max_moment_2.is_some());
        if amsgrad || !takes_the_loop(&tensor) || !takes_the_loop(&grad) {
            return self.by_ops.step(lr, tensor, grad, state);
        }
        #[cfg(test)]
        tests::LOOP_STEPS.with(|steps| steps.set(steps.get() + 1));
        let (device, shape) = (tensor.device(), tensor.shape());
        let mut weights = tensor.into_data();
        let gradient = grad.into_data();
        let (time, mut moment_1, mut moment_2) = match state {
            Some(state) => (
                state.momentum.time + 1,
                Some(state.momentum.moment_1.into_data()),
                Some(state.momentum.moment_2.into_data()),
            ),
            None => (1, None, None),
        };
        let g = f32_slice(&gradient);
        let first = moment_1.is_none();
        let [m, v] = [&mut moment_1, &mut moment_2]
            .map(|moment| moment.get_or_insert_with(|| TensorData::new(vec![0f32; g.len()], shape.clone())));
        self.update(
            lr,
            time,
            first,
            f32_slice_mut(&mut weights),
            g,
            [f32_slice_mut(m), f32_slice_mut(v)],
        );
        let tensor = |data: TensorData| Tensor::from_data(data, &device);
        let [m, v] = [moment_1, moment_2].map(|moment| tensor(moment.expect("filled above")));
        let momentum = AdaptiveMomentumState::new(time, m, v);
        (tensor(weights), Some(AdamWState::new(momentum)))
    }

    fn to_device<const D: usize>(state: AdamWState<D>, device: &Device) -> AdamWState<D> {
        <burn::optim::AdamW as Optimizer>::to_device(state, device)
    }
}

impl AdamW {
    /// One step over `w` with gradient `g` and moments `[m, v]` (zeros before the first step,
    /// when `first`), each value rounded as Burn's ops round it: f32 throughout, the scalars
    /// given in f64 (lr, the decay factor) rounded to f32 first.
    fn update(&self, lr: f64, time: usize, first: bool, w: &mut [f32], g: &[f32], [m, v]: [&mut [f32]; 2]) {
        let (b1, b2, eps) = (self.beta_1, self.beta_2, self.epsilon);
        let (f1, f2) = (1.0 - b1, 1.0 - b2);
        let power = i32::try_from(time).unwrap_or(i32::MAX);
        let (c1, c2) = (1f32 - b1.powi(power), 1f32 - b2.powi(power));
        let decay_rate = lr * f64::from(self.weight_decay);
        let keep = (1.0 - decay_rate) as f32;
        let lr = lr as f32;
        for (((w, g), m), v) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            (*m, *v) = if first {
                (g * f1, g * g * f2)
            } else {
                (*m * b1 + g * f1, *v * b2 + g * g * f2)
            };
            let delta = (*m / c1) / ((*v / c2).sqrt() + eps);
            let decayed = if decay_rate == 0.0 { *w } else { *w * keep };
            *w = decayed - delta * lr;
        }
    }
}

/// Whether a tensor goes through the loop: f32 on a pure-Rust CPU backend.
fn takes_the_loop<const D: usize>(x: &Tensor<D>) -> bool {
    x.dtype() == DType::F32 && is_pure_rust_cpu(&x.device())
}

fn f32_slice(data: &TensorData) -> &[f32] {
    data.as_slice().expect("checked by takes_the_loop: f32")
}

fn f32_slice_mut(data: &mut TensorData) -> &mut [f32] {
    data.as_mut_slice().expect("checked by takes_the_loop: f32")
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use burn::optim::{GradientsParams, ModuleOptimizer};

    use super::*;
    use crate::nn;
    use crate::optim::number_parameters;
    use crate::rng::Rng;

    thread_local! {
        /// Parameter updates the loop made on this thread: a test of it proves it ran, not
        /// Burn's AdamW in its place.
        pub(super) static LOOP_STEPS: Cell<usize> = const { Cell::new(0) };
    }

    /// Every value's bits.
    fn bits<const D: usize>(t: Tensor<D>) -> Vec<u32> {
        let values: Vec<f32> = t.into_data().try_to_vec().unwrap();
        values.iter().map(|v| v.to_bits()).collect()
    }

    /// Five steps on a layer, with a learning rate that changes every step: every weight's
    /// bits after them, and how many updates went through the loop.
    fn five_steps(mut optimizer: ModuleOptimizer) -> (Vec<u32>, usize) {
        let looped_before = LOOP_STEPS.with(Cell::get);
        let device = Device::flex().autodiff();
        let mut layer = number_parameters(nn::torch_linear(&mut Rng::seed_from(5), 7, 5, true, &device));
        for step in 0..5 {
            let inputs = (0..28).map(|i| ((i * 7 + step) % 11) as f32 - 5.0).collect();
            let x = Tensor::<2>::from_data(TensorData::new(inputs, [4, 7]), &device);
            let grads = GradientsParams::from_grads(layer.forward(x).tanh().sum().backward(), &layer);
            layer = optimizer.step(0.01 * (step + 1) as f64, layer, grads);
        }
        let bias = layer.bias.expect("a bias").val();
        let weights = [bits::<1>(layer.weight.val().flatten(0, 1)), bits(bias)].concat();
        (weights, LOOP_STEPS.with(Cell::get) - looped_before)
    }

    type Step<'a> = &'a dyn Fn(f64, Tensor<2>, Tensor<2>, Option<AdamWState<2>>) -> (Tensor<2>, Option<AdamWState<2>>);

    /// Five steps on one tensor through `step` (an optimizer's `Optimizer::step`), with a
    /// learning rate that changes every step: after each, the state's step count and both
    /// moments, as bits.
    fn five_states(step: Step) -> Vec<(usize, Vec<u32>, Vec<u32>)> {
        let device = Device::flex();
        let mut rng = Rng::seed_from(7);
        let mut draw = || {
            let values: Vec<f32> = (0..12).map(|_| rng.normal() as f32).collect();
            Tensor::<2>::from_data(TensorData::new(values, [3, 4]), &device)
        };
        let (mut weights, mut state, mut seen) = (draw(), None, Vec::new());
        for n in 0..5 {
            let (next, after) = step(0.01 * (n + 1) as f64, weights, draw(), state);
            let momentum = &after.as_ref().expect("AdamW keeps a state").momentum;
            seen.push((
                momentum.time,
                bits(momentum.moment_1.clone()),
                bits(momentum.moment_2.clone()),
            ));
            (weights, state) = (next, after);
        }
        seen
    }

    /// The loop against Burn's AdamW, weight decay on: the same weights, bit for bit; and the
    /// decay does act.
    #[test]
    fn the_loop_gives_burns_adamw_bits() {
        let burns = AdamWConfig::new()
            .with_beta_1(0.9)
            .with_beta_2(0.99)
            .with_epsilon(1e-8)
            .with_weight_decay(0.1)
            .init();
        let (weights, looped) = five_steps(ModuleOptimizer::from(AdamW::new(0.9, 0.99, 1e-8, 0.1)));
        assert_eq!(looped, 10, "five steps of two parameters went through the loop");
        let (burns_weights, burns_looped) = five_steps(burns);
        assert_eq!(burns_looped, 0);
        assert_eq!(weights, burns_weights);
        let (undecayed, _) = five_steps(ModuleOptimizer::from(AdamW::new(0.9, 0.99, 1e-8, 0.0)));
        assert_ne!(weights, undecayed);
    }

    /// The state the loop keeps — step count, first and second moments — is Burn's, bit for
    /// bit, after every step.
    #[test]
    fn the_loop_keeps_burns_adamw_state() {
        let ours = AdamW::new(0.9, 0.99, 1e-8, 0.1);
        let burns = AdamWConfig::new()
            .with_beta_1(0.9)
            .with_beta_2(0.99)
            .with_epsilon(1e-8)
            .with_weight_decay(0.1)
            .build();
        let looped_before = LOOP_STEPS.with(Cell::get);
        let states = five_states(&|lr, w, g, s| ours.step(lr, w, g, s));
        assert_eq!(
            LOOP_STEPS.with(Cell::get) - looped_before,
            5,
            "every step went through the loop"
        );
        assert_eq!(states, five_states(&|lr, w, g, s| burns.step(lr, w, g, s)));
        assert_eq!(states.iter().map(|s| s.0).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    }
}
