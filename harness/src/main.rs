//! The `harness` binary: parse the command line, run the command, print any error chain
//! once. Exit codes: 0 success, 1 failure, 2 a mistake in what the user asked for.

#[macro_use]
mod stdout;

mod cli;
mod commands;
mod data_file;
mod error;
mod pbt;
mod recording;
mod scheduler;
mod serve;
mod session;
mod setting_args;
mod space;
mod spec;
mod stopping;
mod stored;
mod view;
mod workers;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("HARNESS_LOG").unwrap_or_else(|_| "warn".into()))
        .init();
    match commands::execute(cli.command) {
        Ok(code) => code,
        // The reader of our stdout went away (`harness runs | head`): nothing left to say.
        Err(err) if stdout::is_closed_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            if error::is_usage_error(&err) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Tensors of a few MB are allocated and freed at every step and every evaluation chunk.
/// glibc's malloc hands blocks above its mmap threshold straight back to the kernel (and trims
/// the heap's free top), so each new tensor paid page faults: a fifth of a validation pass.
/// Serving them from the heap instead took the lecture model's pass from 0.176 s to 0.125 s.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    const MMAP_THRESHOLD: libc::c_int = 32 << 20; // glibc's largest
    const TRIM_THRESHOLD: libc::c_int = 128 << 20;
    // SAFETY: mallopt only sets malloc's tuning values; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}
