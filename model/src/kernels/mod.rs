//! What the CPU path is built from, below the layers of `nn`: the vector-width dispatch every
//! loop goes through (`simd`), the bridge that enters our own operations on flex's autodiff
//! tape (`flex_ops`), the thread pool a run computes on (`threads`), and the element-wise loops
//! themselves (`activations`: tanh, the sigmoid and exp; `norm_tanh`: BatchNorm fused with tanh).

pub(crate) mod activations;
pub(crate) mod flex_ops;
pub(crate) mod norm_tanh;
pub mod simd;
pub mod threads;
