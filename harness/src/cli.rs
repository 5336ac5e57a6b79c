//! The command line: one subcommand per module in `commands`, each with its own `Args`.

use clap::{Parser, Subcommand};

use crate::commands::train::TrainArgs;
use crate::commands::worker::WorkerArgs;

/// Train makemore-style character models and keep every run's results in SQLite.
#[derive(Debug, Parser)]
#[command(name = "harness", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train one model and record the run (a one-run sweep) in the database.
    Train(TrainArgs),
    /// Train the run described by a JSON job on stdin, streaming JSON events (used by sweeps).
    #[command(hide = true)]
    Worker(WorkerArgs),
}
