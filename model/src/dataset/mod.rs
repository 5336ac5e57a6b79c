//! Text → training examples: any UTF-8 file with one item per line becomes a vocabulary,
//! a seeded 80/10/10 split by items, and either (context, next-token) examples exactly as in
//! the lecture or whole items as makemore.py's sequence models read them (`Reading`).
//! Reading files and finding them is the caller's job; this module sees bytes.

use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::rng::Rng;

mod items;

pub use items::Items;

/// Fewer items than this cannot make three non-empty splits worth training on.
pub const MIN_ITEMS: usize = 10;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DataError {
    #[error(
        "the file looks binary: it has a NUL byte at offset {offset}; a dataset is a text file with one item per line"
    )]
    Binary { offset: usize },
    #[error(
        "the file is not UTF-8 text (invalid byte at offset {offset}); a dataset is a text file with one item per line"
    )]
    NotUtf8 { offset: usize },
    #[error("the file has no items: every line is empty")]
    Empty,
    #[error("the file has {found} items; at least {MIN_ITEMS} are needed to split it 80/10/10")]
    TooFew { found: usize },
}

/// Characters ↔ token ids. Id 0 is the boundary token (shown as `.`) that starts and ends
/// every item; data characters get ids 1.. in sorted order. A `.` inside the data is an
/// ordinary character with its own id, so it never collides with the boundary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vocabulary {
    chars: Vec<char>,
}

impl Vocabulary {
    pub const BOUNDARY: u32 = 0;

    fn from_items(items: &[String]) -> Self {
        let mut chars: Vec<char> = items.iter().flat_map(|item| item.chars()).collect();
        chars.sort_unstable();
        chars.dedup();
        Self { chars }
    }

    /// Number of token ids, the boundary included.
    pub fn size(&self) -> usize {
        self.chars.len() + 1
    }

    /// The data characters in id order (id = position + 1).
    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    pub fn encode(&self, c: char) -> Option<u32> {
        self.chars.binary_search(&c).ok().map(|i| i as u32 + 1)
    }

    /// Text of the given ids; the boundary token is not text and is skipped.
    pub fn decode(&self, ids: &[u32]) -> String {
        ids.iter()
            .filter(|&&id| id != Self::BOUNDARY)
            .map(|&id| self.chars[id as usize - 1])
            .collect()
    }
}

/// A text dataset: its items in file order and their vocabulary.
#[derive(Clone, Debug)]
pub struct Dataset {
    items: Vec<String>,
    vocab: Vocabulary,
    /// Characters in the longest item, counted once: a sweep checks it for every run.
    longest_item: usize,
}

impl Dataset {
    /// Parses file contents: lines trimmed, empty lines dropped.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DataError> {
        if let Some(offset) = bytes.iter().position(|&b| b == 0) {
            return Err(DataError::Binary { offset });
        }
        let text = std::str::from_utf8(bytes).map_err(|e| DataError::NotUtf8 {
            offset: e.valid_up_to(),
        })?;
        let items: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(String::from)
            .collect();
        match items.len() {
            0 => Err(DataError::Empty),
            found if found < MIN_ITEMS => Err(DataError::TooFew { found }),
            _ => Ok(Self {
                vocab: Vocabulary::from_items(&items),
                longest_item: items.iter().map(|item| item.chars().count()).max().unwrap_or(0),
                items,
            }),
        }
    }

    pub fn items(&self) -> &[String] {
        &self.items
    }

    pub fn vocab(&self) -> &Vocabulary {
        &self.vocab
    }

    /// Shuffles the items with `seed` and cuts them 80/10/10 as the lecture does
    /// (`n1 = int(0.8 n)`, `n2 = int(0.9 n)`), then builds each split's examples as a model
    /// that reads `reading` with `block_size` characters of context takes them.
    pub fn split(&self, seed: u64, reading: Reading, block_size: usize) -> Splits {
        let [train, val, test] = self.split_items(seed);
        let examples = |part: &[&str]| match reading {
            Reading::Windows => Split::Windows(Windows::build(part, &self.vocab, block_size)),
            Reading::Items => Split::Items(Items::build(part, &self.vocab)),
        };
        Splits {
            train: examples(&train),
            val: examples(&val),
            test: examples(&test),
        }
    }

    /// Characters in the longest item.
    pub fn longest_item(&self) -> usize {
        self.longest_item
    }

    /// The items of the train, val and test parts: shuffled with `seed`, cut 80/10/10.
    pub fn split_items(&self, seed: u64) -> [Vec<&str>; 3] {
        let mut items: Vec<&str> = self.items.iter().map(String::as_str).collect();
        Rng::seed_from(seed).shuffle(&mut items);
        let n1 = items.len() * 8 / 10;
        let n2 = items.len() * 9 / 10;
        let test = items.split_off(n2);
        let val = items.split_off(n1);
        [items, val, test]
    }
}

