//! `harness explain RUN`: every decision about one run and what it was made from, one per
//! line on stdout (`view::explain` makes the lines; the dashboard's run page shows the same).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use results::Store;

use crate::stored;
use crate::view::explain;

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The run's id (`harness runs` lists them)
    pub run: i64,
    /// SQLite database to read
    #[arg(long, env = "HARNESS_DB", default_value = "harness.db", value_name = "PATH")]
    pub db: PathBuf,
}

pub fn execute(args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let store = stored::open_existing(&args.db, Store::open_read_only)?;
    let run = stored::run(&store, args.run)?;
    let sweep = stored::find_sweep(&store, &run.sweep_name, &args.db)?;
    for line in explain::lines(&store, &run, &sweep)? {
        out!("{line}")?;
    }
    Ok(ExitCode::SUCCESS)
}
