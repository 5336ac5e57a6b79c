//! What the autodiff path needs beyond the gradients: the optimizer a configuration asks for,
//! as Burn's `ModuleOptimizer` (SGD with PyTorch's momentum — no dampening —, AdamW as
//! PyTorch's in one pass per parameter (`adamw`), with the configuration's own defaults rather
//! than Burn's), gradient clipping by
//! the norm over all parameters as `torch.nn.utils.clip_grad_norm_` (Burn's clips each tensor
//! on its own), and parameter ids that are the same in every process, so that a checkpointed
//! optimizer state finds its parameters again.

mod adamw;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::Tensor;

use crate::config::{OptimizerKind, TrainConfig};
use adamw::AdamW;

/// The optimizer of `config`'s autodiff path.
pub fn optimizer(config: &TrainConfig) -> ModuleOptimizer {
    match config.optimizer {
        OptimizerKind::Sgd if config.momentum > 0.0 => SgdConfig::new()
            .with_momentum(Some(
                MomentumConfig::new()
                    .with_momentum(config.momentum)
                    .with_dampening(0.0)
                    .with_nesterov(config.nesterov),
            ))
            .init(),
        OptimizerKind::Sgd => SgdConfig::new().init(),
        OptimizerKind::Adamw => ModuleOptimizer::from(AdamW::new(
            config.beta1 as f32,
            config.beta2 as f32,
            config.eps as f32,
            config.weight_decay as f32,
        )),
    }
}

/// Scales every gradient of `module` by max_norm / (total norm + 1e-6) when the total norm
/// (over all parameters) is above `max_norm`, as PyTorch's `clip_grad_norm_`.
pub fn clip_global_norm<M: Module>(module: &M, grads: GradientsParams, max_norm: f64) -> GradientsParams {
    let mut squares = SumSquares {
        grads: &grads,
        total: 0.0,
    };
    module.visit(&mut squares);
    let norm = squares.total.sqrt();
    let coefficient = max_norm / (norm + 1e-6);
    if coefficient >= 1.0 {
        return grads;
    }
    let mut scale = Scale {
        grads,
        factor: coefficient,
    };
    module.visit(&mut scale);
    scale.grads
}

struct SumSquares<'a> {
    grads: &'a GradientsParams,
    total: f64,
}

impl ModuleVisitor for SumSquares<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.get::<D>(param.id) {
            let sum: f32 = grad.square().sum().into_scalar();
            self.total += f64::from(sum);
        }
    }
}

struct Scale {
    grads: GradientsParams,
    factor: f64,
}

impl ModuleVisitor for Scale {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.remove::<D>(param.id) {
            self.grads.register(param.id, grad * self.factor);
        }
    }
}

/// `module` with its parameters numbered 0, 1, 2, … in visit order: ids that a checkpointed
/// optimizer state can be matched with in another process.
pub fn number_parameters<M: Module>(module: M) -> M {
    module.map(&mut Numbering(0))
}

struct Numbering(u64);

impl ModuleMapper for Numbering {
    fn map_float<const D: usize>(&mut self, mut param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.id = ParamId::from(self.0);
        self.0 += 1;
        param
    }
}

#[cfg(test)]
mod tests {
    use burn::nn::{Linear, LinearConfig};
    use burn::tensor::{Device, TensorData};

    use super::*;
    use crate::config::TrainOptions;

    /// A 3 → 2 linear layer with PyTorch's weight `w` ([out, in]) and bias `b`, on autodiff.
    fn linear(w: [[f32; 3]; 2], b: [f32; 2]) -> Linear {
        let device = Device::flex().autodiff();
        let mut layer = LinearConfig::new(3, 2).init(&device);
        // Burn stores the weight [in, out]: PyTorch's transposed.
        let transposed: Vec<f32> = (0..3).flat_map(|i| (0..2).map(move |o| w[o][i])).collect();
        layer.weight = Param::from_tensor(Tensor::from_data(TensorData::new(transposed, [3, 2]), &device));
        layer.bias = Some(Param::from_tensor(Tensor::from_data(
            TensorData::new(b.to_vec(), [2]),
            &device,
        )));
        number_parameters(layer)
    }

