//! `transformer`: makemore.py's GPT-style decoder. Token and learned position embeddings
//! (n_embd) → `n_layer` blocks of
//!
//!   x ← x + proj(causal self-attention(LayerNorm(x)))      (n_head heads of n_embd / n_head)
//!   x ← x + W₂ GELU(W₁ LayerNorm(x))                        (W₁: n_embd → 4·n_embd)
//!
//! → LayerNorm → linear head without bias; with `dropout`, dropout on the embeddings and on
//! each residual branch in training (makemore.py has none: default 0). GELU is makemore.py's
//! (the tanh approximation); weights start as PyTorch initialises them. It reads whole items
//! (`dataset::Reading`).

use burn::module::Module;
use burn::nn::{Embedding, LayerNorm, LayerNormConfig, Linear};
use burn::tensor::{Device, Int, Tensor};
use serde::Deserialize;

use super::shared::{BLOCK_SIZE, N_EMBD};
use super::shared::{DROPOUT, check_dropout};
use super::{LanguageModel, MAKEMORE_DEFAULTS};
use crate::dataset::Reading;
use crate::nn;
use crate::nn::attention;
use crate::nn::gelu::gelu;
use crate::rng::Rng;
use crate::settings::ConfigError;
use crate::settings::{DefaultValue, Kind, Setting};

const N_LAYER: Setting = Setting::new("n_layer", "Transformer blocks", Kind::count(1), DefaultValue::Count(4));

const N_HEAD: Setting = Setting::new(
    "n_head",
    "Attention heads per block; must divide n_embd",
    Kind::count(1),
    DefaultValue::Count(4),
);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformerSettings {
    n_embd: usize,
    block_size: usize,
    n_layer: usize,
    n_head: usize,
    dropout: f64,
}

#[derive(Module, Debug)]
struct Block {
    n_head: usize,
    dropout: f64,
    ln_1: LayerNorm,
    /// Queries, keys and values side by side: `[C, 3·C]`.
    attention: Linear,
    /// `[C, C]`.
    attention_out: Linear,
    ln_2: LayerNorm,
    /// `[C, 4·C]`, then `[4·C, C]`.
    mlp_in: Linear,
    mlp_out: Linear,
}

impl Block {
    /// `x [B, T, C]` → `[B, T, C]`. Each residual branch is dropped out in training.
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let attended = self
            .attention_out
            .forward(self.self_attention(self.ln_1.forward(x.clone())));
        let x = x + nn::dropout(attended, self.dropout);
        let mlp = self
            .mlp_out
            .forward(gelu(self.mlp_in.forward(self.ln_2.forward(x.clone()))));
        x + nn::dropout(mlp, self.dropout)
    }

    /// Causal multi-head self-attention before the output projection: `[B, T, C]` → `[B, T, C]`.
    fn self_attention(&self, x: Tensor<3>) -> Tensor<3> {
        let [b, t, c] = x.dims();
        // Queries, keys and values each from its own columns of `attention`: slicing the
        // weights rather than the `[B, T, 3·C]` product keeps each contiguous (and the
        // slices' backward works on weights, not activations).
        let weight = self.attention.weight.val();
        let bias = self.attention.bias.as_ref().map(|bias| bias.val());
        let rows = x.reshape([b * t, c]);
        let project = |at: usize| {
            let projected = rows.clone().matmul(weight.clone().narrow(1, at * c, c));
            let projected = match &bias {
                Some(bias) => projected + bias.clone().narrow(0, at * c, c).unsqueeze(),
                None => projected,
            };
            projected.reshape([b, t, c])
        };
        attention::causal_self_attention(project(0), project(1), project(2), self.n_head)
    }
}

#[derive(Module, Debug)]
pub struct Transformer {
    dropout: f64,
    token: Embedding,
    position: Embedding,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
    head: Linear,
}

