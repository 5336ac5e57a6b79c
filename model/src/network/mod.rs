//! The lecture's two models as one network: Embedding → blocks of
//! [FlattenConsecutive(n) → Linear (no bias) → BatchNorm1d → Tanh] → Linear.
//! `mlp` is one block that flattens the whole context; `wavenet` is log2(block_size)
//! blocks that each fuse pairs of neighbours, halving the time axis. `forward` evaluates
//! (BatchNorm with running statistics); training goes through `backprop`'s hand-derived pass
//! (the fast path) or differentiates `forward_train_logits` with Burn's autodiff.

use burn::module::Module;
use burn::nn::{Embedding, Linear};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor};

use crate::config::{ModelKind, TrainConfig};
use crate::layers::{self, BatchNorm1d};
use crate::rng::Rng;
use crate::settings::{DefaultValue, Kind, Only, Setting};

const N_EMBD: Setting = Setting {
    name: "n_embd",
    help: "Embedding size per character",
    kind: Kind::Count { min: 1, why: "" },
    default: DefaultValue::Count(24),
    only: Only::Always,
};

const N_HIDDEN: Setting = Setting {
    name: "n_hidden",
    help: "Neurons per hidden layer",
    kind: Kind::Count { min: 1, why: "" },
    default: DefaultValue::Count(128),
    only: Only::Always,
};

const BLOCK_SIZE: Setting = Setting {
    name: "block_size",
    help: "Context length in characters (a power of two for wavenet)",
    kind: Kind::Count { min: 1, why: "" },
    default: DefaultValue::Count(8),
    only: Only::Always,
};

/// The settings of `mlp`: one block that flattens the whole context.
pub const MLP_SETTINGS: [Setting; 3] = [N_EMBD, N_HIDDEN, BLOCK_SIZE];

/// The settings of `wavenet`, whose BatchNorm sees 3-D input and so can have the lecture's bug.
pub const WAVENET_SETTINGS: [Setting; 4] = [
    N_EMBD,
    N_HIDDEN,
    BLOCK_SIZE,
    Setting {
        name: "batchnorm_bug",
        help: "Reproduce the lecture's BatchNorm bug (statistics over dim 0 only for 3-D input)",
        kind: Kind::Flag,
        default: DefaultValue::Flag(false),
        only: Only::Always,
    },
];

mod backprop;
pub use backprop::Gradients;

#[derive(Module, Debug)]
struct Block {
    /// How many consecutive positions FlattenConsecutive fuses.
    group: usize,
    linear: Linear,
    norm: BatchNorm1d,
}

impl Block {
    /// `[B, T, C]` → `[B, T / group, n_hidden]`.
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.transform(self.fuse(x))
    }

    /// FlattenConsecutive: `[B, T, C]` → `[B, T / group, C · group]` (row-major reshape).
    fn fuse(&self, x: Tensor<3>) -> Tensor<3> {
        let [b, t, c] = x.dims();
        x.reshape([b, t / self.group, c * self.group])
    }

    /// Linear → BatchNorm → Tanh: `[B, T', C']` → `[B, T', n_hidden]`.
    fn transform(&self, fused: Tensor<3>) -> Tensor<3> {
        self.norm.forward(self.linear.forward(fused)).tanh()
    }
}

#[derive(Module, Debug)]
pub struct CharModel {
    embedding: Embedding,
    blocks: Vec<Block>,
    head: Linear,
}

impl CharModel {
    /// A freshly initialised model, every weight drawn from `rng` in a fixed order.
    pub fn new(config: &TrainConfig, vocab_size: usize, rng: &mut Rng, device: &Device) -> Self {
        let group = match config.model {
            ModelKind::Mlp => config.block_size,
            ModelKind::Wavenet => 2,
        };
        let embedding = layers::embedding(rng, vocab_size, config.n_embd, device);
        let mut width = config.n_embd;
        let mut positions = config.block_size;
        let blocks = (0..config.depth())
            .map(|_| {
                positions /= group;
                let linear = layers::linear(rng, width * group, config.n_hidden, false, 1.0, device);
                width = config.n_hidden;
                let norm = BatchNorm1d::new(width, positions, config.batchnorm_bug, device);
                Block { group, linear, norm }
            })
            .collect();
        // The lecture scales the last layer down so the initial predictions are near uniform.
        let head = layers::linear(rng, config.n_hidden, vocab_size, true, 0.1, device);
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

/// Mean cross-entropy of `logits [B, V]` against `targets [B]`, as `F.cross_entropy`: `[1]`.
pub fn cross_entropy(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    mean_nll(log_softmax(logits, 1), targets)
}

/// Mean negative log-likelihood of `targets [B]` under `log_probs [B, V]`: `[1]`.
fn mean_nll(log_probs: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    let [b, _] = log_probs.dims();
    log_probs.gather(1, targets.reshape([b, 1])).mean().neg()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TrainOptions;
    use burn::tensor::TensorData;

    fn model(edit: impl FnOnce(&mut TrainOptions)) -> CharModel {
        let mut options = TrainOptions::default();
        edit(&mut options);
        let config = TrainConfig::try_from(options).unwrap();
        let model = CharModel::new(&config, 27, &mut Rng::seed_from(42), &Device::flex());
        assert_eq!(
            config.trainable_params(27),
            model.trainable_params(),
            "counted without a model"
        );
        model
    }

    #[test]
    fn parameter_counts_match_the_lecture() {
        let mlp = |block| {
            model(|o| {
                o.model = ModelKind::Mlp;
                o.block_size = block;
                o.n_embd = 10;
                o.n_hidden = 200;
            })
        };
        assert_eq!(mlp(3).trainable_params(), 12_097);
        assert_eq!(mlp(8).trainable_params(), 22_097);
        let small = model(|o| {
            o.n_embd = 10;
            o.n_hidden = 68;
        });
        assert_eq!(small.trainable_params(), 22_397);
        assert_eq!(model(|_| {}).trainable_params(), 76_579);
        // Burn's own count includes the running statistics (3 BatchNorms × 2 × 128).
        assert_eq!(model(|_| {}).num_params(), 76_579 + 768);
    }

    #[test]
    fn wavenet_halves_time_and_grows_channels_as_in_the_lecture() {
        let m = model(|_| {});
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

    #[test]
    fn cross_entropy_matches_pytorch() {
        // PyTorch: F.cross_entropy(torch.tensor([[1., 2., 3.], [1., 1., 1.]]), torch.tensor([2, 0]))
        //          = tensor(0.7531)
        let device = Device::flex();
        let logits = Tensor::<2>::from_data(TensorData::new(vec![1f32, 2., 3., 1., 1., 1.], [2, 3]), &device);
        let targets = Tensor::<1, Int>::from_data(TensorData::new(vec![2i64, 0], [2]), &device);
        let loss: f32 = cross_entropy(logits, targets).into_scalar();
        assert!((loss - 0.7531).abs() < 1e-4, "{loss}");
    }
}
