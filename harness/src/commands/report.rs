//! `harness report SWEEP`: PNG loss plots and a `report.md` that embeds them, with the
//! ranked configurations, the best run's samples and the sweep file. Everything is drawn
//! into a staging folder first and moved into place at the end, so a failure leaves
//! nothing half-written.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::Args;
use results::{RunRecord, Split, Store, SweepRecord};

use crate::error::usage;
use crate::spec::Goal;
use crate::stored;
use crate::view::figures::{self, Options, XAxis};
use crate::view::labels;
use crate::view::output;
use crate::view::replicates;
use crate::view::search_figures;

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
    let plotted: Vec<&RunRecord> = runs
        .iter()
        .filter(|r| store.curve(r.id, Split::Val).is_ok_and(|c| !c.is_empty()))
        .collect();
    if plotted.is_empty() {
        return Err(usage(anyhow!(
            "no run of sweep `{}` has a loss curve yet: nothing to plot (`harness status {}` shows their progress)",
            sweep.name,
            sweep.name
        )));
    }
    let out = args.out.clone().unwrap_or_else(|| figures::default_dir(&sweep.name));
    let staging = staging_dir(&out)?;
    let written = write_report(&store, &sweep, &runs, &args, &staging);
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
    if let Some(missing) = ids.iter().find(|id| !all.iter().any(|r| r.id.0 == **id)) {
        return Err(usage(anyhow!("run {missing} is not in sweep `{}`", sweep.name)));
    }
    Ok(all
        .into_iter()
        .filter(|r| ids.is_empty() || ids.contains(&r.id.0))
        .collect())
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

/// Draws the figures and writes report.md into `dir`; returns the files' names.
fn write_report(
    store: &Store,
    sweep: &SweepRecord,
    runs: &[RunRecord],
    args: &ReportArgs,
    dir: &Path,
) -> anyhow::Result<Vec<String>> {
    let configs = labels::configs(runs)?;
    let groups = figures::groups(runs, &configs);
    let options = Options {
        smooth: args.smooth,
        log_y: args.log_y,
        x: args.x,
    };
    let mut figures = figures::draw(store, &sweep.name, &groups, &options, dir)?;
    let settings = stored::settings(sweep)?;
    let metric = settings.metric;
    figures.extend(search_figures::draw(
        store,
        (sweep.id, &sweep.name),
        runs,
        &configs,
        &metric,
        dir,
    )?);
    let mut md = format!("# Sweep `{}`\n\n", sweep.name);
    let _ = writeln!(
        md,
        "Created {}; {} runs in this report. Database: `{}`.\n",
        sweep.created_at.replace('T', " "),
        runs.len(),
        args.db.display()
    );
    let ids: Vec<String> = runs.iter().map(|r| r.id.to_string()).collect();
    let table = store.query(
        &format!("SELECT * FROM runs_wide WHERE run IN ({}) ORDER BY run", ids.join(",")),
        &[],
    )?;
    let folded = replicates::fold(
        &table,
        metric.loss,
        metric.goal == Goal::Maximize,
        &replicates::references(store, &table)?,
    );
    let _ = writeln!(
        md,
        "## Ranking\n\nConfigurations by mean {metric} over their seeds (± std where there are two or more).\n\n{}",
        output::markdown(&replicates::condense(&folded))
    );
    md.push_str("## Figures\n\n");
    let curveless: Vec<String> = runs
        .iter()
        .filter(|r| store.curve(r.id, Split::Val).is_ok_and(|c| c.is_empty()))
        .map(|r| r.id.to_string())
        .collect();
    if !curveless.is_empty() {
        let _ = writeln!(md, "Runs without a curve yet (not drawn): {}.\n", curveless.join(", "));
    }
    for (file, caption) in &figures {
        let _ = writeln!(md, "### {caption}\n\n![{caption}]({file})\n");
    }
    md.push_str(&search_figures::verdicts_section(store, sweep.id, runs)?);
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
