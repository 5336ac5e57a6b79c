//! The `harness` binary: parse the command line, run the command, print any error chain
//! once. Exit codes: 0 success, 1 failure, 2 a mistake in what the user asked for.

mod cli;
mod commands;
mod data_source;
mod error;
mod figures;
mod interrupt;
mod output;
mod placement;
mod progress;
mod record;
mod recorder;
mod replicates;
mod scheduler;
mod session;
mod spec;
mod sweep_progress;
mod table;
mod worker;
mod worker_slots;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("HARNESS_LOG").unwrap_or_else(|_| "warn".into()))
        .init();
    match commands::execute(cli.command) {
        Ok(code) => code,
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
