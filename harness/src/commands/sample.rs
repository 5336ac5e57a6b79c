//! `harness sample RUN`: generate items from a run's last checkpoint, each marked when it
//! is an item of the run's training split (memorised rather than made up).

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::anyhow;
use clap::Args;
use model::{Backend, Trainer};
use results::Store;

use crate::data_file;
use crate::error::usage;
use crate::stored;

#[derive(Debug, Args)]
pub struct SampleArgs {
    /// The run's id (`harness runs` lists them)
    pub run: i64,
    /// How many items to generate
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub count: u32,
    /// Softmax temperature: below 1 more typical items, above 1 more unusual ones
    #[arg(long, default_value_t = 1.0)]
    pub temperature: f64,
    /// Seed of the draws
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// SQLite database to read
    #[arg(long, env = "HARNESS_DB", default_value = "harness.db", value_name = "PATH")]
    pub db: PathBuf,
}

pub fn execute(args: SampleArgs) -> anyhow::Result<ExitCode> {
    if !(args.temperature.is_finite() && args.temperature > 0.0) {
        return Err(usage(anyhow!(
            "--temperature must be a positive number, got {}",
            args.temperature
        )));
    }
    let store = stored::open_existing(&args.db, Store::open_read_only)?;
    let run = stored::run(&store, args.run)?;
    let sweep = stored::find_sweep(&store, &run.sweep_name, &args.db)?;
    let checkpoint = stored::checkpoint_dir(&args.db, &sweep).join(format!("run-{}.ckpt", run.id));
    if !checkpoint.is_file() {
        return Err(usage(anyhow!(
            "run {} has no checkpoint at {} (a run is sampled from the checkpoint its training left)",
            run.id,
            checkpoint.display()
        )));
    }
    let since = format!("run {} was trained", run.id);
    let data = data_file::load_recorded(run.data_path.as_ref(), &run.data_sha256, &since)?;
    let backend: Backend = run.backend.parse().map_err(|e: String| anyhow!(e))?;
    let device = backend
        .device(backend.default_device())
        .map_err(|e| usage(anyhow!(e)))?;
    let trainer = Trainer::resume(&checkpoint, &data.dataset, device)?;
    let [train, _, _] = data.dataset.split_items(trainer.config().split_seed);
    let seen: HashSet<&str> = train.into_iter().collect();
    let items = trainer.sample(args.count as usize, args.temperature, args.seed);
    let width = items.iter().map(|i| i.chars().count()).max().unwrap_or(0);
    let mut known = 0;
    for item in &items {
        if seen.contains(item.as_str()) {
            known += 1;
            out!("{item:<width$}  (in the training data)")?;
        } else {
            out!("{item}")?;
        }
    }
    eprintln!(
        "run {} at step {}: {known} of {} samples are items of its training split",
        run.id,
        trainer.steps_done(),
        items.len()
    );
    Ok(ExitCode::SUCCESS)
}
