//! `wavenet-conv`: the WaveNet the lecture points to (van den Oord et al. 2016) — dilated
//! causal convolutions with gated activations, residual and skip connections:
//!
//!   Embedding (n_embd) → 1×1 conv to n_hidden channels →
//!   [ z = tanh(W_f ∗ x) ⊙ σ(W_g ∗ x) (kernel 2, dilation 1, 2, 4, …, block_size / 2);
//!     x ← x + 1×1(z);  skip += 1×1(z) (n_skip channels) ] × log2(block_size) × n_stacks →
//!   ReLU → 1×1 → ReLU → 1×1 to the vocabulary; with `dropout`, each z dropped out in training.
//!
//! One stack sees exactly `block_size` characters, so with one stack `block_size` stays the
//! context length; each further stack adds block_size − 1 (the receptive field R is
//! n_stacks · (block_size − 1) + 1). It reads windows of R + block_size characters and
//! computes every position in one pass; it trains on the next character of each of the last
//! block_size positions — those whose receptive field lies inside the window, so each sees as
//! much context as evaluation's (positions whose target is the padding before an item are
//! masked) — and evaluation reads the last position, the prediction every model makes.
//! A kernel-2 causal convolution is computed as one matrix product of each position with
//! the position `dilation` before it (zeros before the start), channels last: the same
//! function and parameter count as `Conv1d`, several times faster on the CPU.

use burn::module::Module;
use burn::nn::{Embedding, Linear};
use burn::tensor::activation::{log_softmax, relu};
use burn::tensor::{Device, Int, Tensor};
use serde::Deserialize;

use super::LanguageModel;
use super::shared::{BLOCK_SIZE, N_EMBD, N_HIDDEN};
use super::shared::{DROPOUT, check_dropout};
use crate::nn;
use crate::rng::Rng;
use crate::settings::ConfigError;
use crate::settings::{DefaultValue, Kind, Setting};

const N_SKIP: Setting = Setting::new(
    "n_skip",
    "Channels of the skip connections (wavenet-conv)",
    Kind::count(1),
    DefaultValue::Derived {
        from: "n_hidden",
        rule: |n_hidden| n_hidden,
        text: "n_hidden",
    },
);

const N_STACKS: Setting = Setting::new(
    "n_stacks",
    "Times the dilations 1, 2, …, block_size / 2 repeat (wavenet-conv)",
    Kind::count(1),
    DefaultValue::Count(1),
);

#[derive(Module, Debug)]
struct GatedLayer {
    dilation: usize,
    dropout: f64,
    /// The filter's and the gate's kernel-2 convolutions, side by side: `[2·H, 2·H]`
    /// (input: the position and the one `dilation` before; output: filter, then gate).
    filter_gate: Linear,
    /// The residual and skip 1×1 convolutions, side by side: `[H, H + S]`.
    residual_skip: Linear,
}

impl GatedLayer {
    /// `x [B, T, H]` → (the next layer's input, this layer's skip `[B, T, S]`).
    fn forward(&self, x: Tensor<3>) -> (Tensor<3>, Tensor<3>) {
        let [b, t, h] = x.dims();
        let d = self.dilation.min(t);
        let zeros = Tensor::zeros([b, d, h], &x.device());
        let before = Tensor::cat(vec![zeros, x.clone().narrow(1, 0, t - d)], 1);
        let both = self.filter_gate.forward(Tensor::cat(vec![x.clone(), before], 2));
        let z = nn::tanh(both.clone().narrow(2, 0, h)) * nn::sigmoid(both.narrow(2, h, h));
        let out = self.residual_skip.forward(nn::dropout(z, self.dropout));
        let [_, _, width] = out.dims();
        (x + out.clone().narrow(2, 0, h), out.narrow(2, h, width - h))
    }
}

#[derive(Module, Debug)]
pub struct WavenetConv {
    /// Positions of a window trained on: the last `block_size`.
    trained_positions: usize,
    /// Characters the last position sees (the rest of a window only serves training).
    receptive_field: usize,
    embedding: Embedding,
    input: Linear,
    layers: Vec<GatedLayer>,
    skip_out: Linear,
    head: Linear,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WavenetConvSettings {
    n_embd: usize,
    n_hidden: usize,
    block_size: usize,
    /// `None`: as many as `n_hidden`.
    #[serde(default)]
    n_skip: Option<usize>,
    n_stacks: usize,
    dropout: f64,
}

impl WavenetConvSettings {
    fn n_skip(&self) -> usize {
        self.n_skip.unwrap_or(self.n_hidden)
    }

