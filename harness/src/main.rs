//! The `harness` binary: parse the command line, run the command, print any error chain
//! once. Exit codes: 0 success, 1 failure, 2 a mistake in what the user asked for.

#[macro_use]
mod stdout;

mod cli;
mod commands;
mod error;
mod run;
mod scheduler;
mod setting_args;
mod spec;
mod stored;
mod view;

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
