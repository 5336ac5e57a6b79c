//! `harness status [SWEEP]`: every sweep with its runs counted by status, or one sweep's
//! runs with their progress (of a large sweep, those that need eyes first). Reads the
//! database read-only, so it works during a sweep.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use results::{RunStatus, Store};

use crate::stored;
use crate::view::table;
use crate::view::{self, sweep_table};

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Show this sweep's runs [default: list every sweep]
    pub sweep: Option<String>,
    /// List every run of the sweep, not only those in flight, the latest failures and the best
    #[arg(long, requires = "sweep")]
    pub all: bool,
    /// SQLite database to read
    #[arg(long, env = "HARNESS_DB", default_value = "harness.db", value_name = "PATH")]
    pub db: PathBuf,
}

pub fn execute(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let store = stored::open_existing(&args.db, Store::open_read_only)?;
    if let Some(name) = &args.sweep {
        let sweep = stored::find_sweep(&store, name, &args.db)?;
        let runs = store.sweep_runs(sweep.id)?;
        let metric = stored::settings(&sweep)?.metric;
        sweep_table::print_runs(&runs, &metric, args.all)?;
        let waiting = runs.iter().any(|run| run.status == RunStatus::Pending);
        if let Some((run, value)) = metric.target_reached_by(&runs).filter(|_| waiting) {
            let reached = metric.target_reached_message(run.id, value);
            eprintln!("{reached}: pending runs will not start");
        }
        let paused = runs.iter().filter(|run| run.status == RunStatus::Paused).count();
        if paused > 0 {
            eprintln!(
                "{paused} run{} paused at an ASHA rung: promoted if later runs put {} among the best, \
                 else stopped there when the sweep ends",
                view::plural(paused),
                if paused == 1 { "it" } else { "them" }
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let summaries = store.sweep_summaries()?;
    let mut headers = vec!["sweep", "kind", "runs"];
    headers.extend(RunStatus::ALL.iter().map(|s| s.as_str()));
    headers.push("created");
    let rows: Vec<Vec<String>> = summaries
        .iter()
        .map(|summary| {
            let mut row = vec![
                summary.sweep.name.clone(),
                summary.sweep.kind.as_str().to_string(),
                summary.total().to_string(),
            ];
            row.extend(summary.counts.iter().map(usize::to_string));
            row.push(
                summary
                    .sweep
                    .created_at
                    .chars()
                    .take(19)
                    .collect::<String>()
                    .replace('T', " "),
            );
            row
        })
        .collect();
    table::print(&headers, &rows)?;
    Ok(ExitCode::SUCCESS)
}
