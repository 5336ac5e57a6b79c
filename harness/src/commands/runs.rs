//! `harness runs`: one row per run — what sets it apart, status, final losses, size, speed —
//! or, for a sweep with a seed axis (or `--group-by-seed`), one row per configuration with
//! mean ± std over its seeds, ranked, next to the sweep file's references.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::anyhow;
use clap::Args;
use clap::builder::PossibleValuesParser;
use results::{Loss, RunStatus, Store, Table, ToSql};

use crate::error::usage;
use crate::spec::Goal;
use crate::stored;
use crate::view::output::{self, Format};
use crate::view::replicates::{self, References};

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// Only this sweep's runs
    #[arg(long)]
    pub sweep: Option<String>,
    /// Only runs with this status
    #[arg(long, value_parser = PossibleValuesParser::new(RunStatus::ALL.map(|s| s.as_str())))]
    pub status: Option<String>,
    /// An SQL condition over the columns of the `runs_wide` view, e.g. "lr > 0.05 AND model = 'wavenet'"
    #[arg(long = "where", value_name = "EXPR")]
    pub condition: Option<String>,
    /// Sort by this column of `runs_wide` [default: run; per configuration: the sweep's metric]
    #[arg(long, value_name = "COLUMN")]
    pub sort: Option<String>,
    /// Sort in descending order
    #[arg(long)]
    pub desc: bool,
    /// Show at most this many rows
    #[arg(long)]
    pub limit: Option<usize>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// One row per configuration, mean ± std over its seeds (the default for one sweep with a seed axis)
    #[arg(long, conflicts_with = "each_run")]
    pub group_by_seed: bool,
    /// One row per run, even for a sweep with a seed axis
    #[arg(long)]
    pub each_run: bool,
    /// SQLite database to read
    #[arg(long, env = "HARNESS_DB", default_value = "harness.db", value_name = "PATH")]
    pub db: PathBuf,
}

pub fn execute(args: RunsArgs) -> anyhow::Result<ExitCode> {
    let store = stored::open_existing(&args.db, Store::open_read_only)?;
    // A population's members that end with the same settings are not replicates of one
    // configuration: its runs are listed one by one unless asked otherwise.
    let mut population = false;
    if let Some(name) = &args.sweep {
        let sweep = stored::find_sweep(&store, name, &args.db)?;
        population = stored::settings(&sweep)?.pbt.is_some();
    }
    let columns = store.query("SELECT * FROM runs_wide LIMIT 0", &[])?.columns;
    if let Some(sort) = args.sort.as_ref().filter(|s| !columns.contains(s)) {
        return Err(usage(anyhow!(
            "cannot sort by `{sort}`; the columns are: {}",
            columns.join(", ")
        )));
    }
    let runs = select(&store, &args)?;
    let grouped =
        args.group_by_seed || (args.sweep.is_some() && !args.each_run && !population && has_replicates(&runs));
    let mut table = if grouped {
        let metric = metric(&store, &args, &runs)?;
        let (loss, descending) = match &args.sort {
            Some(sort) => match sort.parse::<Loss>() {
                Ok(loss) => (loss, args.desc),
                Err(_) => {
                    return Err(usage(anyhow!(
                        "one row per configuration is ranked by a loss: `--sort train_loss|val_loss|test_loss`, not `{sort}` (or pass --each-run)"
                    )));
                }
            },
            None => (metric.loss, metric.goal == Goal::Maximize),
        };
        let folded = replicates::fold(&runs, loss, descending, &replicates::references(&store, &runs)?);
        if args.format == Format::Table {
            replicates::condense(&folded)
        } else {
            folded
        }
    } else if args.format == Format::Table {
        replicates::each_run(&runs)
    } else {
        runs
    };
    if let Some(limit) = args.limit {
        table.rows.truncate(limit);
    }
    if table.rows.is_empty() {
        eprintln!("no runs match");
    }
    output::print(args.format, &table)?;
    Ok(ExitCode::SUCCESS)
}

/// The rows of `runs_wide` that pass the filters, sorted.
fn select(store: &Store, args: &RunsArgs) -> anyhow::Result<Table> {
    let mut sql = String::from("SELECT * FROM runs_wide WHERE 1");
    let mut params: Vec<&dyn ToSql> = Vec::new();
    if let Some(sweep) = &args.sweep {
        sql.push_str(" AND sweep = ?");
        params.push(sweep);
    }
    if let Some(status) = &args.status {
        sql.push_str(" AND status = ?");
        params.push(status);
    }
    if let Some(condition) = &args.condition {
        sql.push_str(&format!(" AND ({condition})"));
    }
    let order = args.sort.as_deref().unwrap_or("run");
    let direction = if args.desc { "DESC" } else { "ASC" };
    sql.push_str(&format!(" ORDER BY \"{order}\" IS NULL, \"{order}\" {direction}, run"));
    store
        .query(&sql, &params)
        .map_err(|err| usage(anyhow!(err).context("the --where condition failed")))
}

/// Whether some runs differ only in their seed.
fn has_replicates(runs: &Table) -> bool {
    let folded = replicates::fold(runs, Loss::Val, false, &References::new());
    folded.rows.len() < runs.rows.len()
}

/// The one sweep's metric, else `val_loss` to minimize.
fn metric(store: &Store, args: &RunsArgs, runs: &Table) -> anyhow::Result<crate::spec::Metric> {
    let sweeps = replicates::sweeps_in(runs);
    match (args.sweep.as_ref(), sweeps.as_slice()) {
        (Some(name), _) | (None, [name]) => Ok(stored::settings_by_name(store, name)?.metric),
        _ => Ok(crate::spec::Metric::default()),
    }
}
