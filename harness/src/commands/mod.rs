//! One module per subcommand, each with its `Args` and `execute`.

pub mod bench;
pub mod compare;
pub mod launch;
pub mod query;
pub mod report;
pub mod resume;
pub mod runs;
pub mod sample;
pub mod split;
pub mod status;
pub mod train;
pub mod worker;

use std::process::ExitCode;

use crate::cli::Command;

pub fn execute(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Train(args) => train::execute(args),
        Command::Launch(args) => launch::execute(args),
        Command::Resume(args) => resume::execute(args),
        Command::Status(args) => status::execute(args),
        Command::Runs(args) => runs::execute(args),
        Command::Query(args) => query::execute(args),
        Command::Report(args) => report::execute(args),
        Command::Sample(args) => sample::execute(args),
        Command::Compare(args) => compare::execute(args),
        Command::Split(args) => split::execute(args),
        Command::Bench(args) => bench::execute(args),
        Command::Worker(args) => worker::execute(args),
    }
}
