//! `harness query "SQL"`: any read-only SQL over the database, which is opened read-only;
//! the views `runs_wide` and `curves` (docs/guide.md: `harness query`) spare users the
//! internal tables.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::anyhow;
use clap::Args;
use results::Store;

use crate::error::usage;
use crate::stored;
use crate::view::output::{self, Format};

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// One SQL statement that reads, e.g. "SELECT run, lr, val_loss FROM runs_wide ORDER BY val_loss"
    pub sql: String,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// SQLite database to read
    #[arg(long, env = "HARNESS_DB", default_value = "harness.db", value_name = "PATH")]
    pub db: PathBuf,
}

pub fn execute(args: QueryArgs) -> anyhow::Result<ExitCode> {
    let store = stored::open_existing(&args.db, Store::open_read_only)?;
    let table = store
        .query(&args.sql, &[])
        .map_err(|err| usage(anyhow!(err).context("the query failed")))?;
    output::print(args.format, &table)?;
    Ok(ExitCode::SUCCESS)
}
