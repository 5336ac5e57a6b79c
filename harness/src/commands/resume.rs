//! `harness resume SWEEP`: continue a sweep after its scheduler stopped (Ctrl-C, a crash,
//! kill -9, power loss). Settled runs stay as they are; pending, running and interrupted
//! ones restart from their checkpoints; a `bayes` search proposes the runs it has left and
//! `halving:` sends each rung's best on; `--retry-failed` gives failed runs another go (under
//! `halving:`, those whose rung is not yet ranked).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use results::{RunStatus, SweepRecord};

use crate::data_file;
use crate::error::usage;
use crate::serve::ServeFlag;
use crate::session::proposer::halving::{rung_ranked, settled_runs};
use crate::session::sweep::Session;
use crate::session::worker_slots::SlotArgs;
use crate::spec::{self, Method};
use crate::stored;
use crate::view::{self, sweep_table};

#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The sweep's name (`harness status` lists them)
    pub sweep: String,
    #[command(flatten)]
    pub slots: SlotArgs,
    #[command(flatten)]
    pub serve: ServeFlag,
    /// Also rerun runs that failed for good (from their last checkpoint)
    #[arg(long)]
    pub retry_failed: bool,
    /// SQLite database the sweep is in
    #[arg(long, env = "HARNESS_DB", default_value = "harness.db", value_name = "PATH")]
    pub db: PathBuf,
}

/// The method of the sweep file stored with `sweep` (`None`: a sweep of `harness train`).
fn stored_method(sweep: &SweepRecord) -> anyhow::Result<Option<Method>> {
    match &sweep.spec {
        Some(text) => Ok(Some(spec::stored_method(text, &sweep.name)?)),
        None => Ok(None),
    }
}

/// Whether a run in `status` runs again on resume. A paused run does: it waits for a
/// promotion, or is stopped and evaluated at the sweep's end.
fn resumes(status: RunStatus, retry_failed: bool) -> bool {
    match status {
        RunStatus::Pending | RunStatus::Running | RunStatus::Interrupted | RunStatus::Paused => true,
        RunStatus::Failed => retry_failed,
        RunStatus::Completed | RunStatus::Diverged | RunStatus::Stopped => false,
    }
}

pub fn execute(args: ResumeArgs) -> anyhow::Result<ExitCode> {
    let mut store = stored::open_existing(&args.db, stored::open_writer)?;
    let sweep = stored::find_sweep(&store, &args.sweep, &args.db)?;
    let settings = stored::settings(&sweep)?;
    let all = store.sweep_runs(sweep.id)?;
    let mut todo: Vec<_> = all
        .iter()
        .filter(|run| resumes(run.status, args.retry_failed))
        .cloned()
        .collect();
    if let Some(rule) = &settings.halving {
        let runs = settled_runs(rule, settings.metric, &all)?;
        todo.retain(|run| {
            let ranked = run.status == RunStatus::Failed && rung_ranked(&runs, run.id);
            if ranked {
                eprintln!(
                    "sweep {}: run {} is not retried: its rung was ranked without it and its best went on",
                    sweep.name, run.id
                );
            }
            !ranked
        });
    }
    if todo.is_empty() && !Session::proposes_more(&store, (&sweep, &settings), &all)? {
        sweep_table::print_runs(&all, &settings.metric, false)?;
        let failed = all.iter().filter(|r| r.status == RunStatus::Failed).count();
        if failed > 0 && !args.retry_failed {
            eprintln!(
                "sweep {}: nothing to resume; {failed} run{} failed for good (rerun with `{} resume {} --retry-failed`)",
                sweep.name,
                view::plural(failed),
                view::invocation(),
                sweep.name
            );
        } else {
            eprintln!("sweep {}: nothing to resume, every run is settled", sweep.name);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut checked: Vec<(&str, &str)> = Vec::new();
    for run in &todo {
        let data = (run.data_path.as_str(), run.data_sha256.as_str());
        if checked.contains(&data) {
            continue;
        }
        checked.push(data);
        let since = format!("sweep `{}` was launched", sweep.name);
        data_file::load_recorded(run.data_path.as_ref(), &run.data_sha256, &since)?;
    }
    // A search that proposes runs gives them its stored runs' devices: slots for those too,
    // even when nothing is left to train but a proposal.
    let proposes = settings.halving.is_some() || stored_method(&sweep)? == Some(Method::Bayes);
    let needs = if proposes { &all } else { &todo }
        .iter()
        .map(stored::requested_device)
        .collect::<anyhow::Result<_>>()
        .map_err(usage)?;
    let slots = args.slots.resolve(&settings, &needs)?;
    let dashboard = args.serve.start(&args.db, &format!("sweep/{}", sweep.name))?;
    let session = Session {
        db: &args.db,
        sweep: &sweep,
        settings,
        slots,
    };
    let tally = session.run(&mut store, &todo, &all)?;
    drop(dashboard);
    sweep_table::report(&store, &args.db, &sweep, &session.settings.metric, &tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paused_runs_keep_a_sweep_resumable_and_settled_ones_do_not() {
        let again: Vec<RunStatus> = RunStatus::ALL.into_iter().filter(|s| resumes(*s, false)).collect();
        assert_eq!(
            again,
            [
                RunStatus::Pending,
                RunStatus::Running,
                RunStatus::Paused,
                RunStatus::Interrupted
            ]
        );
        assert!(resumes(RunStatus::Failed, true));
    }
}
