//! Graceful stop on Ctrl-C (SIGINT) or SIGTERM: the first signal sets a flag that the
//! training loop checks at its next log point; a second one exits at once.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;

/// Exit status of a process ended by a second interrupt (128 + SIGINT).
const EXIT_ON_SECOND_SIGNAL: i32 = 130;

#[derive(Clone)]
pub struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    /// `Break` once a stop was asked for: what a training observer returns.
    pub fn flow(&self) -> ControlFlow<()> {
        if self.0.load(Ordering::SeqCst) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

/// Installs the handler; `notice` is printed on stderr at the first signal.
pub fn install(notice: &'static str) -> anyhow::Result<StopFlag> {
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = Arc::clone(&flag);
    ctrlc::set_handler(move || {
        if handler_flag.swap(true, Ordering::SeqCst) {
            std::process::exit(EXIT_ON_SECOND_SIGNAL);
        }
        eprintln!("\n{notice}");
    })
    .context("cannot install the Ctrl-C handler")?;
    Ok(StopFlag(flag))
}