    /// Characters the last position sees: one stack's block, and block − 1 more per stack.
    fn receptive_field(&self) -> usize {
        self.n_stacks * (self.block_size - 1) + 1
    }

    /// The dilation of each gated layer, in order.
    fn dilations(&self) -> Vec<usize> {
        let stack: Vec<usize> = (0..self.block_size.trailing_zeros()).map(|i| 1 << i).collect();
        stack.repeat(self.n_stacks)
    }
}

impl WavenetConv {
    /// Logits of every position: contexts `[B, T]` → `[B, T, vocab]`.
    fn every_position(&self, contexts: Tensor<2, Int>) -> Tensor<3> {
        let mut x = self.input.forward(self.embedding.forward(contexts));
        let mut skips: Option<Tensor<3>> = None;
        for layer in &self.layers {
            let (next, skip) = layer.forward(x);
            x = next;
            skips = Some(match skips {
                Some(sum) => sum + skip,
                None => skip,
            });
        }
        let skips = skips.expect("at least one layer");
        self.head.forward(relu(self.skip_out.forward(relu(skips))))
    }
}

impl LanguageModel for WavenetConv {
    const SETTINGS: &'static [Setting] = &[N_EMBD, N_HIDDEN, BLOCK_SIZE, N_SKIP, N_STACKS, DROPOUT];
    type Settings = WavenetConvSettings;

    /// The receptive field and block_size more: room for block_size positions that each see
    /// a whole one (twice the block for one stack).
    fn context(settings: &WavenetConvSettings) -> usize {
        settings.receptive_field() + settings.block_size
    }

    fn check(settings: &WavenetConvSettings) -> Result<(), ConfigError> {
        check_dropout(settings.dropout)?;
        super::power_of_two_block(
            settings.block_size,
            "wavenet-conv (dilations 1, 2, …, block_size / 2 see exactly that many characters)",
        )
    }

    fn build(settings: &WavenetConvSettings, vocab: usize, rng: &mut Rng, device: &Device) -> Self {
        let (hidden, skip) = (settings.n_hidden, settings.n_skip());
        let embedding = nn::embedding(rng, vocab, settings.n_embd, device);
        let input = nn::linear(rng, settings.n_embd, hidden, true, 1.0, device);
        let layers = settings
            .dilations()
            .into_iter()
            .map(|dilation| GatedLayer {
                dilation,
                dropout: settings.dropout,
                filter_gate: nn::linear(rng, 2 * hidden, 2 * hidden, true, 1.0, device),
                residual_skip: nn::linear(rng, hidden, hidden + skip, true, 1.0, device),
            })
            .collect();
        let skip_out = nn::linear(rng, skip, skip, true, 1.0, device);
        // Scaled down, as the lecture's last layer, so the first predictions are near uniform.
        let head = nn::linear(rng, skip, vocab, true, 0.1, device);
        Self {
            trained_positions: settings.block_size,
            receptive_field: settings.receptive_field(),
            embedding,
            input,
            layers,
            skip_out,
            head,
        }
    }

    fn count_params(settings: &WavenetConvSettings, vocab: usize) -> usize {
        let (embd, hidden, skip) = (settings.n_embd, settings.n_hidden, settings.n_skip());
        // Weights and biases: a kernel-k conv from a to b channels has a·b·k + b.
        let conv = |a: usize, b: usize, k: usize| a * b * k + b;
        let layer = 2 * conv(hidden, hidden, 2) + conv(hidden, hidden, 1) + conv(hidden, skip, 1);
        vocab * embd
            + conv(embd, hidden, 1)
            + settings.dilations().len() * layer
            + conv(skip, skip, 1)
            + conv(skip, vocab, 1)
    }

    /// The last position's logits, from the last `receptive_field` characters: all it sees,
    /// so evaluation computes half a one-stack window.
    fn forward(&self, contexts: Tensor<2, Int>) -> Tensor<2> {
        let [_, t] = contexts.dims();
        let seen = self.receptive_field.min(t);
        super::last_position(self.every_position(contexts.narrow(1, t - seen, seen)))
    }

