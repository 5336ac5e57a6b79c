//! Generating items from a trained model: draw the next token from softmax(logits /
//! temperature) until the boundary token. A model that reads windows starts from an
//! all-boundary context and slides it; one that reads items starts from the start token and
//! reads the whole prefix (its last `block_size` tokens), as makemore.py samples.

use burn::tensor::activation::softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::dataset::{Reading, Vocabulary};
use crate::models::Network;
use crate::rng::Rng;

/// An item that has not ended after this many tokens is cut there.
pub const MAX_SAMPLE_TOKENS: usize = 256;

/// `count` items from `model` (in eval mode), all drawn in one batch; the model reads
/// `reading` with `block_size` characters of context.
pub fn sample(
    model: &Network,
    vocab: &Vocabulary,
    (reading, block_size): (Reading, usize),
    count: usize,
    temperature: f64,
    rng: &mut Rng,
    device: &Device,
) -> Vec<String> {
    let start = match reading {
        Reading::Windows => block_size,
        Reading::Items => 1,
    };
    let mut contexts = vec![vec![i64::from(Vocabulary::BOUNDARY); start]; count];
    let mut items: Vec<Vec<u32>> = vec![Vec::new(); count];
    let mut open: Vec<usize> = (0..count).collect();
    for _ in 0..MAX_SAMPLE_TOKENS {
        if open.is_empty() {
            break;
        }
        // Every open item has read as many tokens: one rectangle.
        let width = contexts[open[0]].len();
        let flat: Vec<i64> = open.iter().flat_map(|&i| contexts[i].iter().copied()).collect();
        let input = Tensor::<2, Int>::from_data(TensorData::new(flat, [open.len(), width]), device);
        let probs = softmax(model.forward(input) / temperature, 1);
        let probs: Vec<f32> = probs.into_data().try_to_vec().expect("softmax output is f32");
        let rows = probs.chunks_exact(vocab.size());
        let mut still_open = Vec::with_capacity(open.len());
        for (i, row) in open.iter().copied().zip(rows) {
            let next = rng.weighted_index(row) as u32;
            if next != Vocabulary::BOUNDARY {
                items[i].push(next);
                let context = &mut contexts[i];
                context.push(i64::from(next));
                if context.len() > block_size {
                    context.remove(0);
                }
                still_open.push(i);
            }
        }
        open = still_open;
    }
    items.iter().map(|ids| vocab.decode(ids)).collect()
}