    /// Three steps on loss = Σ (x·Wᵀ + b)², x = [[1, 2, 3], [-1, 0.5, 2]], lr 0.1; the weight
    /// afterwards, in PyTorch's layout.
    fn three_steps(config: &TrainConfig) -> Vec<f32> {
        let mut layer = linear([[0.1, -0.2, 0.3], [0.0, 0.5, -0.4]], [0.05, -0.1]);
        let device = layer.weight.val().device();
        let mut optimizer = optimizer(config);
        for _ in 0..3 {
            let x = Tensor::<2>::from_data(TensorData::new(vec![1f32, 2., 3., -1., 0.5, 2.], [2, 3]), &device);
            let loss = layer.forward(x).square().sum();
            let mut grads = GradientsParams::from_grads(loss.backward(), &layer);
            if config.grad_clip > 0.0 {
                grads = clip_global_norm(&layer, grads, config.grad_clip);
            }
            layer = optimizer.step(0.1, layer, grads);
        }
        let w: Vec<f32> = layer.weight.val().into_data().try_to_vec().unwrap();
        (0..2)
            .flat_map(|o| (0..3).map(move |i| (o, i)))
            .map(|(o, i)| w[i * 2 + o])
            .collect()
    }

    fn config(edit: impl FnOnce(&mut TrainOptions)) -> TrainConfig {
        let mut options = TrainOptions::default();
        edit(&mut options);
        TrainConfig::try_from(options).unwrap()
    }

    fn assert_close(got: &[f32], want: &[f32]) {
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-5 * w.abs().max(1.0), "{got:?} vs PyTorch {want:?}");
        }
    }

    // PyTorch 2.9 (the expected weights below):
    //   lin = torch.nn.Linear(3, 2)
    //   with torch.no_grad():
    //       lin.weight.copy_(torch.tensor([[0.1, -0.2, 0.3], [0.0, 0.5, -0.4]]))
    //       lin.bias.copy_(torch.tensor([0.05, -0.1]))
    //   opt = torch.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    //     (or torch.optim.AdamW(lin.parameters(), lr=0.1, betas=(0.9, 0.99), eps=1e-8,
    //      weight_decay=0.01); with clip_grad_norm_(lin.parameters(), 0.5) before each step)
    //   x = torch.tensor([[1., 2., 3.], [-1., 0.5, 2.]])
    //   for _ in range(3):
    //       opt.zero_grad(); (lin(x) ** 2).sum().backward(); opt.step()
    //   print(lin.weight)
    #[test]
    fn sgd_with_nesterov_momentum_matches_pytorch() {
        let got = three_steps(&config(|o| {
            o.momentum = 0.9;
            o.nesterov = true;
        }));
        assert_close(&got, &SGD_NESTEROV);
    }

    #[test]
    fn adamw_matches_pytorch() {
        let got = three_steps(&config(|o| {
            o.optimizer = OptimizerKind::Adamw;
            o.beta2 = 0.99;
        }));
        assert_close(&got, &ADAMW);
    }

    #[test]
    fn clipping_by_the_global_norm_matches_pytorch() {
        let got = three_steps(&config(|o| o.grad_clip = 0.5));
        assert_close(&got, &SGD_CLIPPED);
    }

    #[test]
    fn parameters_are_numbered_the_same_in_every_model() {
        let ids = |layer: &Linear| (layer.weight.id, layer.bias.as_ref().unwrap().id);
        let (a, b) = (linear([[0.0; 3]; 2], [0.0; 2]), linear([[1.0; 3]; 2], [1.0; 2]));
        assert_eq!(ids(&a), ids(&b));
        assert_eq!(ids(&a), (ParamId::from(0), ParamId::from(1)));
    }

    // Printed by the snippet above.
    const SGD_NESTEROV: [f32; 6] = [
        -3.107_123_9,
        -16.885_286,
        -29.863_447,
        2.056_540_7,
        12.632_129,
        21.807_714,
    ];
    const ADAMW: [f32; 6] = [
        0.073_502_56,
        -0.375_682_74,
        0.106_536_91,
        -0.299_089_55,
        0.618_245_96,
        -0.236_697_17,
    ];
    const SGD_CLIPPED: [f32; 6] = [
        0.094_194_32,
        -0.252_377_93,
        0.201_049_83,
        -0.018_165_085,
        0.529_670_5,
        -0.322_493_85,
    ];
}
