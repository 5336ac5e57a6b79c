//! A sweep's runs as a table on stdout (`status SWEEP`, and after `launch` and `resume`), and
//! how a session ended: its tally on stderr, the best run, what to run next, the exit code.

use std::path::Path;
use std::process::ExitCode;

use results::{RunRecord, RunStatus, Store, SweepRecord};

use crate::scheduler::Tally;
use crate::spec::Metric;
use crate::stored::checkpoint_dir;
use crate::view::labels::{configs, labels, varied_settings};
use crate::view::table;
use crate::view::{self, figures};

/// The sweep's runs as a table on stdout: id, what sets each apart, status, progress, losses,
/// and where each ran when that is news (a Slurm job, or more than one machine).
pub fn print_runs(runs: &[RunRecord]) -> anyhow::Result<()> {
    let configs = configs(runs)?;
    let keys = varied_settings(&configs);
    let has_variants = runs.iter().any(|r| r.variant.is_some());
    let mut hosts: Vec<&str> = runs.iter().filter_map(|r| r.host.as_deref()).collect();
    hosts.sort_unstable();
    hosts.dedup();
    let show_where = hosts.len() > 1 || runs.iter().any(|r| r.slurm_job.is_some());
    let mut headers = vec!["run"];
    if has_variants {
        headers.push("variant");
    }
    headers.extend(keys.iter().map(String::as_str));
    headers.extend(["status", "steps", "tries", "train", "val"]);
    if show_where {
        headers.push("ran_on");
    }
    headers.push("error");
    let loss = |l: Option<f64>| l.map_or("-".into(), |l| format!("{l:.4}"));
    let rows: Vec<Vec<String>> = runs
        .iter()
        .zip(&configs)
        .map(|(run, config)| {
            let mut row = vec![run.id.to_string()];
            if has_variants {
                row.push(run.variant.clone().unwrap_or_default());
            }
            row.extend(keys.iter().map(|k| table::cell(config.get(k))));
            let total = table::cell(config.get("steps"));
            row.extend([
                run.status.to_string(),
                format!("{}/{total}", run.steps_done),
                run.attempts.to_string(),
                loss(run.train_loss),
                loss(run.val_loss),
            ]);
            if show_where {
                row.push(ran_on(run));
            }
            row.push(first_line(
                run.error.as_deref().filter(|_| run.status != RunStatus::Completed),
            ));
            row
        })
        .collect();
    table::print(&headers, &rows)?;
    Ok(())
}

/// `node7`, or `node7/job 1234` for a run Slurm placed; `-` before it started.
pub fn ran_on(run: &RunRecord) -> String {
    match (&run.host, &run.slurm_job) {
        (Some(host), Some(job)) => format!("{host}/job {job}"),
        (Some(host), None) => host.clone(),
        (None, _) => "-".into(),
    }
}

fn first_line(text: Option<&str>) -> String {
    let line = text.and_then(|t| t.lines().next()).unwrap_or_default();
    if line.chars().count() > 70 {
        format!("{}…", line.chars().take(69).collect::<String>())
    } else {
        line.to_string()
    }
}

/// After a session: the sweep's table on stdout; on stderr a one-line tally, the best run,
/// where the results are and what to run next. Exit 1 when a run failed or was interrupted,
/// or the session was stopped before every run started (a run stopped early is a result).
pub fn report(
    store: &Store,
    db: &Path,
    sweep: &SweepRecord,
    metric: &Metric,
    tally: &Tally,
) -> anyhow::Result<ExitCode> {
    let runs = store.sweep_runs(sweep.id)?;
    print_runs(&runs)?;
    let mut line = format!(
        "sweep {}: {} completed, {} diverged",
        sweep.name, tally.completed, tally.diverged
    );
    if tally.stopped > 0 {
        line.push_str(&format!(", {} stopped early", tally.stopped));
    }
    line.push_str(&format!(", {} failed, {} interrupted", tally.failed, tally.interrupted));
    if tally.not_started > 0 {
        line.push_str(&format!(", {} never started", tally.not_started));
    }
    if tally.paused > 0 {
        line.push_str(&format!(", {} paused at a rung", tally.paused));
    }
    if tally.after_target > 0 {
        line.push_str(&format!(", {} not needed (the target was reached)", tally.after_target));
    }
    eprintln!("{line} ({} retries)", tally.retried);
    if let Some((run, value)) = metric.best(&runs) {
        let label = &labels(&runs)?[runs.iter().position(|r| r.id == run.id).unwrap_or(0)];
        eprintln!("best by {}: run {} ({label}): {value:.4}", metric.loss, run.id);
    }
    let harness = view::invocation();
    eprintln!(
        "results: sweep {} in {} (checkpoints in {})",
        sweep.name,
        db.display(),
        checkpoint_dir(db, sweep).display()
    );
    if tally.interrupted + tally.not_started + tally.paused > 0 {
        eprintln!(
            "stopped before its end: continue it with `{harness} resume {}`",
            sweep.name
        );
    }
    let name = &sweep.name;
    let mut next = vec![
        (
            format!("{harness} runs --sweep {name}"),
            "its configurations, ranked".to_string(),
        ),
        (
            format!("{harness} report {name}"),
            format!("loss plots and report.md in {}/", figures::default_dir(name).display()),
        ),
    ];
    if let Some((best, _)) = metric.best(&runs) {
        next.push((
            format!("{harness} sample {}", best.id),
            "items from the best run".into(),
        ));
    }
    let width = next.iter().map(|(command, _)| command.len()).max().unwrap_or(0);
    eprintln!("next:");
    for (command, what) in next {
        eprintln!("  {command:width$}  {what}");
    }
    Ok(
        if tally.failed + tally.interrupted + tally.not_started + tally.paused > 0 {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        },
    )
}
