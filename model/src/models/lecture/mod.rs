//! The lecture's network, which the `mlp` and `wavenet` models build with their own
//! `LectureShape`: Embedding → blocks of [FlattenConsecutive(n) → Linear (no bias) → BatchNorm1d →
//! Tanh] → Linear. `mlp` is one block that flattens the whole context; `wavenet` is
//! log2(block_size) blocks that each fuse pairs of neighbours, halving the time axis.
//! `forward` evaluates (BatchNorm with running statistics); training goes through
//! `backprop`'s hand-derived pass (the fast path) or differentiates `forward_train_logits`.

use burn::module::Module;
use burn::nn::{Embedding, Linear};
use burn::tensor::{Device, Int, Tensor};

use crate::nn;
use crate::nn::batchnorm::BatchNorm1d;
use crate::rng::Rng;
use crate::settings::{DefaultValue, Kind, Setting};

/// The flag of the lecture's BatchNorm bug, which only a network with 3-D activations has.
pub const BATCHNORM_BUG: Setting = Setting::new(
    "batchnorm_bug",
    "Reproduce the lecture's BatchNorm bug (statistics over dim 0 only for 3-D input)",
    Kind::Flag,
    DefaultValue::Flag(false),
);

/// The network's dimensions, as a model reads them from its settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LectureShape {
    pub n_embd: usize,
    pub n_hidden: usize,
    /// Context length in characters.
    pub block_size: usize,
    /// How many consecutive positions each block fuses.
    pub group: usize,
    pub batchnorm_bug: bool,
}

impl LectureShape {
    /// Number of FlattenConsecutive → Linear → BatchNorm → Tanh blocks.
    pub fn depth(&self) -> usize {
        if self.group < 2 || self.group >= self.block_size {
            return 1;
        }
        let mut depth = 0;
        let mut positions = self.block_size;
        while positions > 1 {
            positions /= self.group;
            depth += 1;
        }
        depth
    }

    /// Trainable values of the network of this shape for `vocab` tokens, counted.
    pub fn count_params(&self, vocab: usize) -> usize {
        let mut width = self.n_embd;
        let mut total = vocab * self.n_embd;
        for _ in 0..self.depth() {
            // Linear without bias, then BatchNorm's gamma and beta.
            total += width * self.group * self.n_hidden + 2 * self.n_hidden;
            width = self.n_hidden;
        }
        total + self.n_hidden * vocab + vocab
    }
}

mod backprop;
pub use backprop::LectureGradients;

/// `LanguageModel` for a model that is this network of some `LectureShape`: `$model { net: LectureNet }`
/// whose `$settings` has `shape()` and `check()`. Everything but the shape is the network's.
macro_rules! lecture_model {
    ($model:ident, $settings:ty, [$($setting:expr),+]) => {
        impl crate::models::LanguageModel for $model {
            const SETTINGS: &'static [crate::settings::Setting] = &[$($setting),+];
            type Settings = $settings;
            const FAST_PATH: bool = true;

            fn context(settings: &$settings) -> usize {
                settings.shape().block_size
            }

            fn check(settings: &$settings) -> Result<(), crate::settings::ConfigError> {
                settings.check()
            }

            fn build(settings: &$settings, vocab: usize, rng: &mut crate::rng::Rng, device: &burn::tensor::Device) -> Self {
                Self {
                    net: crate::models::lecture::LectureNet::new(&settings.shape(), vocab, rng, device),
                }
            }

            fn count_params(settings: &$settings, vocab: usize) -> usize {
                settings.shape().count_params(vocab)
            }

            fn forward(&self, contexts: burn::tensor::Tensor<2, burn::tensor::Int>) -> burn::tensor::Tensor<2> {
                self.net.forward(contexts)
            }

            fn forward_train(&self, contexts: burn::tensor::Tensor<2, burn::tensor::Int>) -> burn::tensor::Tensor<2> {
                self.net.forward_train_logits(contexts)
            }

            fn trainable_params(&self) -> usize {
                self.net.trainable_params()
            }

            fn fast_step(
                &mut self,
                contexts: burn::tensor::Tensor<2, burn::tensor::Int>,
                targets: burn::tensor::Tensor<1, burn::tensor::Int>,
                lr: f64,
            ) -> Option<burn::tensor::Tensor<1>> {
                let (loss, gradients) = self.net.loss_and_gradients(contexts, targets);
                self.net = self.net.clone().sgd_step(gradients, lr);
                Some(loss)
            }
        }
    };
}
pub(crate) use lecture_model;

