//! `harness resume SWEEP`: continue a sweep after its scheduler stopped (Ctrl-C, a crash,
//! kill -9, power loss). Settled runs stay as they are; pending, running and interrupted
//! ones restart from their checkpoints; `--retry-failed` gives failed runs another go.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::anyhow;
use clap::Args;
use results::{RunStatus, Store};

use crate::data_source;
use crate::error::usage;
use crate::session::{self, Session};
use crate::worker_slots::SlotArgs;

#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The sweep's name (`harness status` lists them)
    pub sweep: String,
    #[command(flatten)]
    pub slots: SlotArgs,
    /// Also rerun runs that failed for good (from their last checkpoint)
    #[arg(long)]
    pub retry_failed: bool,
    /// SQLite database the sweep is in
    #[arg(long, env = "HARNESS_DB", default_value = "harness.db", value_name = "PATH")]
    pub db: PathBuf,
}

pub fn execute(args: ResumeArgs) -> anyhow::Result<ExitCode> {
    let mut store = session::open_existing(&args.db, Store::open)?;
    let sweep = session::find_sweep(&store, &args.sweep, &args.db)?;
    let settings = session::settings(&sweep)?;
    let all = store.sweep_runs(sweep.id)?;
    let todo: Vec<_> = all
        .iter()
        .filter(|run| match run.status {
            RunStatus::Pending | RunStatus::Running | RunStatus::Interrupted => true,
            RunStatus::Failed => args.retry_failed,
            RunStatus::Completed | RunStatus::Diverged => false,
        })
        .cloned()
        .collect();
    if todo.is_empty() {
        session::print_runs(&all)?;
        eprintln!("sweep {}: nothing to resume, every run is settled", sweep.name);
        return Ok(ExitCode::SUCCESS);
    }
    let mut checked: Vec<(&str, &str)> = Vec::new();
    for run in &todo {
        let data = (run.data_path.as_str(), run.data_sha256.as_str());
        if checked.contains(&data) {
            continue;
        }
        checked.push(data);
        let now = data_source::load(Some(run.data_path.as_ref()))?;
        if now.sha256 != run.data_sha256 {
            return Err(usage(anyhow!(
                "the data file {} changed since sweep `{}` was launched (sha256 {} then, {} now); \
                 put the original back to resume",
                run.data_path,
                sweep.name,
                run.data_sha256,
                now.sha256
            )));
        }
    }
    let needs = todo
        .iter()
        .map(session::requested_device)
        .collect::<anyhow::Result<_>>()
        .map_err(usage)?;
    let slots = args.slots.resolve(&settings, &needs)?;
    let session = Session {
        db: &args.db,
        sweep: &sweep,
        settings,
        slots,
    };
    let tally = session.run(&mut store, &todo, &all)?;
    session::report(&store, &sweep, &session.settings.metric, &tally)
}