    fn forward_train(&self, contexts: Tensor<2, Int>) -> Tensor<2> {
        self.forward(contexts)
    }

    /// The mean loss over the next character of each position whose receptive field lies in
    /// the window (the last `trained_positions`): position `t < T − 1` predicts the
    /// context's character `t + 1`, the last predicts `targets`; a position whose target is
    /// still the padding before the item (the context's leading boundary tokens, bar the
    /// last) is masked.
    fn train_loss(&self, contexts: Tensor<2, Int>, targets: Tensor<1, Int>) -> Tensor<1> {
        let [b, t] = contexts.dims();
        let device = contexts.device();
        let next = Tensor::cat(vec![contexts.clone().narrow(1, 1, t - 1), targets.reshape([b, 1])], 1);
        // Characters seen so far; a target at t + 1 before the first character is padding.
        let seen = contexts.clone().not_equal_elem(0).float().cumsum(1);
        let real = Tensor::cat(
            vec![
                seen.narrow(1, 1, t - 1).greater_elem(0.0).float(),
                Tensor::ones([b, 1], &device),
            ],
            1,
        );
        let first = t.saturating_sub(self.trained_positions);
        let full_view = Tensor::cat(
            vec![
                Tensor::zeros([b, first], &device),
                Tensor::ones([b, t - first], &device),
            ],
            1,
        );
        let real = real * full_view;
        let log_probs = log_softmax(self.every_position(contexts), 2);
        let nll = log_probs.gather(2, next.reshape([b, t, 1])).reshape([b, t]).neg();
        (nll * real.clone()).sum() / real.sum()
    }