#[derive(Module, Debug)]
struct Block {
    /// How many consecutive positions FlattenConsecutive fuses.
    group: usize,
    linear: Linear,
    norm: BatchNorm1d,
}

impl Block {
    /// Evaluation: `[B, T, C]` → `[B, T / group, n_hidden]`, in inference form: BatchNorm
    /// folded into the Linear (one matrix product over every position), its bias added in
    /// tanh's pass, where BatchNorm's own steps took four passes over the activations.
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let fused = self.fuse(x);
        let Some((weight, bias)) = self.norm.fold_into(self.linear.weight.val()) else {
            return self.transform(fused);
        };
        let [b, t, c] = fused.dims();
        let [_, hidden] = weight.dims();
        nn::bias_tanh(fused.reshape([b * t, c]).matmul(weight), bias).reshape([b, t, hidden])
    }

    /// FlattenConsecutive: `[B, T, C]` → `[B, T / group, C · group]` (row-major reshape).
    fn fuse(&self, x: Tensor<3>) -> Tensor<3> {
        let [b, t, c] = x.dims();
        x.reshape([b, t / self.group, c * self.group])
    }

    /// Linear → BatchNorm → Tanh: `[B, T', C']` → `[B, T', n_hidden]`.
    fn transform(&self, fused: Tensor<3>) -> Tensor<3> {
        nn::tanh(self.norm.forward(self.linear.forward(fused)))
    }
}

#[derive(Module, Debug)]
pub struct LectureNet {
    embedding: Embedding,
    blocks: Vec<Block>,
    head: Linear,
}

impl LectureNet {
    /// A freshly initialised model, every weight drawn from `rng` in a fixed order.
    pub fn new(shape: &LectureShape, vocab_size: usize, rng: &mut Rng, device: &Device) -> Self {
        let group = shape.group;
        let embedding = nn::embedding(rng, vocab_size, shape.n_embd, device);
        let mut width = shape.n_embd;
        let mut positions = shape.block_size;
        let blocks = (0..shape.depth())
            .map(|_| {
                positions /= group;
                let linear = nn::linear(rng, width * group, shape.n_hidden, false, 1.0, device);
                width = shape.n_hidden;
                let norm = BatchNorm1d::new(width, positions, shape.batchnorm_bug, device);
                Block { group, linear, norm }
            })
            .collect();
        // The lecture scales the last layer down so the initial predictions are near uniform.
        let head = nn::linear(rng, shape.n_hidden, vocab_size, true, 0.1, device);
        Self {
            embedding,
            blocks,
            head,
        }
    }

    /// Token ids `[B, block_size]` → logits `[B, vocab]`.
    pub fn forward(&self, contexts: Tensor<2, Int>) -> Tensor<2> {
        let [b, _] = contexts.dims();
        let x = self
            .blocks
            .iter()
            .fold(self.embedding.forward(contexts), |x, block| block.forward(x));
        let [_, _, hidden] = x.dims();
        self.head.forward(x.reshape([b, hidden]))
    }

    /// Training mode: token ids `[B, block_size]` → logits `[B, vocab]`, normalised with the
    /// batch's statistics (which moves the running ones): what autodiff differentiates.
    pub fn forward_train_logits(&self, contexts: Tensor<2, Int>) -> Tensor<2> {
        self.forward_train(contexts).0
    }

    /// Shapes after the embedding and after each FlattenConsecutive and each block, as the
    /// lecture prints them (it squeezes `[B, 1, C]` to `[B, C]`; we reshape at the head).
    #[cfg(test)]
    fn layer_shapes(&self, contexts: Tensor<2, Int>) -> Vec<[usize; 3]> {
        let mut x = self.embedding.forward(contexts);
        let mut shapes = vec![x.dims()];
        for block in &self.blocks {
            let fused = block.fuse(x);
            shapes.push(fused.dims());
            x = block.transform(fused);
            shapes.push(x.dims());
        }
        shapes
    }

