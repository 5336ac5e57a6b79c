//! `harness report SWEEP`: PNG loss plots and a `report.md` that embeds them, with the
//! ranked configurations, the best run's samples and the sweep file. Everything is drawn
//! into a staging folder first and moved into place at the end, so a failure leaves
//! nothing half-written.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::Args;
use results::{Cell, RunId, RunRecord, Split, Store, SweepRecord, Table};

use crate::error::usage;
use crate::spec::{Goal, Metric};
use crate::stored;
use crate::view;
use crate::view::figures::{self, Options, XAxis};
use crate::view::final_losses;
use crate::view::labels;
use crate::view::output;
use crate::view::replicates;
use crate::view::{pbt_figures, search_figures};

/// The ranking in report.md lists at most this many configurations: a report of 10,000
/// runs stays a page to read.
const RANKED: usize = 50;
/// A list of runs in report.md names at most this many.
const NAMED: usize = 20;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The sweep's name (`harness status` lists them)
    pub sweep: String,
    /// Folder for the PNGs and report.md [default: report-<sweep>]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Only these runs, e.g. --runs 3,4,7
    #[arg(long, value_delimiter = ',', value_name = "ID,…")]
    pub runs: Vec<i64>,
    /// Steps per point of the smoothed training curve
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub smooth: u64,
    /// Logarithmic loss axis
    #[arg(long)]
    pub log_y: bool,
    /// What the curves' x axis measures
    #[arg(long, value_enum, default_value_t = XAxis::Step)]
    pub x: XAxis,
    /// SQLite database to read
    #[arg(long, env = "HARNESS_DB", default_value = "harness.db", value_name = "PATH")]
    pub db: PathBuf,
}

