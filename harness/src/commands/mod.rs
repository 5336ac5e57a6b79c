//! One module per subcommand, each with its `Args` and `execute`; `Command` lists them for
//! the command line, and `execute` runs the one given. No command imports another.

pub mod bench;
pub mod compare;
pub mod explain;
pub mod launch;
pub mod query;
pub mod replay;
pub mod report;
pub mod resume;
pub mod runs;
pub mod sample;
pub mod serve;
pub mod split;
pub mod status;
pub mod train;
pub mod worker;

use std::process::ExitCode;

use clap::Subcommand;

use bench::BenchArgs;
use compare::CompareArgs;
use explain::ExplainArgs;
use launch::LaunchArgs;
use query::QueryArgs;
use replay::ReplayArgs;
use report::ReportArgs;
use resume::ResumeArgs;
use runs::RunsArgs;
use sample::SampleArgs;
use serve::ServeArgs;
use split::SplitArgs;
use status::StatusArgs;
use train::TrainArgs;
use worker::WorkerArgs;

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
    /// Tell every decision about a run and what it was made from: proposal, attempts, verdicts.
    Explain(ExplainArgs),
    /// Make a sweep's early-termination verdicts again from its stored curves, beside those stored.
    Replay(ReplayArgs),
    /// Draw a sweep's loss curves as PNGs, with a report.md that ranks its configurations.
    Report(ReportArgs),
    /// Generate items from a run's checkpoint, marking those found in its training data.
    Sample(SampleArgs),
    /// Show runs' parameters and results side by side and draw their validation curves.
    Compare(CompareArgs),
    /// Serve a live dashboard of the database's sweeps in the browser (read-only).
    Serve(ServeArgs),
    /// Write a data file's train/val/test items as three files, cut as every run cuts them.
    Split(SplitArgs),
    /// Train the run described by a JSON job on stdin, streaming JSON events (used by sweeps).
    #[command(hide = true)]
    Worker(WorkerArgs),
    /// Measure one backend's training and evaluation speed as a JSON line (bench/run.sh).
    #[command(hide = true)]
    Bench(BenchArgs),
}

pub fn execute(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Train(args) => train::execute(args),
        Command::Launch(args) => launch::execute(args),
        Command::Resume(args) => resume::execute(args),
        Command::Status(args) => status::execute(args),
        Command::Runs(args) => runs::execute(args),
        Command::Query(args) => query::execute(args),
        Command::Explain(args) => explain::execute(args),
        Command::Replay(args) => replay::execute(args),
        Command::Report(args) => report::execute(args),
        Command::Sample(args) => sample::execute(args),
        Command::Compare(args) => compare::execute(args),
        Command::Serve(args) => serve::execute(args),
        Command::Split(args) => split::execute(args),
        Command::Bench(args) => bench::execute(args),
        Command::Worker(args) => worker::execute(args),
    }
}
