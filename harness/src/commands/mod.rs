//! One module per subcommand, each with its `Args` and `execute`.

pub mod train;
pub mod worker;

use std::process::ExitCode;

use crate::cli::Command;

pub fn execute(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Train(args) => train::execute(args),
        Command::Worker(args) => worker::execute(args),
    }
}
