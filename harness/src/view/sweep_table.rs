//! A sweep's runs as a table on stdout (`status SWEEP`, and after `launch` and `resume`), and
//! how a session ended: its tally on stderr, the best run, what to run next, the exit code.
//! A large sweep's table lists the runs that need eyes, not every run.

use std::path::Path;
use std::process::ExitCode;

use results::{RunRecord, RunStatus, Store, SweepRecord};

use crate::scheduler::Tally;
use crate::spec::Metric;
use crate::stored::checkpoint_dir;
use crate::view::labels::{configs, labels, varied_settings};
use crate::view::table;
use crate::view::{self, figures};

/// A sweep of at most this many runs is listed in full; a larger one lists the runs that
/// need eyes (`status SWEEP --all` lists every one).
const LISTED_IN_FULL: usize = 40;
/// In a larger sweep, at most this many of each kind are listed: the first runs training…
const RUNNING_LISTED: usize = 20;
/// …the first held at an ASHA rung…
const PAUSED_LISTED: usize = 10;
/// …the latest that failed or were interrupted…
const FAILURES_LISTED: usize = 10;
/// …and the best by the sweep's metric.
const BEST_LISTED: usize = 10;

/// The sweep's runs as a table on stdout — id, what sets each apart, status, progress,
/// losses, and where each ran when that is news (a Slurm job, or more than one machine) —,
/// every run when `all` or the sweep is small, else those `worth_listing` picks, with a note
/// on stderr of what was left out.
pub fn print_runs(runs: &[RunRecord], metric: &Metric, all: bool) -> anyhow::Result<()> {
    let configs = configs(runs)?;
    // Varied steps show in the progress column, `done/steps`, not in a column of their own.
    let keys: Vec<String> = varied_settings(&configs)
        .into_iter()
        .filter(|key| key != "steps")
        .collect();
    let shown = if all || runs.len() <= LISTED_IN_FULL {
        (0..runs.len()).collect()
    } else {
        let (shown, note) = worth_listing(runs, metric);
        eprintln!("{note}");
        shown
    };
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
    let rows: Vec<Vec<String>> = shown
        .into_iter()
        .map(|i| {
            let (run, config) = (&runs[i], &configs[i]);
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

/// Of a large sweep, the indices of the runs to list — the first running, the first paused,
/// the latest that failed or were interrupted, then the best by `metric` — and a line that
/// counts every status and says what the table holds and how to see the rest.
fn worth_listing(runs: &[RunRecord], metric: &Metric) -> (Vec<usize>, String) {
    let with = |statuses: &[RunStatus]| -> Vec<usize> {
        (0..runs.len())
            .filter(|&i| statuses.contains(&runs[i].status))
            .collect()
    };
    let (running, paused) = (with(&[RunStatus::Running]), with(&[RunStatus::Paused]));
    let failures = with(&[RunStatus::Failed, RunStatus::Interrupted]);
    let mut shown: Vec<usize> = running.iter().take(RUNNING_LISTED).copied().collect();
    shown.extend(paused.iter().take(PAUSED_LISTED));
    shown.extend(&failures[failures.len().saturating_sub(FAILURES_LISTED)..]);
    let mut scored: Vec<(usize, f64)> = (0..runs.len())
        .filter_map(|i| Some((i, metric.goal.minimized(metric.loss.of(&runs[i])?))))
        .filter(|(_, value)| !value.is_nan())
        .collect();
    let best = BEST_LISTED.min(scored.len());
    if best > 0 {
        scored.select_nth_unstable_by(best - 1, |a, b| a.1.total_cmp(&b.1));
        scored.truncate(best);
        scored.sort_by(|a, b| a.1.total_cmp(&b.1));
    }
    shown.extend(scored.iter().map(|&(i, _)| i));
    let counts: Vec<String> = RunStatus::ALL
        .iter()
        .filter_map(|&status| {
            let n = runs.iter().filter(|r| r.status == status).count();
            (n > 0).then(|| format!("{n} {status}"))
        })
        .collect();
    let of = |listed: usize, all: usize, what: &str| match all {
        0 => None,
        _ if listed == all => Some(format!("the {all} {what}")),
        _ => Some(format!("{listed} of the {all} {what}")),
    };
    let parts: Vec<String> = [
        of(running.len().min(RUNNING_LISTED), running.len(), "running"),
        of(paused.len().min(PAUSED_LISTED), paused.len(), "paused"),
        of(
            failures.len().min(FAILURES_LISTED),
            failures.len(),
            "failed or interrupted (the latest)",
        ),
        (best > 0).then(|| format!("the best {best} by {}", metric.loss)),
    ]
    .into_iter()
    .flatten()
    .collect();
    let sweep = runs.first().map_or("SWEEP", |run| run.sweep_name.as_str());
    let note = format!(
        "{} runs ({}); listed: {} (`{} status {sweep} --all` lists every run)",
        runs.len(),
        counts.join(", "),
        parts.join(", "),
        view::invocation()
    );
    (shown, note)
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
    print_runs(&runs, metric, false)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Goal;
    use crate::view::test_run as run;

    /// Runs 1–45 completed (val 3.00 − id/100: the later, the better), 46–57 failed, 58
    /// running, 59 paused, 60 pending.
    fn big_sweep() -> Vec<RunRecord> {
        (1..=60)
            .map(|id| match id {
                1..=45 => run(id, RunStatus::Completed, Some(3.0 - id as f64 / 100.0), "{}"),
                46..=57 => run(id, RunStatus::Failed, None, "{}"),
                58 => run(id, RunStatus::Running, None, "{}"),
                59 => run(id, RunStatus::Paused, None, "{}"),
                _ => run(id, RunStatus::Pending, None, "{}"),
            })
            .collect()
    }

    #[test]
    fn a_large_sweep_lists_its_runs_in_flight_its_latest_failures_and_its_best() {
        let runs = big_sweep();
        let ids =
            |metric: &Metric| -> Vec<i64> { worth_listing(&runs, metric).0.iter().map(|&i| runs[i].id.0).collect() };
        let mut expected = vec![58, 59];
        expected.extend(48..=57);
        expected.extend((36..=45).rev());
        assert_eq!(ids(&Metric::default()), expected);
        let maximize = Metric {
            goal: Goal::Maximize,
            ..Metric::default()
        };
        assert_eq!(
            ids(&maximize)[12..],
            (1..=10).collect::<Vec<_>>(),
            "the highest values when maximizing"
        );
        let (_, note) = worth_listing(&runs, &Metric::default());
        assert!(
            note.starts_with(
                "60 runs (1 pending, 1 running, 45 completed, 1 paused, 12 failed); listed: the 1 running, \
                 the 1 paused, 10 of the 12 failed or interrupted (the latest), the best 10 by val_loss"
            ),
            "{note}"
        );
        assert!(note.contains(" status sweep --all` lists every run"), "{note}");
    }
}
