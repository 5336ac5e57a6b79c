//! Whole items as makemore.py's sequence models read them (`Reading::Items`): each item
//! once, as its start token and characters; a minibatch pads its items to the longest of
//! them and masks the padding. The lecture's windows are `Windows`, beside it.

use burn::tensor::{Device, Tensor, TensorData};

use super::{Batch, Vocabulary};

/// Whole items, as makemore.py's `CharDataset` makes them: the input is the boundary (as
/// start token) and the item's characters; the target after each is the next character, and
/// the boundary (as end token) after the last. A batch pads its items to the longest of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Items {
    /// Every item's inputs, concatenated: `0, c1, …, cn` (its targets are `c1, …, cn, 0`).
    tokens: Vec<u32>,
    /// Where each item's inputs start in `tokens`, and one more at the end.
    starts: Vec<usize>,
}

impl Items {
    pub(super) fn build(items: &[&str], vocab: &Vocabulary) -> Self {
        let mut tokens = Vec::new();
        let mut starts = vec![0];
        for item in items {
            tokens.push(Vocabulary::BOUNDARY);
            tokens.extend(
                item.chars()
                    .map(|c| vocab.encode(c).expect("vocabulary built from these items")),
            );
            starts.push(tokens.len());
        }
        Self { tokens, starts }
    }

    /// Items.
    pub fn len(&self) -> usize {
        self.starts.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Predicted tokens over all items: each item's characters and its end.
    pub fn targets(&self) -> usize {
        self.tokens.len()
    }

    /// The items at `indices`, in that order.
    pub(super) fn subset(&self, indices: &[usize]) -> Self {
        let mut tokens = Vec::new();
        let mut starts = vec![0];
        for &i in indices {
            tokens.extend_from_slice(self.inputs(i));
            starts.push(tokens.len());
        }
        Self { tokens, starts }
    }

    /// Item `index`'s inputs: the start token and its characters.
    fn inputs(&self, index: usize) -> &[u32] {
        &self.tokens[self.starts[index]..self.starts[index + 1]]
    }

    /// The items at `indices` padded to the longest of them (see `Batch::Items`).
    pub fn batch(&self, indices: impl ExactSizeIterator<Item = usize>, device: &Device) -> Batch {
        let indices: Vec<usize> = indices.collect();
        let (n, t) = (
            indices.len(),
            indices.iter().map(|&i| self.inputs(i).len()).max().unwrap_or(1),
        );
        let (mut inputs, mut targets, mut mask) = (vec![0i64; n * t], vec![0i64; n * t], vec![0f32; n * t]);
        for (row, &i) in indices.iter().enumerate() {
            let item = self.inputs(i);
            for (at, &id) in item.iter().enumerate() {
                inputs[row * t + at] = i64::from(id);
                // The next input, or the end token after the last.
                targets[row * t + at] = item.get(at + 1).map_or(0, |&next| i64::from(next));
                mask[row * t + at] = 1.0;
            }
        }
        Batch::Items {
            inputs: Tensor::from_data(TensorData::new(inputs, [n, t]), device),
            targets: Tensor::from_data(TensorData::new(targets, [n, t]), device),
            mask: Tensor::from_data(TensorData::new(mask, [n, t]), device),
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::Int;

    use super::*;
    use crate::dataset::{Dataset, Reading, Split};

    const TEN: &str = "emma\nolivia\nava\nisabella\nsophia\ncharlotte\nmia\namelia\nharper\nevelyn\n";

    fn dataset(text: &str) -> Dataset {
        Dataset::from_bytes(text.as_bytes()).unwrap()
    }

    #[test]
    fn items_are_read_as_makemore_reads_them_padded_to_the_longest_of_the_batch() {
        // makemore.py's CharDataset, "emma": x = [0, e, m, m, a], y = [e, m, m, a, 0];
        // "ava" in the same batch is padded, its targets after the end masked.
        let vocab = dataset(TEN).vocab().clone();
        let id = |c| i64::from(vocab.encode(c).unwrap());
        let (e, m, a, v) = (id('e'), id('m'), id('a'), id('v'));
        let sequences = Items::build(&["emma", "ava"], &vocab);
        assert_eq!((sequences.len(), sequences.targets()), (2, 9));
        let Batch::Items { inputs, targets, mask } = sequences.batch([1, 0].into_iter(), &Device::flex()) else {
            unreachable!("items make an item batch")
        };
        let ints = |t: Tensor<2, Int>| t.into_data().iter::<i64>().collect::<Vec<_>>();
        assert_eq!(ints(inputs), [0, a, v, a, 0, 0, e, m, m, a]);
        assert_eq!(ints(targets), [a, v, a, 0, 0, e, m, m, a, 0]);
        assert_eq!(
            mask.into_data().try_to_vec::<f32>().unwrap(),
            [1., 1., 1., 1., 0., 1., 1., 1., 1., 1.]
        );
    }

    /// A split's sample, windows or items: `n` of its examples, kept whole, the same for
    /// the same seed; the whole split for 0 or an `n` past its size.
    #[test]
    fn a_sample_of_a_split_is_n_of_its_examples_fixed_by_the_seed() {
        let data = dataset(TEN);
        for reading in [Reading::Windows, Reading::Items] {
            let train = data.split(1, reading, 4).train;
            // Each example as its tokens: a window's context and target, an item's inputs.
            let rows = |split: &Split| -> Vec<Vec<u32>> {
                match split {
                    Split::Windows(e) => (0..e.len()).map(|i| [e.context(i), &[e.target(i)]].concat()).collect(),
                    Split::Items(s) => (0..s.len()).map(|i| s.inputs(i).to_vec()).collect(),
                }
            };
            let sample = train.sample(3, 7);
            assert_eq!(sample.len(), 3);
            assert_eq!(sample, train.sample(3, 7));
            assert_ne!(sample, train.sample(3, 8));
            let all = rows(&train);
            assert!(rows(&sample).iter().all(|row| all.contains(row)), "{reading:?}");
            assert_eq!(train.sample(0, 7), train);
            assert_eq!(train.sample(train.len(), 7), train);
        }
    }
}
