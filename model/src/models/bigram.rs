//! `bigram`: the counting-table baseline every makemore user knows (Part 1) as a trainable
//! lookup: the logits of the next character are one row of a vocab × vocab table, picked by
//! the last character of the context. Zero-initialised, so it starts at the uniform
//! distribution; its best is the table of bigram counts (val ≈ 2.45 on names).

use burn::module::{Module, Param};
use burn::tensor::{Device, Int, Tensor};
use serde::Deserialize;

use super::LanguageModel;
use crate::rng::Rng;
use crate::settings::Setting;

#[derive(Module, Debug)]
pub struct Bigram {
    /// `[vocab, vocab]`: row `a` holds the logits of the character after `a`.
    table: Param<Tensor<2>>,
}

/// The bigram takes no settings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BigramSettings {}

impl LanguageModel for Bigram {
    const SETTINGS: &'static [Setting] = &[];
    type Settings = BigramSettings;

    fn context(_: &BigramSettings) -> usize {
        1
    }

    fn build(_: &BigramSettings, vocab: usize, _: &mut Rng, device: &Device) -> Self {
        Self {
            table: Param::from_tensor(Tensor::zeros([vocab, vocab], device)),
        }
    }

    fn count_params(_: &BigramSettings, vocab: usize) -> usize {
        vocab * vocab
    }

    /// `[B, context]` → the table's rows of each context's last character, `[B, vocab]`.
    fn forward(&self, contexts: Tensor<2, Int>) -> Tensor<2> {
        let [_, context] = contexts.dims();
        let last = contexts.narrow(1, context - 1, 1).flatten::<1>(0, 1);
        self.table.val().select(0, last)
    }

    fn forward_train(&self, contexts: Tensor<2, Int>) -> Tensor<2> {
        self.forward(contexts)
    }

    fn trainable_params(&self) -> usize {
        self.table.num_params()
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::TensorData;

    use super::*;

    #[test]
    fn the_logits_are_the_row_of_the_last_character() {
        let device = Device::flex();
        let mut bigram = Bigram::build(&BigramSettings {}, 3, &mut Rng::seed_from(0), &device);
        let table: Vec<f32> = (0..9).map(|i| i as f32).collect();
        bigram.table = Param::from_tensor(Tensor::from_data(TensorData::new(table, [3, 3]), &device));
        let contexts = Tensor::<2, Int>::from_data(TensorData::new(vec![0i64, 2, 1, 0], [2, 2]), &device);
        let logits: Vec<f32> = bigram.forward(contexts).into_data().try_to_vec().unwrap();
        // Last characters 2 and 0: rows [6, 7, 8] and [0, 1, 2].
        assert_eq!(logits, [6., 7., 8., 0., 1., 2.]);
        assert_eq!(bigram.trainable_params(), Bigram::count_params(&BigramSettings {}, 3));
    }
}
