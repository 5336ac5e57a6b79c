//! The command line: the binary's name, version and help; its subcommands are `commands`'.

use clap::Parser;

use crate::commands::Command;

/// Train makemore-style character models and keep every run's results in SQLite.
#[derive(Debug, Parser)]
#[command(name = "harness", version = env!("HARNESS_VERSION"), propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}
