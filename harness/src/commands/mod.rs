//! One module per subcommand, each with its `Args` and `execute`.

pub mod launch;
pub mod resume;
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
        Command::Worker(args) => worker::execute(args),
    }
}
