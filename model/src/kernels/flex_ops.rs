//! Our own operations on the flex backend's tensors, where Burn's composition of tensor ops
//! costs more than the arithmetic: `Flexed` opens a `Tensor` to flex's `FlexTensor` (plain, or
//! on the autodiff tape in training), and `Flexed::record` enters an output on the tape with
//! the backward pass the operation defines (burn-autodiff's `Backward`). Used by
//! `nn::pointwise` and `attention`; other backends keep Burn's ops.

use burn::tensor::{DType, Device, Tensor, TensorData};
use burn_autodiff::Autodiff;
use burn_autodiff::checkpoint::strategy::NoCheckpointing;
use burn_autodiff::ops::{Backward, OpsKind};
use burn_backend::tensor::FloatTensor;

pub(crate) use burn_autodiff::checkpoint::base::Checkpointer;
pub(crate) use burn_autodiff::grads::Gradients;
pub(crate) use burn_autodiff::ops::Ops;
pub(crate) use burn_flex::{Flex, FlexTensor};

/// A tensor on flex's autodiff tape.
pub(crate) type Tracked = FloatTensor<Autodiff<Flex>>;

/// An f32 tensor of the flex backend, opened: plain (evaluation, sampling) or tracked by autodiff.
pub(crate) enum Flexed {
    Plain(FlexTensor),
    Tracked(Tracked),
}

impl Flexed {
    /// `x` opened; `opens(&x)` must hold (an f32 tensor on flex opens as flex's).
    pub(crate) fn open<const D: usize>(x: Tensor<D>) -> Self {
        debug_assert!(Self::opens(&x), "only f32 tensors on flex open");
        let opened = if x.device().is_autodiff() {
            x.try_into_primitive::<Autodiff<Flex>>().map(Self::Tracked)
        } else {
            x.try_into_primitive::<Flex>().map(Self::Plain)
        };
        opened.unwrap_or_else(|err| unreachable!("an f32 tensor on flex opens as flex's: {err:?}"))
    }

    /// Whether `open` opens `x`: f32, on the flex backend.
    pub(crate) fn opens<const D: usize>(x: &Tensor<D>) -> bool {
        x.dtype() == DType::F32 && x.device() == Device::flex()
    }

    /// The values, on the tape or not.
    pub(crate) fn values(&self) -> &FlexTensor {
        match self {
            Self::Plain(tensor) => tensor,
            Self::Tracked(tensor) => tensor.primitive(),
        }
    }

    /// `output`, computed from `inputs` (all plain or all tracked) by the operation `op`, as a
    /// tensor: on the tape, with `state` for `op`'s backward pass, where an input is tracked.
    pub(crate) fn record<O, const N: usize, const D: usize>(
        op: O,
        inputs: [&Self; N],
        state: impl FnOnce() -> O::State,
        output: FlexTensor,
    ) -> Tensor<D>
    where
        O: Backward<Flex, N>,
    {
        if inputs.iter().any(|input| matches!(input, Self::Plain(_))) {
            return Tensor::from_primitive::<Flex>(output);
        }
        let nodes = inputs.map(|input| match input {
            Self::Tracked(tensor) => tensor.node(),
            Self::Plain(_) => unreachable!("checked above: every input is tracked"),
        });
        let output = match op.prepare::<NoCheckpointing>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => prep.finish(state(), output),
            OpsKind::UnTracked(prep) => prep.finish(output),
        };
        Tensor::from_primitive::<Autodiff<Flex>>(output)
    }
}

/// A contiguous flex tensor's f32 values (copied to a contiguous layout first where it is not).
pub(crate) fn contiguous(tensor: &FlexTensor) -> std::borrow::Cow<'_, [f32]> {
    match tensor.as_slice::<f32>() {
        Some(values) => values.into(),
        None => tensor.to_contiguous().storage::<f32>().to_vec().into(),
    }
}

/// A flex tensor of `values` in `shape`, row-major, without a copy.
pub(crate) fn flex_tensor(values: Vec<f32>, shape: impl Into<burn::tensor::Shape>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}