impl LanguageModel for Transformer {
    const SETTINGS: &'static [Setting] = &[N_EMBD, BLOCK_SIZE, N_LAYER, N_HEAD, DROPOUT];
    const DEFAULTS: &'static [(&'static str, DefaultValue)] = MAKEMORE_DEFAULTS;
    const READS: Reading = Reading::Items;
    type Settings = TransformerSettings;

    fn context(settings: &TransformerSettings) -> usize {
        settings.block_size
    }

    fn check(settings: &TransformerSettings) -> Result<(), ConfigError> {
        check_dropout(settings.dropout)?;
        if settings.n_embd.is_multiple_of(settings.n_head) {
            return Ok(());
        }
        Err(ConfigError {
            key: "n_head".into(),
            reason: format!(
                "must divide n_embd ({}) into equal heads, got {}; try one of: {}",
                settings.n_embd,
                settings.n_head,
                divisors(settings.n_embd)
            ),
        })
    }

    fn build(settings: &TransformerSettings, vocab: usize, rng: &mut Rng, device: &Device) -> Self {
        let c = settings.n_embd;
        let norm = || LayerNormConfig::new(c).init(device);
        let token = nn::embedding(rng, vocab, c, device);
        let position = nn::embedding(rng, settings.block_size, c, device);
        let blocks = (0..settings.n_layer)
            .map(|_| Block {
                n_head: settings.n_head,
                dropout: settings.dropout,
                ln_1: norm(),
                attention: nn::torch_linear(rng, c, 3 * c, true, device),
                attention_out: nn::torch_linear(rng, c, c, true, device),
                ln_2: norm(),
                mlp_in: nn::torch_linear(rng, c, 4 * c, true, device),
                mlp_out: nn::torch_linear(rng, 4 * c, c, true, device),
            })
            .collect();
        let head = nn::torch_linear(rng, c, vocab, false, device);
        Self {
            dropout: settings.dropout,
            token,
            position,
            blocks,
            ln_f: norm(),
            head,
        }
    }

    fn count_params(settings: &TransformerSettings, vocab: usize) -> usize {
        let c = settings.n_embd;
        let linear = |a: usize, b: usize| a * b + b;
        let block = 2 * (2 * c) + linear(c, 3 * c) + linear(c, c) + linear(c, 4 * c) + linear(4 * c, c);
        (vocab + settings.block_size) * c + settings.n_layer * block + 2 * c + c * vocab
    }

    fn item_logits(&self, inputs: Tensor<2, Int>) -> Option<Tensor<3>> {
        let [_, t] = inputs.dims();
        let device = inputs.device();
        let positions = Tensor::<1, Int>::arange(0..t as i64, &device).reshape([1, t]);
        let mut x = nn::dropout(
            self.token.forward(inputs) + self.position.forward(positions),
            self.dropout,
        );
        for block in &self.blocks {
            x = block.forward(x);
        }
        Some(self.head.forward(self.ln_f.forward(x)))
    }

    fn trainable_params(&self) -> usize {
        self.num_params()
    }
}

/// `n`'s divisors, as a list to choose from.
fn divisors(n: usize) -> String {
    let all: Vec<String> = (1..=n)
        .filter(|d| n.is_multiple_of(*d))
        .map(|d| d.to_string())
        .collect();
    all.join(", ")
}

#[cfg(test)]
mod tests {
    use burn::module::Param;
    use burn::tensor::TensorData;

    use super::*;

    fn settings(n_head: usize) -> TransformerSettings {
        TransformerSettings {
            n_embd: 64,
            block_size: 16,
            n_layer: 4,
            n_head,
            dropout: 0.0,
        }
    }

    #[test]
    fn it_has_makemore_s_parameter_count() {
        // makemore.py --type transformer on names.txt (vocab 27, block_size 16): 204,544.
        assert_eq!(Transformer::count_params(&settings(4), 27), 204_544);
        let model = Transformer::build(&settings(4), 27, &mut Rng::seed_from(1), &Device::flex());
        assert_eq!(model.trainable_params(), 204_544);
    }

    #[test]
    fn each_position_attends_only_to_itself_and_earlier_ones() {
        let device = Device::flex();
        let model = Transformer::build(&settings(4), 27, &mut Rng::seed_from(2), &device);
        let input = |row: Vec<i64>| Tensor::<2, Int>::from_data(TensorData::new(row, [1, 5]), &device);
        let a = model.item_logits(input(vec![0, 1, 2, 3, 4])).unwrap();
        let b = model.item_logits(input(vec![0, 1, 2, 9, 4])).unwrap();
        let diff: Vec<f32> = (a - b).abs().sum_dim(2).into_data().try_to_vec().unwrap();
        assert!(diff[..3].iter().all(|d| *d == 0.0), "{diff:?}");
        assert!(diff[3..].iter().all(|d| *d > 0.0), "{diff:?}");
    }

    /// Dropout reaches both residual branches of a block, not only the embeddings: with the
    /// other branch silenced (its output projection zero), a block in training gives another
    /// output than the same block in evaluation.
    #[test]
    fn training_drops_out_each_residual_branch() {
        let train = Device::flex().autodiff();
        let mut dropped = settings(4);
        dropped.dropout = 0.5;
        let model = Transformer::build(&dropped, 27, &mut Rng::seed_from(3), &train);
        let x = Tensor::<3>::random([2, 5, 64], burn::tensor::Distribution::Normal(0.0, 1.0), &train);
        let silent = |[fan_in, fan_out]: [usize; 2]| Linear {
            weight: Param::from_tensor(Tensor::zeros([fan_in, fan_out], &train)),
            bias: Some(Param::from_tensor(Tensor::zeros([fan_out], &train))),
        };
        let attention_only = Block {
            mlp_out: silent([256, 64]),
            ..model.blocks[0].clone()
        };
        let mlp_only = Block {
            attention_out: silent([64, 64]),
            ..model.blocks[0].clone()
        };
        for (branch, block) in [("attention", attention_only), ("mlp", mlp_only)] {
            let evaluated = block.clone().valid().forward(x.clone().inner());
            let trained = block.forward(x.clone()).inner();
            let changed: f32 = (trained - evaluated).abs().sum().into_scalar();
            assert!(changed > 1.0, "the {branch} branch trains as it evaluates: {changed}");
        }
    }

    #[test]
    fn heads_that_do_not_divide_the_embedding_are_refused() {
        assert!(Transformer::check(&settings(4)).is_ok());
        let err = Transformer::check(&settings(5)).unwrap_err();
        assert_eq!(err.key, "n_head");
        assert!(
            err.reason.contains("got 5; try one of: 1, 2, 4, 8, 16, 32, 64"),
            "{}",
            err.reason
        );
    }
}
