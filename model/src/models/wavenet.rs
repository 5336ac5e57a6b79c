//! `wavenet`: the lecture's hierarchical model (makemore Part 5): the context embedded, then
//! log2(block_size) blocks of FlattenConsecutive(2) → Linear → BatchNorm → Tanh that fuse
//! neighbouring pairs, a Linear head. Block 8, n_embd 24, n_hidden 128 is the lecture's
//! final model (76,579 parameters); `batchnorm_bug` reproduces the bug the lecture finds.
//! The network and its hand-derived training step are the lecture's (`lecture`).

use burn::module::Module;
use serde::Deserialize;

use super::lecture::{BATCHNORM_BUG, LectureNet, LectureShape, lecture_model};
use super::shared::{BLOCK_SIZE, N_EMBD, N_HIDDEN};
use crate::settings::ConfigError;

#[derive(Module, Debug)]
pub struct Wavenet {
    net: LectureNet,
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
    fn shape(&self) -> LectureShape {
        LectureShape {
            n_embd: self.n_embd,
            n_hidden: self.n_hidden,
            block_size: self.block_size,
            group: 2,
            batchnorm_bug: self.batchnorm_bug,
        }
    }

    /// Halving must end at one position.
    fn check(&self) -> Result<(), ConfigError> {
        super::power_of_two_block(self.block_size, "wavenet (it halves the context at each layer)")
    }
}

lecture_model!(Wavenet, WavenetSettings, [N_EMBD, N_HIDDEN, BLOCK_SIZE, BATCHNORM_BUG]);
