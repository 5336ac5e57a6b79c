//! `simd_when_present!`: the CPU loops of the fast path, evaluation and the element-wise
//! kernels (`tanh`, `gelu`, `norm_tanh`) are written once, portably, and compiled again for
//! AVX-512 (16 lanes) and AVX2 (8), the widest the processor has chosen at run time. No FMA:
//! each operation rounds as in the portable loop, so every width gives the same bits.

/// For each `vis fn name => kernel(args) -> R;`: a function `name` that runs the
/// `#[inline(always)]` `kernel` compiled for AVX-512F or else AVX2 where the processor has
/// it (checked once and cached by the standard library), portably elsewhere. Attributes (doc comments) go
/// on `name`.
macro_rules! simd_when_present {
    ($($(#[$attr:meta])* $vis:vis fn $name:ident => $kernel:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty;)*) => {$(
        $(#[$attr])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            $crate::simd::when_detected!("avx512f", $kernel($($arg: $ty),*) -> $ret);
            $crate::simd::when_detected!("avx2", $kernel($($arg: $ty),*) -> $ret);
            $kernel($($arg),*)
        }
    )*};
}

/// Returns `kernel(args)` compiled for `feature` from the enclosing function where the
/// processor has that feature; does nothing elsewhere.
macro_rules! when_detected {
    ($feature:tt, $kernel:ident($($arg:ident: $ty:ty),*) -> $ret:ty) => {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!($feature) {
            #[target_feature(enable = $feature)]
            fn wide($($arg: $ty),*) -> $ret {
                $kernel($($arg),*)
            }
            // SAFETY: the processor has the feature, checked just above.
            return unsafe { wide($($arg),*) };
        }
    };
}

pub(crate) use {simd_when_present, when_detected};
