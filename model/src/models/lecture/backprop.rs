//! The training pass by hand: a forward pass that keeps what the backward pass needs (a
//! tape), the gradient of the mean cross-entropy for every parameter, derived layer by
//! layer as in the lecture series' Part 4 ("Becoming a backprop ninja"), and the SGD step.
//! Plain tensor ops, so it runs on every backend without an autodiff graph; the tests check
//! it against Burn's autodiff.

use burn::nn::{Embedding, Linear};
use burn::tensor::activation::log_softmax;
use burn::tensor::{IndexingUpdateOp, Int, Tensor};

use super::{Block, LectureNet};
use crate::models::mean_nll;
use crate::nn::batchnorm::NormTanhTape;
use crate::nn::sgd_step;

/// The gradient of the loss for each parameter of a `LectureNet`, shaped like it.
pub struct LectureGradients {
    embedding: Tensor<2>,
    blocks: Vec<BlockGradients>,
    head: LinearGradients,
}

struct BlockGradients {
    linear: LinearGradients,
    gamma: Tensor<1>,
    beta: Tensor<1>,
}

struct LinearGradients {
    weight: Tensor<2>,
    bias: Option<Tensor<1>>,
}

/// What a block's backward pass needs from its forward pass.
struct BlockTape {
    input_dims: [usize; 3],
    /// The linear layer's input, `[B·T', C']`.
    fused_rows: Tensor<2>,
    /// BatchNorm's and tanh's.
    norm_tanh: NormTanhTape,
}

/// What the model's backward pass needs from its forward pass.
pub(super) struct Tape {
    contexts: Tensor<2, Int>,
    blocks: Vec<BlockTape>,
    /// The head's input, `[B, n_hidden]`.
    hidden: Tensor<2>,
}

impl Block {
    /// `[B, T, C]` → `[B, T / group, n_hidden]` with batch statistics, and its tape.
    fn forward_train(&self, x: Tensor<3>) -> (Tensor<3>, BlockTape) {
        let input_dims = x.dims();
        let fused = self.fuse(x);
        let [b, t, c] = fused.dims();
        let fused_rows = fused.reshape([b * t, c]);
        let pre = fused_rows.clone().matmul(self.linear.weight.val());
        let [_, hidden] = pre.dims();
        let (out, norm_tanh) = self.norm.forward_train_tanh(pre.reshape([b, t, hidden]));
        let tape = BlockTape {
            input_dims,
            fused_rows,
            norm_tanh,
        };
        (out, tape)
    }

    /// The gradient of the block's input from that of its output, and the block's own.
    fn backward(&self, tape: BlockTape, d_out: Tensor<3>) -> (Tensor<3>, BlockGradients) {
        let (d_pre, gamma, beta) = self.norm.backward_tanh(tape.norm_tanh, d_out);
        let [b, t, hidden] = d_pre.dims();
        let (d_input, linear) = linear_backward(&self.linear, tape.fused_rows, d_pre.reshape([b * t, hidden]));
        (d_input.reshape(tape.input_dims), BlockGradients { linear, gamma, beta })
    }

    fn sgd_step(self, gradients: BlockGradients, lr: f64) -> Self {
        Self {
            group: self.group,
            linear: sgd_step_linear(self.linear, gradients.linear, lr),
            norm: self.norm.sgd_step(gradients.gamma, gradients.beta, lr),
        }
    }
}

impl LectureNet {
    /// Token ids `[B, block_size]` → logits `[B, vocab]`, normalising with batch statistics
    /// (which also moves the BatchNorm running statistics), and the tape for the backward pass.
    pub(super) fn forward_train(&self, contexts: Tensor<2, Int>) -> (Tensor<2>, Tape) {
        let [b, _] = contexts.dims();
        let mut x = self.embedding.forward(contexts.clone());
        let mut blocks = Vec::with_capacity(self.blocks.len());
        for block in &self.blocks {
            let (out, tape) = block.forward_train(x);
            blocks.push(tape);
            x = out;
        }
        let [_, _, width] = x.dims();
        let hidden = x.reshape([b, width]);
        let logits = self.head.forward(hidden.clone());
        let tape = Tape {
            contexts,
            blocks,
            hidden,
        };
        (logits, tape)
    }

