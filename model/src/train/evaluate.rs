//! Whole-split evaluation: the mean loss over every predicted token of a split (each
//! character of each item, and each item's end), with a model in eval mode (after `valid()`,
//! on a plain device), in chunks to bound memory — over windows or whole items, as the
//! model reads them.

use burn::tensor::Device;

use crate::backend::is_pure_rust_cpu;
use crate::dataset::{Batch, Items, Split, Windows};
use crate::models::{Network, cross_entropy, masked_nll_sum};

/// Windows per forward pass on a pure-Rust CPU backend: a chunk's activations stay in the
/// caches (at 16,384 the lecture model's validation pass took twice as long).
const CPU_WINDOWS: usize = 512;
/// Windows per forward pass elsewhere (a GPU wants large launches).
const WINDOWS: usize = 16_384;
/// Items per forward pass.
const ITEM_CHUNK: usize = 1_024;

pub fn split_loss(model: &Network, split: &Split, device: &Device) -> f64 {
    match split {
        Split::Windows(examples) => windows_loss(model, examples, device),
        Split::Items(sequences) => items_loss(model, sequences, device),
    }
}

fn windows_loss(model: &Network, examples: &Windows, device: &Device) -> f64 {
    let chunk = if is_pure_rust_cpu(device) { CPU_WINDOWS } else { WINDOWS };
    let mut total = 0.0;
    for start in (0..examples.len()).step_by(chunk) {
        let end = (start + chunk).min(examples.len());
        let (contexts, targets) = examples.batch(start..end, device);
        let mean: f32 = cross_entropy(model.forward(contexts), targets).into_scalar();
        total += f64::from(mean) * (end - start) as f64;
    }
    total / examples.len() as f64
}

fn items_loss(model: &Network, sequences: &Items, device: &Device) -> f64 {
    let mut total = 0.0;
    for start in (0..sequences.len()).step_by(ITEM_CHUNK) {
        let end = (start + ITEM_CHUNK).min(sequences.len());
        let Batch::Items { inputs, targets, mask } = sequences.batch(start..end, device) else {
            unreachable!("items make an item batch")
        };
        let sum: f32 = masked_nll_sum(model.item_logits(inputs), targets, mask).into_scalar();
        total += f64::from(sum);
    }
    total / sequences.targets() as f64
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Int, Tensor, TensorData};

    use super::*;
    use crate::config::TrainConfig;
    use crate::dataset::{Dataset, Reading};
    use crate::rng::Rng;

    /// Over items, the loss is the same per-character quantity as over windows: the mean,
    /// over every character and every end, of −log p(next | all before it) — here computed
    /// one prefix at a time through `forward`, padding and masks nowhere near it.
    #[test]
    fn a_split_of_items_scores_every_character_and_end_once_given_its_whole_prefix() {
        let data = Dataset::from_bytes(b"emma\nolivia\nava\nisabella\nsophia\nmia\namelia\nharper\nevelyn\nbo\nzoe\n")
            .unwrap();
        let values = serde_json::json!({"model": "gru", "n_embd": 5, "n_embd2": 7});
        let config = TrainConfig::from_settings(values.as_object().unwrap()).unwrap();
        let device = Device::flex();
        let model = Network::new(
            config.model,
            &config.net,
            data.vocab().size(),
            &mut Rng::seed_from(3),
            &device,
        )
        .unwrap();
        let split = data.split(1, Reading::Items, config.context()).train;
        let [train, _, _] = data.split_items(1);
        let (mut total, mut count) = (0.0f64, 0usize);
        for item in train {
            let ids: Vec<i64> = item
                .chars()
                .map(|c| i64::from(data.vocab().encode(c).unwrap()))
                .collect();
            for at in 0..=ids.len() {
                let prefix: Vec<i64> = std::iter::once(0).chain(ids[..at].iter().copied()).collect();
                let target = ids.get(at).copied().unwrap_or(0);
                let n = prefix.len();
                let logits = model.forward(Tensor::<2, Int>::from_data(TensorData::new(prefix, [1, n]), &device));
                let target = Tensor::<1, Int>::from_data(TensorData::new(vec![target], [1]), &device);
                total += f64::from(cross_entropy(logits, target).into_scalar::<f32>());
                count += 1;
            }
        }
        let want = total / count as f64;
        let got = split_loss(&model, &split, &device);
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }
}