pub fn execute(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let store = stored::open_existing(&args.db, Store::open_read_only)?;
    let sweep = stored::find_sweep(&store, &args.sweep, &args.db)?;
    let runs = chosen_runs(&store, &sweep, &args.runs)?;
    let with_curve: HashSet<RunId> = store.runs_with_curve(sweep.id, Split::Val)?;
    if !runs.iter().any(|r| with_curve.contains(&r.id)) {
        return Err(usage(anyhow!(
            "no run of sweep `{}` has a loss curve yet: nothing to plot (`harness status {}` shows their progress)",
            sweep.name,
            sweep.name
        )));
    }
    let out = args.out.clone().unwrap_or_else(|| figures::default_dir(&sweep.name));
    let staging = staging_dir(&out)?;
    let written = write_report(&store, &sweep, &runs, &with_curve, &args, &staging);
    let moved = written.and_then(|files| publish(&staging, &out, &files));
    let _ = std::fs::remove_dir_all(&staging);
    for file in moved? {
        out!("{}", out.join(file).display())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn chosen_runs(store: &Store, sweep: &SweepRecord, ids: &[i64]) -> anyhow::Result<Vec<RunRecord>> {
    let all = store.sweep_runs(sweep.id)?;
    if all.is_empty() {
        return Err(usage(anyhow!("sweep `{}` has no runs", sweep.name)));
    }
    let in_sweep: HashSet<i64> = all.iter().map(|r| r.id.0).collect();
    if let Some(missing) = ids.iter().find(|id| !in_sweep.contains(id)) {
        return Err(usage(anyhow!("run {missing} is not in sweep `{}`", sweep.name)));
    }
    let chosen: HashSet<i64> = ids.iter().copied().collect();
    Ok(all
        .into_iter()
        .filter(|r| ids.is_empty() || chosen.contains(&r.id.0))
        .collect())
}

/// At most `NAMED` of `ids`, then how many more there are.
fn some_of(ids: &[String]) -> String {
    match ids.len().checked_sub(NAMED) {
        Some(more) if more > 0 => format!("{} and {more} more", ids[..NAMED].join(", ")),
        _ => ids.join(", "),
    }
}

/// A fresh folder inside `out` (created if needed) to draw in; proves `out` is writable.
fn staging_dir(out: &Path) -> anyhow::Result<PathBuf> {
    let staging = out.join(format!(".staging-{}", std::process::id()));
    std::fs::create_dir_all(&staging)
        .map_err(|err| usage(anyhow!("cannot write the report into {}: {err}", out.display())))?;
    Ok(staging)
}

/// Moves the finished files from `staging` into `out`.
fn publish(staging: &Path, out: &Path, files: &[String]) -> anyhow::Result<Vec<String>> {
    for file in files {
        std::fs::rename(staging.join(file), out.join(file))
            .with_context(|| format!("cannot move {file} into {}", out.display()))?;
    }
    Ok(files.to_vec())
}

/// Each run of `table` (rows of `runs_wide`), best first by `metric` (no value last).
fn members_ranked(table: &Table, metric: Metric) -> Table {
    let mut each = table.clone();
    if let Some(column) = each.column(metric.loss.column()) {
        let value = |row: &Vec<Cell>| match row[column] {
            Cell::Real(x) => metric.goal.minimized(x),
            _ => f64::INFINITY,
        };
        each.rows.sort_by(|a, b| value(a).total_cmp(&value(b)));
    }
    replicates::each_run(&each)
}

/// Draws the figures and writes report.md into `dir`; returns the files' names.
fn write_report(
    store: &Store,
    sweep: &SweepRecord,
    runs: &[RunRecord],
    with_curve: &HashSet<RunId>,
    args: &ReportArgs,
    dir: &Path,
) -> anyhow::Result<Vec<String>> {
    let settings = stored::settings(sweep)?;
    let metric = settings.metric;
    let configs = labels::configs(runs)?;
    let groups = figures::groups(runs, &configs, &metric);
    let options = Options {
        smooth: args.smooth,
        log_y: args.log_y,
        x: args.x,
    };
    let mut figures = figures::draw(store, &sweep.name, &groups, &options, dir)?;
    figures.extend(final_losses::draw(&sweep.name, &groups, &options, dir)?);
    figures.extend(search_figures::draw(
        store,
        (sweep.id, &sweep.name),
        runs,
        &configs,
        &metric,
        dir,
    )?);
    let exploits = store.sweep_exploits(sweep.id)?;
    if let Some(pbt) = &settings.pbt {
        figures.extend(pbt_figures::draw(store, (&sweep.name, pbt), runs, &exploits, dir)?);
    }
    let mut md = format!("# Sweep `{}`\n\n", sweep.name);
    let _ = writeln!(
        md,
        "Created {}; {} runs in this report. Database: `{}`.\n",
        sweep.created_at.replace('T', " "),
        runs.len(),
        args.db.display()
    );
    let chosen: HashSet<i64> = runs.iter().map(|r| r.id.0).collect();
    let mut table = store.query("SELECT * FROM runs_wide WHERE sweep = ?1 ORDER BY run", &[&sweep.name])?;
    let run_column = table.column("run").context("runs_wide has a `run` column")?;
    table
        .rows
        .retain(|row| matches!(row[run_column], Cell::Int(id) if chosen.contains(&id)));
    let (mut ranking, ranked) = if settings.pbt.is_some() {
        // A population's members that end with the same settings are not replicates.
        (members_ranked(&table, metric), "Members by their final {metric}.")
    } else {
        let folded = replicates::fold(
            &table,
            metric.loss,
            metric.goal == Goal::Maximize,
            &replicates::references(store, &table)?,
        );
        let words = "Configurations by mean {metric} over their seeds (± std where there are two or more).";
        (replicates::condense(&folded), words)
    };
    let configurations = ranking.rows.len();
    ranking.rows.truncate(RANKED);
    let ranked = ranked.replace("{metric}", &metric.to_string());
    let _ = writeln!(md, "## Ranking\n\n{ranked}\n\n{}", output::markdown(&ranking));
    if configurations > RANKED {
        let _ = write!(md, "The best {RANKED} of {configurations} configurations");
        let _ = if args.runs.is_empty() {
            writeln!(
                md,
                "; `{} runs --sweep {}` ranks them all.\n",
                view::invocation(),
                sweep.name
            )
        } else {
            writeln!(md, " of the runs chosen.\n")
        };
    }
    md.push_str("## Figures\n\n");
    let curveless: Vec<String> = runs
        .iter()
        .filter(|r| !with_curve.contains(&r.id))
        .map(|r| r.id.to_string())
        .collect();
    if !curveless.is_empty() {
        let _ = writeln!(md, "Runs without a curve yet (not drawn): {}.\n", some_of(&curveless));
    }
    for (file, caption) in &figures {
        let _ = writeln!(md, "### {caption}\n\n![{caption}]({file})\n");
    }
    if settings.pbt.is_some() {
        md.push_str(&pbt_figures::exploits_section(runs, &exploits));
    } else {
        md.push_str(&search_figures::verdicts_section(store, sweep.id, runs)?);
    }
    if let Some((best, _)) = metric.best(runs) {
        let samples = store.samples(best.id)?;
        if !samples.is_empty() {
            let _ = writeln!(
                md,
                "## Samples from the best run (run {})\n\n```\n{}\n```\n",
                best.id,
                samples.join("\n")
            );
        }
    }
    if let Some(spec) = &sweep.spec {
        let _ = writeln!(md, "## Sweep file\n\n```yaml\n{}\n```", spec.trim_end());
    }
    std::fs::write(dir.join("report.md"), md).context("cannot write report.md")?;
    let mut files: Vec<String> = figures.into_iter().map(|(file, _)| file).collect();
    files.push("report.md".into());
    Ok(files)
}
