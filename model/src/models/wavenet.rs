//! `wavenet`: the lecture's hierarchical model (makemore Part 5): the context embedded, then
//! log2(block_size) blocks of FlattenConsecutive(2) → Linear → BatchNorm → Tanh that fuse
//! neighbouring pairs, a Linear head. Block 8, n_embd 24, n_hidden 128 is the lecture's
//! final model (76,579 parameters); `batchnorm_bug` reproduces the bug the lecture finds.

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor};
use serde::Deserialize;

use super::CharNet;
use super::lecture::{BATCHNORM_BUG, BLOCK_SIZE, CharModel, N_EMBD, N_HIDDEN, Shape};
use crate::config::ConfigError;
use crate::rng::Rng;
use crate::settings::Setting;

#[derive(Module, Debug)]
pub struct Wavenet {
    net: CharModel,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WavenetSettings {
    n_embd: usize,
    n_hidden: usize,
    block_size: usize,
    batchnorm_bug: bool,
}

impl WavenetSettings {
    /// Blocks that fuse pairs, halving the context each time.
    fn shape(&self) -> Shape {
        Shape {
            n_embd: self.n_embd,
            n_hidden: self.n_hidden,
            block_size: self.block_size,
            group: 2,
            batchnorm_bug: self.batchnorm_bug,
        }
    }
}

impl CharNet for Wavenet {
    const SETTINGS: &'static [Setting] = &[N_EMBD, N_HIDDEN, BLOCK_SIZE, BATCHNORM_BUG];
    type Settings = WavenetSettings;
    const FAST_PATH: bool = true;

    fn context(settings: &WavenetSettings) -> usize {
        settings.block_size
    }

    fn check(settings: &WavenetSettings) -> Result<(), ConfigError> {
        let block = settings.block_size;
        if block >= 2 && block.is_power_of_two() {
            return Ok(());
        }
        Err(ConfigError {
            key: "block_size".into(),
            reason: format!(
                "must be a power of two ≥ 2 for wavenet (it halves the context at each layer), got {block}"
            ),
        })
    }

    fn build(settings: &WavenetSettings, vocab: usize, rng: &mut Rng, device: &Device) -> Self {
        Self {
            net: CharModel::new(&settings.shape(), vocab, rng, device),
        }
    }

    fn count_params(settings: &WavenetSettings, vocab: usize) -> usize {
        settings.shape().count_params(vocab)
    }

    fn forward(&self, contexts: Tensor<2, Int>) -> Tensor<2> {
        self.net.forward(contexts)
    }

    fn forward_train(&self, contexts: Tensor<2, Int>) -> Tensor<2> {
        self.net.forward_train_logits(contexts)
    }

    fn trainable_params(&self) -> usize {
        self.net.trainable_params()
    }

    fn fast_step(&mut self, contexts: Tensor<2, Int>, targets: Tensor<1, Int>, lr: f64) -> Option<Tensor<1>> {
        let (loss, gradients) = self.net.loss_and_gradients(contexts, targets);
        self.net = self.net.clone().descend(gradients, lr);
        Some(loss)
    }
}
