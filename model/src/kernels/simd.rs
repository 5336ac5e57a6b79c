//! `simd_when_present!`: the CPU loops of the fast path, evaluation and the element-wise
//! kernels (`activations`, `gelu`, `norm_tanh`, `attention`) are written once, portably, and compiled
//! again for AVX-512 (16 lanes) and AVX2 (8), the widest the processor has chosen at run time.
//! No FMA: each operation rounds as in the portable loop, so every width gives the same bits.
//! `HARNESS_SIMD` (`avx2`, `portable`) caps the width for a process, and `with_cap` for the
//! tests, which run every width the machine has and compare their bits.

// Elsewhere than x86-64 only the portable loops exist, and nothing asks for the cap.
#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]

use std::sync::atomic::{AtomicU8, Ordering};

/// A width the loops are compiled for, narrowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Width {
    Portable = 0,
    Avx2 = 1,
    Avx512 = 2,
}

impl Width {
    pub const ALL: [Self; 3] = [Self::Portable, Self::Avx2, Self::Avx512];

    /// As `HARNESS_SIMD` names it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Portable => "portable",
            Self::Avx2 => "avx2",
            Self::Avx512 => "avx512",
        }
    }

    /// The widest the processor runs.
    #[cfg(test)]
    pub fn detected() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Self::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Self::Avx2;
            }
        }
        Self::Portable
    }
}

/// Not yet read from the environment.
const UNREAD: u8 = u8::MAX;
static CAP: AtomicU8 = AtomicU8::new(UNREAD);

/// The widest width the loops may take: `HARNESS_SIMD` (read once; unset or unknown: no cap)
/// or what `with_cap` set.
pub fn cap() -> Width {
    match CAP.load(Ordering::Relaxed) {
        UNREAD => {
            let named = std::env::var("HARNESS_SIMD").ok();
            let width = Width::ALL
                .into_iter()
                .find(|w| named.as_deref() == Some(w.name()))
                .unwrap_or(Width::Avx512);
            CAP.store(width as u8, Ordering::Relaxed);
            width
        }
        stored => Width::ALL[usize::from(stored)],
    }
}

/// For tests: runs `f` with the loops capped at `width` in every thread (rayon's too), then
/// lifts the cap; one call at a time. Every width gives the same bits, so other work running
/// meanwhile only runs narrower.
#[cfg(test)]
pub fn with_cap<R>(width: Width, f: impl FnOnce() -> R) -> R {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let before = cap();
    CAP.store(width as u8, Ordering::Relaxed);
    let result = f();
    CAP.store(before as u8, Ordering::Relaxed);
    result
}

/// For each `vis fn name => kernel(args) -> R;`: a function `name` that runs the
/// `#[inline(always)]` `kernel` compiled for AVX-512F or else AVX2 where the processor has
/// it (checked once and cached by the standard library) and `cap` allows it, portably
/// elsewhere. Attributes (doc comments) go on `name`.
macro_rules! simd_when_present {
    ($($(#[$attr:meta])* $vis:vis fn $name:ident => $kernel:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty;)*) => {$(
        $(#[$attr])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            $crate::kernels::simd::when_detected!("avx512f", Avx512, $kernel($($arg: $ty),*) -> $ret);
            $crate::kernels::simd::when_detected!("avx2", Avx2, $kernel($($arg: $ty),*) -> $ret);
            $kernel($($arg),*)
        }
    )*};
}

/// Returns `kernel(args)` compiled for `feature` from the enclosing function where the
/// processor has that feature and the cap allows `width`; does nothing elsewhere.
macro_rules! when_detected {
    ($feature:tt, $width:ident, $kernel:ident($($arg:ident: $ty:ty),*) -> $ret:ty) => {
        #[cfg(target_arch = "x86_64")]
        if $crate::kernels::simd::cap() >= $crate::kernels::simd::Width::$width && std::arch::is_x86_feature_detected!($feature) {
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

/// For tests: `f` at every width this processor runs, narrowest first, with the width.
#[cfg(test)]
pub fn at_every_width<R>(f: impl Fn() -> R) -> Vec<(Width, R)> {
    Width::ALL
        .into_iter()
        .filter(|w| *w <= Width::detected())
        .map(|w| (w, with_cap(w, &f)))
        .collect()
}

/// For tests: asserts that `f` gives the same result at every width this processor runs.
#[cfg(test)]
pub fn assert_same_at_every_width<R: PartialEq + std::fmt::Debug>(f: impl Fn() -> R) {
    let results = at_every_width(f);
    let (portable, first) = &results[0];
    for (width, result) in &results[1..] {
        assert_eq!(result, first, "{} against {}", width.name(), portable.name());
    }
}
