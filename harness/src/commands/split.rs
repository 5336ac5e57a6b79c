//! `harness split`: write a data file's train, val and test items as three files, cut exactly
//! as every run cuts them (`model::Dataset::split_items`), so that another tool (a PyTorch
//! script, Optuna) trains and evaluates on the same items as the harness.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::Args;
use model::TrainOptions;

use crate::data_file;
use crate::error::usage;

const PARTS: [&str; 3] = ["train.txt", "val.txt", "test.txt"];

#[derive(Debug, Args)]
pub struct SplitArgs {
    /// Folder to write train.txt, val.txt and test.txt into (created if missing)
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Text file with one item per line (default: the names dataset, downloaded once)
    #[arg(long, env = "HARNESS_DATA", value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// Seed of the shuffle before the 80/10/10 cut (a run's `split_seed`)
    #[arg(long, default_value_t = TrainOptions::default().split_seed)]
    pub split_seed: u64,
    /// Replace the three files if they exist
    #[arg(long)]
    pub force: bool,
}

pub fn execute(args: SplitArgs) -> anyhow::Result<ExitCode> {
    let targets = PARTS.map(|name| args.out_dir.join(name));
    if !args.force
        && let Some(existing) = targets.iter().find(|path| path.exists())
    {
        return Err(usage(anyhow!(
            "{} exists; pass --force to replace it, or choose another --out-dir",
            existing.display()
        )));
    }
    let data = data_file::load(args.data.as_deref())?;
    fs::create_dir_all(&args.out_dir).with_context(|| format!("cannot create {}", args.out_dir.display()))?;
    let parts = data.dataset.split_items(args.split_seed);
    for (path, items) in targets.iter().zip(&parts) {
        write_lines(path, items)?;
    }
    eprintln!(
        "{} items of {} split with seed {}: {} train, {} val, {} test, in {}",
        data.dataset.items().len(),
        data.path.display(),
        args.split_seed,
        parts[0].len(),
        parts[1].len(),
        parts[2].len(),
        args.out_dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes `items` one per line through a temporary file renamed into place, so a reader
/// never sees half a split.
fn write_lines(path: &Path, items: &[&str]) -> anyhow::Result<()> {
    let partial = path.with_extension("txt.partial");
    let mut text = items.join("\n");
    text.push('\n');
    fs::write(&partial, text).with_context(|| format!("cannot write {}", partial.display()))?;
    fs::rename(&partial, path).with_context(|| format!("cannot move {} into place", path.display()))
}