/// What one training example of a model is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    /// A window of `block_size` characters and the one after it (the lecture's models).
    Windows,
    /// A whole item: the boundary token as start, then its characters, each position
    /// predicting the next character and the last the boundary (makemore.py's sequence
    /// models).
    Items,
}

pub struct Splits {
    pub train: Split,
    pub val: Split,
    pub test: Split,
}

/// One split's examples, as the model reads them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Split {
    Windows(Windows),
    Items(Items),
}

/// A minibatch, as the model reads it.
// One batch at a time: the size of the larger variant costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Batch {
    /// Contexts `[B, block_size]` and the next token of each, `[B]`.
    Windows {
        contexts: Tensor<2, Int>,
        targets: Tensor<1, Int>,
    },
    /// Items `[B, T]` (start token, characters, then padding), the next token after each
    /// position `[B, T]` (0 after the end), and 1 where that target is real, else 0 `[B, T]`.
    Items {
        inputs: Tensor<2, Int>,
        targets: Tensor<2, Int>,
        mask: Tensor<2>,
    },
}

impl Split {
    /// Windows a minibatch draws from: windows, or items.
    pub fn len(&self) -> usize {
        match self {
            Self::Windows(examples) => examples.len(),
            Self::Items(sequences) => sequences.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `n` of its examples, the same ones for the same `seed`, in their order here; all of
    /// them when `n` is 0 or at least their number.
    pub fn sample(&self, n: usize, seed: u64) -> Split {
        if n == 0 || n >= self.len() {
            return self.clone();
        }
        let mut indices: Vec<usize> = (0..self.len()).collect();
        Rng::seed_from(seed).shuffle(&mut indices);
        indices.truncate(n);
        indices.sort_unstable();
        match self {
            Self::Windows(examples) => Self::Windows(examples.subset(&indices)),
            Self::Items(sequences) => Self::Items(sequences.subset(&indices)),
        }
    }

    /// The examples at `indices` as a minibatch on `device`.
    pub fn batch(&self, indices: impl ExactSizeIterator<Item = usize>, device: &Device) -> Batch {
        match self {
            Self::Windows(examples) => {
                let (contexts, targets) = examples.batch(indices, device);
                Batch::Windows { contexts, targets }
            }
            Self::Items(sequences) => sequences.batch(indices, device),
        }
    }
}

/// (context, target) pairs: for each item, the context starts as `block_size` boundary
/// tokens and slides over `item + boundary`, predicting each next token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Windows {
    block_size: usize,
    /// `len × block_size` token ids, row-major.
    contexts: Vec<u32>,
    targets: Vec<u32>,
}

impl Windows {
    fn build(items: &[&str], vocab: &Vocabulary, block_size: usize) -> Self {
        let mut contexts = Vec::new();
        let mut targets = Vec::new();
        for item in items {
            let mut context = vec![Vocabulary::BOUNDARY; block_size];
            let ids = item
                .chars()
                .map(|c| vocab.encode(c).expect("vocabulary built from these items"));
            for id in ids.chain([Vocabulary::BOUNDARY]) {
                contexts.extend_from_slice(&context);
                targets.push(id);
                context.rotate_left(1);
                if let Some(last) = context.last_mut() {
                    *last = id;
                }
            }
        }
        Self {
            block_size,
            contexts,
            targets,
        }
    }