    fn trainable_params(&self) -> usize {
        self.num_params()
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::TensorData;

    use super::*;

    fn settings(block_size: usize, n_stacks: usize) -> WavenetConvSettings {
        WavenetConvSettings {
            n_embd: 6,
            n_hidden: 8,
            block_size,
            n_skip: Some(5),
            n_stacks,
            dropout: 0.0,
        }
    }

    fn contexts(rows: &[&[i64]]) -> Tensor<2, Int> {
        let t = rows[0].len();
        let flat: Vec<i64> = rows.iter().flat_map(|r| r.iter().copied()).collect();
        Tensor::from_data(TensorData::new(flat, [rows.len(), t]), &Device::flex())
    }

    #[test]
    fn the_receptive_field_is_the_block_and_every_output_is_causal() {
        let s = settings(8, 1);
        assert_eq!(s.dilations(), [1, 2, 4]);
        assert_eq!(settings(8, 2).dilations(), [1, 2, 4, 1, 2, 4]);
        let model = WavenetConv::build(&s, 10, &mut Rng::seed_from(1), &Device::flex());
        let base = model.every_position(contexts(&[&[1, 2, 3, 4, 5, 6, 7, 8]]));
        // Changing character 3 changes positions 3.. only; changing the first changes the last.
        let changed = model.every_position(contexts(&[&[1, 2, 3, 9, 5, 6, 7, 8]]));
        let diff: Vec<f32> = (base.clone() - changed)
            .abs()
            .sum_dim(2)
            .into_data()
            .try_to_vec()
            .unwrap();
        assert!(diff[..3].iter().all(|d| *d == 0.0), "{diff:?}");
        assert!(diff[3..].iter().all(|d| *d > 0.0), "{diff:?}");
        let first = model.every_position(contexts(&[&[9, 2, 3, 4, 5, 6, 7, 8]]));
        let last: Vec<f32> = (base - first).abs().sum_dim(2).into_data().try_to_vec().unwrap();
        assert!(last[7] > 0.0, "the last position sees the whole block");
    }

    #[test]
    fn only_positions_that_see_a_whole_receptive_field_are_trained() {
        // Block 2 reads windows of 4: positions 2 and 3 see a whole field; 0 and 1 are cut off.
        let model = WavenetConv::build(&settings(2, 1), 6, &mut Rng::seed_from(3), &Device::flex());
        assert_eq!(WavenetConv::context(&settings(2, 1)), 4);
        let ctx = contexts(&[&[1, 2, 3, 4]]);
        let targets = Tensor::<1, Int>::from_data(TensorData::new(vec![5i64], [1]), &Device::flex());
        let loss: f32 = model.train_loss(ctx.clone(), targets).into_scalar();
        let log_probs = log_softmax(model.every_position(ctx), 2);
        let lp = |t: usize, c: usize| -> f32 { log_probs.clone().narrow(1, t, 1).narrow(2, c, 1).into_scalar() };
        let want = -(lp(2, 4) + lp(3, 5)) / 2.0;
        assert!((loss - want).abs() < 1e-6, "{loss} vs {want}");
    }

    #[test]
    fn with_two_stacks_the_last_position_sees_2_block_minus_1_and_each_trained_one_a_whole_field() {
        // Block 4, two stacks: dilations 1, 2, 1, 2; field 7; windows of 7 + 4 = 11.
        let s = settings(4, 2);
        assert_eq!((s.receptive_field(), WavenetConv::context(&s)), (7, 11));
        let model = WavenetConv::build(&s, 13, &mut Rng::seed_from(4), &Device::flex());
        let window: Vec<i64> = (1..=11).collect();
        let base = model.every_position(contexts(&[&window]));
        let change = |at: usize| {
            let mut other = window.clone();
            other[at] = 12;
            let diff: Vec<f32> = (base.clone() - model.every_position(contexts(&[&other])))
                .abs()
                .sum_dim(2)
                .into_data()
                .try_to_vec()
                .unwrap();
            diff
        };
        // Trained positions 7 to 10 see characters 1–7 … 4–10: the first character reaches
        // none of them, the fifth all, and position 10 sees back to character 4, not 3.
        assert!(change(0)[7..].iter().all(|d| *d == 0.0), "{:?}", change(0));
        assert!(change(4)[7..].iter().all(|d| *d > 0.0), "{:?}", change(4));
        assert_eq!((change(4)[10] > 0.0, change(3)[10] > 0.0), (true, false));
    }

    #[test]
    fn evaluation_reads_only_the_receptive_field_and_gives_the_whole_window_s_answer() {
        for s in [settings(8, 1), settings(4, 2)] {
            let model = WavenetConv::build(&s, 13, &mut Rng::seed_from(5), &Device::flex());
            let t = WavenetConv::context(&s);
            let rows: Vec<Vec<i64>> = (0..3)
                .map(|r| (0..t as i64).map(|i| (i * 5 + r) % 13).collect())
                .collect();
            let rows: Vec<&[i64]> = rows.iter().map(Vec::as_slice).collect();
            let whole = model
                .every_position(contexts(&rows))
                .narrow(1, t - 1, 1)
                .reshape([3, 13]);
            let diff: f32 = (model.forward(contexts(&rows)) - whole).abs().max().into_scalar();
            assert!(diff <= 1e-6, "{diff}");
        }
    }

    #[test]
    fn its_parameters_are_counted_without_building_it() {
        for s in [settings(8, 1), settings(16, 2)] {
            let model = WavenetConv::build(&s, 27, &mut Rng::seed_from(1), &Device::flex());
            assert_eq!(model.trainable_params(), WavenetConv::count_params(&s, 27));
        }
    }

    #[test]
    fn padding_targets_are_masked_and_real_ones_are_not() {
        // Block 4: the item "ab" gives the windows [0,0,0,0]→a, [0,0,0,a]→b, [0,0,a,b]→0.
        let model = WavenetConv::build(&settings(4, 1), 5, &mut Rng::seed_from(2), &Device::flex());
        let ctx = contexts(&[&[0, 0, 0, 3]]);
        let targets = Tensor::<1, Int>::from_data(TensorData::new(vec![4i64], [1]), &Device::flex());
        let loss: f32 = model.train_loss(ctx.clone(), targets).into_scalar();
        // Real: position 2 (boundary → 3) and position 3 (3 → 4); 0 → 0 at 0 and 1 is padding.
        let log_probs = log_softmax(model.every_position(ctx), 2);
        let lp = |t: usize, c: usize| -> f32 { log_probs.clone().narrow(1, t, 1).narrow(2, c, 1).into_scalar() };
        let want = -(lp(2, 3) + lp(3, 4)) / 2.0;
        assert!((loss - want).abs() < 1e-6, "{loss} vs {want}");
    }
}
