//! The CPU threads a run computes on: the pure-Rust backends' rayon pool (gemm, Burn's large
//! element-wise ops, our fused loops), sized by `--threads`, with the run itself on one of
//! its threads and the others kept ready for work. `harness train`, `worker` and `bench`
//! call `on_compute_threads` first thing; libtorch gets the same count.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a helper thread keeps looking for work after its last job before it naps: longer
/// than the gaps between the parallel operations of a training step (tens of µs at batch 256
/// of the lecture's model), shorter than a pause a person would call idle.
const SPIN: Duration = Duration::from_millis(2);
/// A helper's nap once it has gone `SPIN` without work: how late it may join the next burst.
const NAP: Duration = Duration::from_micros(200);

#[derive(Debug, thiserror::Error)]
#[error("could not set up {threads} compute thread(s): {reason}")]
pub struct ThreadsError {
    threads: usize,
    reason: String,
}

/// Runs `work` with the CPU backends limited to `threads` threads, on one of those threads,
/// while the other `threads − 1` look for work without sleeping (see `help`).
///
/// Two costs this avoids, both measured at batch 256 of the lecture's model with two threads
/// (a step is about 2 ms there, with some 25 parallel operations): called from outside the
/// pool, every parallel operation is handed to it and the caller sleeps until it is done;
/// and rayon's idle threads fall asleep between operations, so each one starts by waking a
/// thread through the kernel. Together they made two threads slower than one.
///
/// # Safety
/// Sets the `MATMUL_NUM_THREADS` environment variable (read by burn-ndarray's matrix
/// multiply), so it must run before the process starts any other thread.
pub unsafe fn on_compute_threads<R: Send>(threads: usize, work: impl FnOnce() -> R + Send) -> Result<R, ThreadsError> {
    // SAFETY: the caller guarantees no other thread exists yet to read the environment.
    unsafe { std::env::set_var("MATMUL_NUM_THREADS", threads.to_string()) };
    #[cfg(feature = "tch")]
    tch::set_num_threads(i32::try_from(threads).unwrap_or(i32::MAX));
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .map_err(|e| ThreadsError {
            threads,
            reason: e.to_string(),
        })?;
    let helpers = threads - 1;
    let (started, done) = (AtomicUsize::new(0), AtomicBool::new(false));
    Ok(rayon::scope(|scope| {
        for _ in 0..helpers {
            scope.spawn(|_| help(&started, helpers, &done));
        }
        // Every helper on a thread of its own before `work` can run one inline while it waits.
        while started.load(Ordering::Acquire) < helpers {
            std::hint::spin_loop();
        }
        // Stops the helpers however `work` ends, a panic included (the scope waits for them).
        let _stop = StopOnDrop(&done);
        work()
    }))
}

/// A helper thread: once all helpers have started, runs the pool's pending jobs (its own,
/// stolen, injected) as they appear, spinning between them for up to `SPIN`, then napping
/// `NAP` at a time, until `done`.
fn help(started: &AtomicUsize, helpers: usize, done: &AtomicBool) {
    started.fetch_add(1, Ordering::AcqRel);
    // Not looking for work before then keeps a helper from picking up another helper's job.
    while started.load(Ordering::Acquire) < helpers {
        std::hint::spin_loop();
    }
    let mut last_job = Instant::now();
    while !done.load(Ordering::Acquire) {
        match rayon::yield_now() {
            Some(rayon::Yield::Executed) => last_job = Instant::now(),
            _ if last_job.elapsed() < SPIN => std::hint::spin_loop(),
            _ => std::thread::sleep(NAP),
        }
    }
}

struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}
