//! Whole-split evaluation: the mean loss over every example of a split, with a model in
//! eval mode (after `valid()`, on a plain device), in chunks to bound memory.

use burn::tensor::Device;

use crate::dataset::Examples;
use crate::models::{Network, cross_entropy};

/// Examples per forward pass.
const EVAL_CHUNK: usize = 16_384;

pub fn split_loss(model: &Network, examples: &Examples, device: &Device) -> f64 {
    let mut total = 0.0;
    for start in (0..examples.len()).step_by(EVAL_CHUNK) {
        let end = (start + EVAL_CHUNK).min(examples.len());
        let (contexts, targets) = examples.batch(start..end, device);
        let mean: f32 = cross_entropy(model.forward(contexts), targets).into_scalar();
        total += f64::from(mean) * (end - start) as f64;
    }
    total / examples.len() as f64
}
