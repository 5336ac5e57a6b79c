//! `rnn`: makemore.py's recurrent model with the Elman cell. Each item is read from a
//! learned start state, one character at a time:
//!
//!   h_t = tanh(W [x_t, h_{t−1}] + b),   x_t = Embedding(token_t) (n_embd),  h (n_embd2)
//!
//! and a linear head turns every h_t into the logits of the next character. `gru` shares the
//! unrolling (`unroll`) and changes the cell. It reads whole items (see `dataset::Reading`).

use burn::module::{Module, Param};
use burn::nn::{Embedding, Linear};
use burn::tensor::{Device, Int, Tensor};
use serde::Deserialize;

use super::shared::{BLOCK_SIZE, N_EMBD};
use super::{LanguageModel, MAKEMORE_DEFAULTS};
use crate::dataset::Reading;
use crate::nn;
use crate::rng::Rng;
use crate::settings::{DefaultValue, Kind, Setting};

pub const N_EMBD2: Setting = Setting::new(
    "n_embd2",
    "Size of the hidden state",
    Kind::count(1),
    DefaultValue::Count(64),
);

/// The settings of makemore.py's recurrent models.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecurrentSettings {
    pub n_embd: usize,
    pub n_embd2: usize,
    pub block_size: usize,
}

/// What every recurrent model has around its cell: the start state, the input embedding
/// and the head.
#[derive(Module, Debug)]
pub struct Recurrence {
    /// `[1, n_embd2]`, zeros at first (makemore.py's `start`).
    start: Param<Tensor<2>>,
    embedding: Embedding,
    head: Linear,
}

impl Recurrence {
    /// Settings of every recurrent model.
    pub const SETTINGS: &'static [Setting] = &[N_EMBD, N_EMBD2, BLOCK_SIZE];

    /// Built in makemore.py's order: start, embedding, the cell's `maps` linear maps of
    /// `[x, h]` to the state size (returned beside), then the head.
    pub fn build(
        settings: &RecurrentSettings,
        vocab: usize,
        maps: usize,
        rng: &mut Rng,
        device: &Device,
    ) -> (Self, Vec<Linear>) {
        let (n_in, n_state) = (settings.n_embd + settings.n_embd2, settings.n_embd2);
        let start = Param::from_tensor(Tensor::zeros([1, n_state], device));
        let embedding = nn::embedding(rng, vocab, settings.n_embd, device);
        let cell = (0..maps)
            .map(|_| nn::torch_linear(rng, n_in, n_state, true, device))
            .collect();
        let head = nn::torch_linear(rng, n_state, vocab, true, device);
        (Self { start, embedding, head }, cell)
    }

    /// Parameters of a recurrent model whose cell has `maps` linear maps.
    pub fn count_params(settings: &RecurrentSettings, vocab: usize, maps: usize) -> usize {
        let (n_in, n_state) = (settings.n_embd + settings.n_embd2, settings.n_embd2);
        n_state + vocab * settings.n_embd + maps * (n_in * n_state + n_state) + n_state * vocab + vocab
    }

    /// The cell `step(x_t [B, n_embd], h [B, n_embd2]) → h'` run over `inputs [B, T]` from
    /// the start state; the logits after every position, `[B, T, vocab]`.
    pub fn unroll(&self, inputs: Tensor<2, Int>, step: impl Fn(Tensor<2>, Tensor<2>) -> Tensor<2>) -> Tensor<3> {
        let [b, t] = inputs.dims();
        let embedded = self.embedding.forward(inputs);
        let [_, _, e] = embedded.dims();
        let [_, h] = self.start.dims();
        let mut state = self.start.val().expand([b, h]);
        let mut states = Vec::with_capacity(t);
        for at in 0..t {
            let x = embedded.clone().narrow(1, at, 1).reshape([b, e]);
            state = step(x, state);
            states.push(state.clone().reshape([b, 1, h]));
        }
        self.head.forward(Tensor::cat(states, 1))
    }
}

/// `[x, h]` side by side, `[B, n_embd + n_embd2]`: what every cell's linear maps read.
pub fn joined(x: Tensor<2>, h: Tensor<2>) -> Tensor<2> {
    Tensor::cat(vec![x, h], 1)
}

#[derive(Module, Debug)]
pub struct Rnn {
    around: Recurrence,
    /// `[n_embd + n_embd2, n_embd2]`.
    cell: Linear,
}

impl LanguageModel for Rnn {
    const SETTINGS: &'static [Setting] = Recurrence::SETTINGS;
    const DEFAULTS: &'static [(&'static str, DefaultValue)] = MAKEMORE_DEFAULTS;
    const READS: Reading = Reading::Items;
    type Settings = RecurrentSettings;

    fn context(settings: &RecurrentSettings) -> usize {
        settings.block_size
    }

    fn build(settings: &RecurrentSettings, vocab: usize, rng: &mut Rng, device: &Device) -> Self {
        let (around, mut cell) = Recurrence::build(settings, vocab, 1, rng, device);
        Self {
            around,
            cell: cell.remove(0),
        }
    }

    fn count_params(settings: &RecurrentSettings, vocab: usize) -> usize {
        Recurrence::count_params(settings, vocab, 1)
    }

    fn item_logits(&self, inputs: Tensor<2, Int>) -> Option<Tensor<3>> {
        Some(
            self.around
                .unroll(inputs, |x, h| nn::tanh(self.cell.forward(joined(x, h)))),
        )
    }

    fn trainable_params(&self) -> usize {
        self.num_params()
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::TensorData;

    use super::*;

    fn settings() -> RecurrentSettings {
        RecurrentSettings {
            n_embd: 64,
            n_embd2: 64,
            block_size: 16,
        }
    }

    #[test]
    fn it_has_makemore_s_parameter_count_and_sees_only_the_past() {
        // makemore.py --type rnn on names.txt (vocab 27): 11,803 parameters.
        assert_eq!(Rnn::count_params(&settings(), 27), 11_803);
        let device = Device::flex();
        let model = Rnn::build(&settings(), 27, &mut Rng::seed_from(1), &device);
        assert_eq!(model.trainable_params(), 11_803);
        let input = |row: Vec<i64>| Tensor::<2, Int>::from_data(TensorData::new(row, [1, 4]), &device);
        let a = model.item_logits(input(vec![0, 1, 2, 3])).unwrap();
        let b = model.item_logits(input(vec![0, 1, 9, 3])).unwrap();
        let diff: Vec<f32> = (a - b).abs().sum_dim(2).into_data().try_to_vec().unwrap();
        assert!(
            diff[..2].iter().all(|d| *d == 0.0) && diff[2..].iter().all(|d| *d > 0.0),
            "{diff:?}"
        );
    }
}