    pub fn len(&self) -> usize {
        self.targets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// The examples at `indices`, in that order.
    fn subset(&self, indices: &[usize]) -> Self {
        Self {
            block_size: self.block_size,
            contexts: indices.iter().flat_map(|&i| self.context(i)).copied().collect(),
            targets: indices.iter().map(|&i| self.targets[i]).collect(),
        }
    }

    pub fn context(&self, index: usize) -> &[u32] {
        &self.contexts[index * self.block_size..(index + 1) * self.block_size]
    }

    pub fn target(&self, index: usize) -> u32 {
        self.targets[index]
    }

    /// The examples at `indices` as tensors: contexts `[n, block_size]`, targets `[n]`.
    pub fn batch(
        &self,
        indices: impl ExactSizeIterator<Item = usize>,
        device: &Device,
    ) -> (Tensor<2, Int>, Tensor<1, Int>) {
        let n = indices.len();
        let mut contexts = Vec::with_capacity(n * self.block_size);
        let mut targets = Vec::with_capacity(n);
        for i in indices {
            contexts.extend(self.context(i).iter().map(|&id| i64::from(id)));
            targets.push(i64::from(self.targets[i]));
        }
        (
            Tensor::from_data(TensorData::new(contexts, [n, self.block_size]), device),
            Tensor::from_data(TensorData::new(targets, [n]), device),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(text: &str) -> Dataset {
        Dataset::from_bytes(text.as_bytes()).unwrap()
    }

    const TEN: &str = "emma\nolivia\nava\nisabella\nsophia\ncharlotte\nmia\namelia\nharper\nevelyn\n";

    #[test]
    fn lines_are_trimmed_and_empty_lines_dropped() {
        let data = dataset(&format!("  emma \n\n\r\n{}", TEN.replacen("emma\n", "", 1)));
        assert_eq!(data.items().len(), 10);
        assert_eq!(data.items()[0], "emma");
    }

    #[test]
    fn vocabulary_is_sorted_with_boundary_first() {
        let data = dataset(TEN);
        let vocab = data.vocab();
        assert_eq!(vocab.chars()[0], 'a');
        assert_eq!(vocab.encode('a'), Some(1));
        assert_eq!(vocab.size(), vocab.chars().len() + 1);
        assert_eq!(vocab.decode(&[0, 1, 0]), "a");
    }

    #[test]
    fn a_dot_in_the_data_gets_its_own_id() {
        let data = dataset(&TEN.replace("mia", "m.a"));
        let dot = data.vocab().encode('.').unwrap();
        assert_ne!(dot, Vocabulary::BOUNDARY);
        assert_eq!(data.vocab().decode(&[dot, 0]), ".");
    }

    #[test]
    fn examples_slide_over_the_item_as_in_the_lecture() {
        // The lecture, block_size 3, "emma": ... -> e, ..e -> m, .em -> m, emm -> a, mma -> .
        let vocab = dataset(TEN).vocab().clone();
        let ex = Windows::build(&["emma"], &vocab, 3);
        let id = |c| vocab.encode(c).unwrap();
        let (e, m, a) = (id('e'), id('m'), id('a'));
        assert_eq!(ex.len(), 5);
        let rows: Vec<(&[u32], u32)> = (0..5).map(|i| (ex.context(i), ex.target(i))).collect();
        assert_eq!(
            rows,
            vec![
                (&[0, 0, 0][..], e),
                (&[0, 0, e][..], m),
                (&[0, e, m][..], m),
                (&[e, m, m][..], a),
                (&[m, m, a][..], 0),
            ]
        );
    }

    #[test]
    fn split_is_80_10_10_by_items_and_seeded() {
        let text: String = (0..100)
            .map(|i| format!("w{}\n", "abcdefghij".repeat(1 + i % 3)))
            .collect();
        let data = dataset(&text);
        let a = data.split(42, Reading::Windows, 3);
        let b = data.split(42, Reading::Windows, 3);
        let c = data.split(43, Reading::Windows, 3);
        assert_eq!(a.train, b.train);
        assert_ne!(a.train, c.train);
        let total: usize = data.items().iter().map(|w| w.chars().count() + 1).sum();
        // Read as items, the same split: its items predict the same number of tokens.
        let items = data.split(42, Reading::Items, 3);
        let predicted = |split: &Split| match split {
            Split::Items(sequences) => sequences.targets(),
            Split::Windows(_) => unreachable!("read as items"),
        };
        assert_eq!(
            (items.train.len(), predicted(&items.train)),
            (80, a.train.len()),
            "80 items; as many targets as windows"
        );
        assert_eq!(a.train.len() + a.val.len() + a.test.len(), total);
        // Items have 12, 22 or 32 examples each: 80 of them in train, 10 in val and in test.
        assert!((10 * 12..=10 * 32).contains(&a.val.len()));
        assert!((10 * 12..=10 * 32).contains(&a.test.len()));
        assert!(a.train.len() >= 80 * 12);
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        assert_eq!(
            Dataset::from_bytes(b"a\0b").unwrap_err(),
            DataError::Binary { offset: 1 }
        );
        assert_eq!(
            Dataset::from_bytes(b"ab\xff\n").unwrap_err(),
            DataError::NotUtf8 { offset: 2 }
        );
        assert_eq!(Dataset::from_bytes(b"\n \n").unwrap_err(), DataError::Empty);
        assert_eq!(
            Dataset::from_bytes(b"a\nb\nc").unwrap_err(),
            DataError::TooFew { found: 3 }
        );
    }
}