    /// One training pass over a minibatch (`contexts [B, block_size]`, `targets [B]`): the
    /// mean cross-entropy `[1]` and its gradient for every parameter.
    pub fn loss_and_gradients(
        &self,
        contexts: Tensor<2, Int>,
        targets: Tensor<1, Int>,
    ) -> (Tensor<1>, LectureGradients) {
        let (logits, tape) = self.forward_train(contexts);
        let [b, vocab] = logits.dims();
        let log_probs = log_softmax(logits, 1);
        let loss = mean_nll(log_probs.clone(), targets.clone());
        // d loss / d logits = (softmax − one_hot(targets)) / B
        let d_logits = (log_probs.exp() - targets.one_hot::<2>(vocab).float()) / b as f64;
        let (d_hidden, head) = linear_backward(&self.head, tape.hidden, d_logits);
        let [_, width] = d_hidden.dims();
        let mut d_x = d_hidden.reshape([b, 1, width]);
        let mut blocks = Vec::with_capacity(self.blocks.len());
        for (block, block_tape) in self.blocks.iter().zip(tape.blocks).rev() {
            let (d_input, gradients) = block.backward(block_tape, d_x);
            blocks.push(gradients);
            d_x = d_input;
        }
        blocks.reverse();
        let gradients = LectureGradients {
            embedding: embedding_gradient(&self.embedding, tape.contexts, d_x),
            blocks,
            head,
        };
        (loss, gradients)
    }

    /// One SGD step: every parameter moves by −`lr` × its gradient.
    pub fn sgd_step(self, gradients: LectureGradients, lr: f64) -> Self {
        Self {
            embedding: Embedding {
                weight: sgd_step(self.embedding.weight, gradients.embedding, lr),
            },
            blocks: (self.blocks.into_iter().zip(gradients.blocks))
                .map(|(block, block_gradients)| block.sgd_step(block_gradients, lr))
                .collect(),
            head: sgd_step_linear(self.head, gradients.head, lr),
        }
    }
}

/// The embedding table's gradient `[vocab, C]`: each row gathers the gradients of the
/// positions `[B, T]` that looked it up (`d_out [B, T, C]`).
fn embedding_gradient(embedding: &Embedding, contexts: Tensor<2, Int>, d_out: Tensor<3>) -> Tensor<2> {
    let [b, t, c] = d_out.dims();
    let table = embedding.weight.val();
    Tensor::zeros(table.dims(), &table.device()).select_assign(
        0,
        contexts.reshape([b * t]),
        d_out.reshape([b * t, c]),
        IndexingUpdateOp::Add,
    )
}

/// y = x·W + b on rows: from `d_out [N, out]` and the layer's input `x [N, in]`, the
/// gradient of its input `[N, in]` and its own (dW = xᵀ·dy, db = Σ dy over rows).
fn linear_backward(linear: &Linear, input: Tensor<2>, d_out: Tensor<2>) -> (Tensor<2>, LinearGradients) {
    let [_, out] = d_out.dims();
    let bias = linear.bias.as_ref().map(|_| d_out.clone().sum_dim(0).reshape([out]));
    let weight = input.transpose().matmul(d_out.clone());
    let d_input = d_out.matmul(linear.weight.val().transpose());
    (d_input, LinearGradients { weight, bias })
}

fn sgd_step_linear(linear: Linear, gradients: LinearGradients, lr: f64) -> Linear {
    let bias = match (linear.bias, gradients.bias) {
        (Some(bias), Some(d_bias)) => Some(sgd_step(bias, d_bias, lr)),
        (bias, _) => bias,
    };
    Linear {
        weight: sgd_step(linear.weight, gradients.weight, lr),
        bias,
    }
}

#[cfg(test)]
mod tests {
    use burn::module::{Module, Param};
    use burn::tensor::{Device, TensorData};

    use super::*;
    use crate::models::cross_entropy;
    use crate::models::lecture::LectureShape;
    use crate::rng::Rng;

    const VOCAB: usize = 27;
    const BATCH: usize = 16;

    fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
        tensor.into_data().try_to_vec::<f32>().unwrap()
    }

    /// A random minibatch of `BATCH` examples, the same numbers on any device.
    fn batch(block_size: usize, device: &Device) -> (Tensor<2, Int>, Tensor<1, Int>) {
        let mut rng = Rng::seed_from(3);
        let mut ids = |n: usize| (0..n).map(|_| rng.below(VOCAB) as i64).collect::<Vec<_>>();
        let contexts = TensorData::new(ids(BATCH * block_size), [BATCH, block_size]);
        let targets = TensorData::new(ids(BATCH), [BATCH]);
        (Tensor::from_data(contexts, device), Tensor::from_data(targets, device))
    }

    /// Every parameter's gradient by name, in the model's order.
    fn by_hand(gradients: LectureGradients) -> Vec<(String, Vec<f32>)> {
        let mut all = vec![("embedding".to_string(), values(gradients.embedding))];
        for (i, block) in gradients.blocks.into_iter().enumerate() {
            all.push((format!("block {i} weight"), values(block.linear.weight)));
            all.push((format!("block {i} gamma"), values(block.gamma)));
            all.push((format!("block {i} beta"), values(block.beta)));
        }
        all.push(("head weight".to_string(), values(gradients.head.weight)));
        all.push(("head bias".to_string(), values(gradients.head.bias.unwrap())));
        all
    }

    /// The same list from Burn's autodiff.
    fn by_autodiff(model: &LectureNet, grads: &burn::tensor::Gradients) -> Vec<(String, Vec<f32>)> {
        fn grad<const D: usize>(param: &Param<Tensor<D>>, grads: &burn::tensor::Gradients) -> Vec<f32> {
            values(param.val().grad(grads).expect("a gradient for every parameter"))
        }
        let mut all = vec![("embedding".to_string(), grad(&model.embedding.weight, grads))];
        for (i, block) in model.blocks.iter().enumerate() {
            all.push((format!("block {i} weight"), grad(&block.linear.weight, grads)));
            all.push((format!("block {i} gamma"), grad(&block.norm.gamma, grads)));
            all.push((format!("block {i} beta"), grad(&block.norm.beta, grads)));
        }
        all.push(("head weight".to_string(), grad(&model.head.weight, grads)));
        all.push(("head bias".to_string(), grad(model.head.bias.as_ref().unwrap(), grads)));
        all
    }

    #[test]
    fn hand_derived_gradients_equal_autodiff_for_every_parameter() {
        let shape = |block_size, group, batchnorm_bug| LectureShape {
            n_embd: 6,
            n_hidden: 20,
            block_size,
            group,
            batchnorm_bug,
        };
        let variants = [
            ("mlp", shape(3, 3, false)),
            ("wavenet", shape(8, 2, false)),
            ("wavenet with the BatchNorm bug", shape(8, 2, true)),
        ];
        for (name, shape) in variants {
            let autodiff = Device::flex().autodiff();
            let model = LectureNet::new(&shape, VOCAB, &mut Rng::seed_from(11), &autodiff);
            let plain_model = model.valid();

            let (contexts, targets) = batch(shape.block_size, &autodiff);
            let (logits, _) = model.forward_train(contexts);
            let loss = cross_entropy(logits, targets);
            let expected = by_autodiff(&model, &loss.backward());

            let (contexts, targets) = batch(shape.block_size, &Device::flex());
            let (hand_loss, gradients) = plain_model.loss_and_gradients(contexts, targets);
            assert!((values(loss)[0] - values(hand_loss)[0]).abs() < 1e-6, "{name}: loss");
            for ((param, actual), (_, expected)) in by_hand(gradients).into_iter().zip(expected) {
                let scale = expected.iter().fold(0f32, |m, g| m.max(g.abs()));
                assert!(scale > 0.0, "{name}, {param}: a gradient of zeros tests nothing");
                assert_eq!(actual.len(), expected.len(), "{name}, {param}");
                for (a, e) in actual.iter().zip(&expected) {
                    assert!(
                        (a - e).abs() <= 1e-4 * scale,
                        "{name}, {param}: {a} vs {e} (scale {scale})"
                    );
                }
            }
        }
    }
}
