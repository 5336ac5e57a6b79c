//! Generating items from a trained model: start from an all-boundary context, draw the
//! next token from softmax(logits / temperature), slide, stop at the boundary token.

use burn::tensor::activation::softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::dataset::Vocabulary;
use crate::models::Network;
use crate::rng::Rng;

/// An item that has not ended after this many tokens is cut there.
pub const MAX_SAMPLE_TOKENS: usize = 256;

/// `count` items from `model` (in eval mode), all drawn in one batch.
pub fn sample(
    model: &Network,
    vocab: &Vocabulary,
    block_size: usize,
    count: usize,
    temperature: f64,
    rng: &mut Rng,
    device: &Device,
) -> Vec<String> {
    let mut contexts = vec![vec![i64::from(Vocabulary::BOUNDARY); block_size]; count];
    let mut items: Vec<Vec<u32>> = vec![Vec::new(); count];
    let mut open: Vec<usize> = (0..count).collect();
    for _ in 0..MAX_SAMPLE_TOKENS {
        if open.is_empty() {
            break;
        }
        let flat: Vec<i64> = open.iter().flat_map(|&i| contexts[i].iter().copied()).collect();
        let input = Tensor::<2, Int>::from_data(TensorData::new(flat, [open.len(), block_size]), device);
        let probs = softmax(model.forward(input) / temperature, 1);
        let probs: Vec<f32> = probs.into_data().try_to_vec().expect("softmax output is f32");
        let rows = probs.chunks_exact(vocab.size());
        let mut still_open = Vec::with_capacity(open.len());
        for (i, row) in open.iter().copied().zip(rows) {
            let next = rng.weighted_index(row) as u32;
            if next != Vocabulary::BOUNDARY {
                items[i].push(next);
                contexts[i].rotate_left(1);
                contexts[i][block_size - 1] = i64::from(next);
                still_open.push(i);
            }
        }
        open = still_open;
    }
    items.iter().map(|ids| vocab.decode(ids)).collect()
}
