//! `harness replay SWEEP [--verify]`: makes every early-termination verdict the database holds
//! for a sweep again, from its stored validation curves and sweep file alone, as if it ran once
//! more, and shows each beside the one stored; `--verify` shows only those that differ and
//! exits 1 if any does. Reads the database read-only, so it works during a sweep.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::anyhow;
use clap::Args;
use results::{Decision, RunId, Store};

use crate::error::usage;
use crate::scheduler::judge;
use crate::stored;
use crate::view::{plural, table};

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The sweep whose verdicts to make again
    pub sweep: String,
    /// Show only the verdicts that differ from those stored, and exit 1 if any does
    #[arg(long)]
    pub verify: bool,
    /// SQLite database to read
    #[arg(long, env = "HARNESS_DB", default_value = "harness.db", value_name = "PATH")]
    pub db: PathBuf,
}

pub fn execute(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let store = stored::open_existing(&args.db, Store::open_read_only)?;
    let sweep = stored::find_sweep(&store, &args.sweep, &args.db)?;
    let settings = stored::settings(&sweep)?;
    let Some(rule) = settings.early_terminate else {
        return Err(usage(anyhow!(
            "sweep `{}` has no `early_terminate`: it has no verdicts to make again",
            sweep.name
        )));
    };
    let runs = store.sweep_runs(sweep.id)?;
    let judged = stored::judged(&store, &sweep, &runs)?;
    let given = judged.given.clone();
    let again = judge::replay((rule, settings.verdict_order, settings.metric.goal), judged, None)
        .map_err(|err| usage(anyhow!("cannot replay sweep `{}`: {err}", sweep.name)))?;
    let again: HashMap<(RunId, u64), Decision> = again.verdicts.iter().map(|v| ((v.run, v.step), v.decision)).collect();
    let mut compared: Vec<(RunId, u64, f64, Decision, Option<Decision>)> = given
        .iter()
        .map(|v| (v.run, v.step, v.value, v.decision, again.get(&(v.run, v.step)).copied()))
        .collect();
    compared.sort_by_key(|row| (row.0, row.1));
    let differ = compared.iter().filter(|row| Some(row.3) != row.4).count();
    let rows: Vec<Vec<String>> = compared
        .iter()
        .filter(|row| !args.verify || Some(row.3) != row.4)
        .map(|&(run, step, value, stored, made)| {
            vec![
                run.to_string(),
                step.to_string(),
                table::significant(value, 5),
                stored.as_str().to_string(),
                made.map_or("none".to_string(), |d| d.as_str().to_string()),
                if Some(stored) == made { "" } else { "differs" }.to_string(),
            ]
        })
        .collect();
    if !rows.is_empty() {
        table::print(&["run", "step", "val", "stored", "made again", ""], &rows)?;
    }
    let total = compared.len();
    if differ == 0 {
        eprintln!(
            "sweep {}: {total} verdict{} made again from the stored curves, all as stored",
            sweep.name,
            plural(total)
        );
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "sweep {}: {differ} of {total} verdict{} made again from the stored curves differ from those stored",
        sweep.name,
        plural(total)
    );
    Ok(if args.verify {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
