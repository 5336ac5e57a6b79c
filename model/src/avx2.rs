//! `avx2_when_present!`: the CPU loops of the fast path, evaluation and the element-wise
//! kernels (`tanh`, `gelu`, `norm_tanh`) are written once, portably, and compiled a second
//! time for AVX2, chosen at run time. No FMA: each operation rounds as in the portable loop,
//! so both give the same bits.

/// For each `vis fn name => kernel(args) -> R;`: a function `name` that runs the
/// `#[inline(always)]` `kernel` compiled for AVX2 where the processor has it (checked once
/// and cached by the standard library), portably elsewhere. Attributes (doc comments) go
/// on `name`.
macro_rules! avx2_when_present {
    ($($(#[$attr:meta])* $vis:vis fn $name:ident => $kernel:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty;)*) => {$(
        $(#[$attr])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                #[target_feature(enable = "avx2")]
                fn avx2($($arg: $ty),*) -> $ret {
                    $kernel($($arg),*)
                }
                // SAFETY: the processor has AVX2, checked just above.
                return unsafe { avx2($($arg),*) };
            }
            $kernel($($arg),*)
        }
    )*};
}

pub(crate) use avx2_when_present;
