//! `gru`: makemore.py's recurrent model with the GRU cell (`rnn` holds the rest: start
//! state, embedding, head, unrolling). From x_t and h_{t−1}:
//!
//!   r = σ(W_r [x, h]),  h̄ = tanh(W_h [x, r ⊙ h]),  z = σ(W_z [x, h]),  h_t = (1 − z) ⊙ h + z ⊙ h̄

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Device, Int, Tensor};

use super::rnn::{Recurrence, RecurrentSettings, joined};
use super::{LanguageModel, MAKEMORE_DEFAULTS};
use crate::dataset::Reading;
use crate::nn;
use crate::rng::Rng;
use crate::settings::{DefaultValue, Setting};

#[derive(Module, Debug)]
pub struct Gru {
    around: Recurrence,
    /// Each `[n_embd + n_embd2, n_embd2]`: the update gate, the reset gate, the candidate.
    update: Linear,
    reset: Linear,
    candidate: Linear,
}

impl LanguageModel for Gru {
    const SETTINGS: &'static [Setting] = Recurrence::SETTINGS;
    const DEFAULTS: &'static [(&'static str, DefaultValue)] = MAKEMORE_DEFAULTS;
    const READS: Reading = Reading::Items;
    type Settings = RecurrentSettings;

    fn context(settings: &RecurrentSettings) -> usize {
        settings.block_size
    }

    fn build(settings: &RecurrentSettings, vocab: usize, rng: &mut Rng, device: &Device) -> Self {
        let (around, cell) = Recurrence::build(settings, vocab, 3, rng, device);
        let [update, reset, candidate]: [Linear; 3] = cell.try_into().expect("three maps");
        Self {
            around,
            update,
            reset,
            candidate,
        }
    }

    fn count_params(settings: &RecurrentSettings, vocab: usize) -> usize {
        Recurrence::count_params(settings, vocab, 3)
    }

    fn item_logits(&self, inputs: Tensor<2, Int>) -> Option<Tensor<3>> {
        Some(self.around.unroll(inputs, |x, h| {
            let xh = joined(x.clone(), h.clone());
            let reset = nn::sigmoid(self.reset.forward(xh.clone()));
            let candidate = nn::tanh(self.candidate.forward(joined(x, reset * h.clone())));
            let update = nn::sigmoid(self.update.forward(xh));
            h.clone() + update * (candidate - h)
        }))
    }

    fn trainable_params(&self) -> usize {
        self.num_params()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_has_makemore_s_parameter_count() {
        // makemore.py --type gru on names.txt (vocab 27): 28,315 parameters.
        let settings = RecurrentSettings {
            n_embd: 64,
            n_embd2: 64,
            block_size: 16,
        };
        assert_eq!(Gru::count_params(&settings, 27), 28_315);
        let model = Gru::build(&settings, 27, &mut Rng::seed_from(1), &Device::flex());
        assert_eq!(model.trainable_params(), 28_315);
    }
}
