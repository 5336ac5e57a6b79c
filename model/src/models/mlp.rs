//! `mlp`: the lecture's first model (makemore Part 2, with Part 3's BatchNorm): the whole
//! context embedded and flattened, one Linear → BatchNorm → Tanh block, a Linear head.
//! Block 3, n_embd 10, n_hidden 200 is the performance log's first row (12,097 parameters).
//! The network and its hand-derived training step are the lecture's (`lecture`).

use burn::module::Module;
use serde::Deserialize;

use super::lecture::{LectureNet, LectureShape, lecture_model};
use super::shared::{BLOCK_SIZE, N_EMBD, N_HIDDEN};
use crate::settings::ConfigError;

#[derive(Module, Debug)]
pub struct Mlp {
    net: LectureNet,
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
    fn shape(&self) -> LectureShape {
        LectureShape {
            n_embd: self.n_embd,
            n_hidden: self.n_hidden,
            block_size: self.block_size,
            group: self.block_size,
            batchnorm_bug: false,
        }
    }

    /// Any context length will do.
    fn check(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}

lecture_model!(Mlp, MlpSettings, [N_EMBD, N_HIDDEN, BLOCK_SIZE]);
