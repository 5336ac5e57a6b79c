//! The command line: one subcommand per module in `commands`, each with its own `Args`.

use clap::{Parser, Subcommand};

use crate::commands::bench::BenchArgs;
use crate::commands::compare::CompareArgs;
use crate::commands::launch::LaunchArgs;
use crate::commands::query::QueryArgs;
use crate::commands::report::ReportArgs;
use crate::commands::resume::ResumeArgs;
use crate::commands::runs::RunsArgs;
use crate::commands::sample::SampleArgs;
use crate::commands::split::SplitArgs;
use crate::commands::status::StatusArgs;
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
    /// Check a sweep file, store its runs and train them in parallel worker processes.
    Launch(LaunchArgs),
    /// Continue a sweep whose scheduler stopped (Ctrl-C, crash, kill -9).
    Resume(ResumeArgs),
    /// List the sweeps with their runs counted by status, or one sweep's runs.
    Status(StatusArgs),
    /// List runs with what sets them apart and their final losses; replicates folded into mean ± std.
    Runs(RunsArgs),
    /// Run one read-only SQL statement over the database (views: runs_wide, curves).
    Query(QueryArgs),
    /// Draw a sweep's loss curves as PNGs, with a report.md that ranks its configurations.
    Report(ReportArgs),
    /// Generate items from a run's checkpoint, marking those found in its training data.
    Sample(SampleArgs),
    /// Show runs' parameters and results side by side and draw their validation curves.
    Compare(CompareArgs),
    /// Write a data file's train/val/test items as three files, cut as every run cuts them.
    Split(SplitArgs),
    /// Train the run described by a JSON job on stdin, streaming JSON events (used by sweeps).
    #[command(hide = true)]
    Worker(WorkerArgs),
    /// Measure one backend's training and evaluation speed as a JSON line (bench/run.sh).
    #[command(hide = true)]
    Bench(BenchArgs),
}