    /// Number of trained values (BatchNorm running statistics excluded).
    pub fn trainable_params(&self) -> usize {
        let linear = |l: &Linear| l.weight.num_params() + l.bias.as_ref().map_or(0, |b| b.num_params());
        self.embedding.weight.num_params()
            + self
                .blocks
                .iter()
                .map(|b| linear(&b.linear) + b.norm.trainable_params())
                .sum::<usize>()
            + linear(&self.head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::cross_entropy;
    use burn::module::Param;
    use burn::tensor::TensorData;

    /// The lecture's shapes: `group` = block for the MLP, 2 for the WaveNet.
    fn shape(n_embd: usize, n_hidden: usize, block_size: usize, group: usize) -> LectureShape {
        LectureShape {
            n_embd,
            n_hidden,
            block_size,
            group,
            batchnorm_bug: false,
        }
    }

    fn model(shape: LectureShape) -> LectureNet {
        let model = LectureNet::new(&shape, 27, &mut Rng::seed_from(42), &Device::flex());
        assert_eq!(
            shape.count_params(27),
            model.trainable_params(),
            "counted without a model"
        );
        model
    }

    #[test]
    fn parameter_counts_match_the_lecture() {
        assert_eq!(model(shape(10, 200, 3, 3)).trainable_params(), 12_097);
        assert_eq!(model(shape(10, 200, 8, 8)).trainable_params(), 22_097);
        assert_eq!(model(shape(10, 68, 8, 2)).trainable_params(), 22_397);
        let final_model = model(shape(24, 128, 8, 2));
        assert_eq!(final_model.trainable_params(), 76_579);
        // Burn's own count includes the running statistics (3 BatchNorms × 2 × 128).
        assert_eq!(final_model.num_params(), 76_579 + 768);
    }

    /// Evaluation in inference form (BatchNorm folded into the Linear, bias and tanh in one
    /// pass) scores as the layers one by one do, to 1e-6 relative: with running statistics
    /// moved by training-mode passes and gamma and beta away from 1 and 0.
    #[test]
    fn folded_evaluation_scores_as_the_layers_one_by_one() {
        let device = Device::flex();
        let mut m = model(shape(24, 128, 8, 2));
        let mut rng = Rng::seed_from(7);
        let mut draw = |n: usize, offset: f32| -> Tensor<1> {
            let values: Vec<f32> = (0..n).map(|_| rng.normal() as f32 * 0.3 + offset).collect();
            Tensor::from_data(TensorData::new(values, [n]), &device)
        };
        for block in &mut m.blocks {
            let c = block.norm.gamma.dims()[0];
            block.norm.gamma = Param::from_tensor(draw(c, 1.0));
            block.norm.beta = Param::from_tensor(draw(c, 0.0));
        }
        let ids: Vec<i64> = (0..64 * 8).map(|i| (i * 7 + i / 5) % 27).collect();
        let contexts = Tensor::<2, Int>::from_data(TensorData::new(ids, [64, 8]), &device);
        let targets = Tensor::<1, Int>::from_data(
            TensorData::new((0..64i64).map(|i| i % 27).collect::<Vec<_>>(), [64]),
            &device,
        );
        for _ in 0..3 {
            m.forward_train_logits(contexts.clone());
        }
        let layers = m.blocks.iter().fold(m.embedding.forward(contexts.clone()), |x, block| {
            block.transform(block.fuse(x))
        });
        let layers = m.head.forward(layers.reshape([64, 128]));
        let folded = m.forward(contexts);
        let read = |t: &Tensor<2>| t.to_data().try_to_vec::<f32>().unwrap();
        for (got, want) in read(&folded).iter().zip(read(&layers)) {
            assert!((got - want).abs() < 1e-5, "logit {got} vs {want}");
        }
        let want: f32 = cross_entropy(layers, targets.clone()).into_scalar();
        let got: f32 = cross_entropy(folded, targets).into_scalar();
        assert!(((got - want) / want).abs() < 1e-6, "{got} vs {want}");
    }

    #[test]
    fn wavenet_halves_time_and_grows_channels_as_in_the_lecture() {
        let m = model(shape(24, 128, 8, 2));
        let contexts = Tensor::<2, Int>::from_data(TensorData::new(vec![0i64; 32], [4, 8]), &Device::flex());
        // The lecture: [4, 8, 24] → [4, 4, 48] → [4, 4, 128] → [4, 2, 256] → … → [4, 27].
        assert_eq!(
            m.layer_shapes(contexts.clone()),
            vec![
                [4, 8, 24],
                [4, 4, 48],
                [4, 4, 128],
                [4, 2, 256],
                [4, 2, 128],
                [4, 1, 256],
                [4, 1, 128]
            ]
        );
        assert_eq!(m.forward(contexts).dims(), [4, 27]);
    }
}
