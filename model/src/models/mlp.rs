//! `mlp`: the lecture's first model (makemore Part 2, with Part 3's BatchNorm): the whole
//! context embedded and flattened, one Linear → BatchNorm → Tanh block, a Linear head.
//! Block 3, n_embd 10, n_hidden 200 is the performance log's first row (12,097 parameters).

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor};
use serde::Deserialize;

use super::CharNet;
use super::lecture::{BLOCK_SIZE, CharModel, N_EMBD, N_HIDDEN, Shape};
use crate::rng::Rng;
use crate::settings::Setting;

#[derive(Module, Debug)]
pub struct Mlp {
    net: CharModel,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpSettings {
    n_embd: usize,
    n_hidden: usize,
    block_size: usize,
}

impl MlpSettings {
    /// One block that fuses the whole context.
    fn shape(&self) -> Shape {
        Shape {
            n_embd: self.n_embd,
            n_hidden: self.n_hidden,
            block_size: self.block_size,
            group: self.block_size,
            batchnorm_bug: false,
        }
    }
}

impl CharNet for Mlp {
    const SETTINGS: &'static [Setting] = &[N_EMBD, N_HIDDEN, BLOCK_SIZE];
    type Settings = MlpSettings;
    const FAST_PATH: bool = true;

    fn context(settings: &MlpSettings) -> usize {
        settings.block_size
    }

    fn build(settings: &MlpSettings, vocab: usize, rng: &mut Rng, device: &Device) -> Self {
        Self {
            net: CharModel::new(&settings.shape(), vocab, rng, device),
        }
    }

    fn count_params(settings: &MlpSettings, vocab: usize) -> usize {
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
