//! `harness bench` (hidden; run by `bench/run.sh` and `scripts/gpu-check.sh`): the speed of
//! one backend and device on one model — the lecture's final model unless the run settings
//! say otherwise (`--model wavenet-conv --optimizer adamw`, `--no-fast-path`, `--batch-size`)
//! — training steps/s after a warm-up, and the seconds of one pass over the whole validation
//! split — as
//! one JSON line, the format of `bench/reference.py`, so the two can be tabulated side by side.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::anyhow;
use clap::Args;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use model::{Backend, ComputeDevice, Observer, Progress, TrainConfig, Trainer};

use crate::data_file;
use crate::error::usage;
use crate::setting_args::{self, SettingArgs};

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Text file with one item per line
    #[arg(long, value_name = "PATH")]
    pub data: PathBuf,
    #[arg(long, value_parser = PossibleValuesParser::new(Backend::NAMES).map(|s| s.parse::<Backend>().expect("a listed name")))]
    pub backend: Backend,
    /// cpu, cuda or cuda:N [default: cuda:0 for backends cuda and vulkan, else cpu]
    #[arg(long, value_name = "DEVICE")]
    pub device: Option<ComputeDevice>,
    /// The run settings (model, optimizer, batch size…) as `harness train` takes them
    #[command(flatten)]
    pub settings: SettingArgs,
    /// Timed training steps
    #[arg(long, default_value_t = 3000)]
    pub timed_steps: u64,
    /// Untimed steps first
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..))]
    pub warmup: u64,
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1024).map(usize::from))]
    pub threads: usize,
}

/// Notes when the warm-up ends and when the last step is done.
struct Stopwatch {
    warmup: u64,
    total: u64,
    started: Option<Instant>,
    seconds: Option<f64>,
}

impl Observer for Stopwatch {
    fn observe(&mut self, progress: &Progress) -> ControlFlow<()> {
        if let Progress::Train { step, .. } = *progress {
            if step == self.warmup {
                self.started = Some(Instant::now());
            } else if step == self.total {
                self.seconds = self.started.map(|s| s.elapsed().as_secs_f64());
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }
}

pub fn execute(args: BenchArgs) -> anyhow::Result<ExitCode> {
    // SAFETY: first thing the command does; no other thread has been started yet.
    unsafe { model::kernels::threads::on_compute_threads(args.threads, || bench(args)) }?
}

fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let data = data_file::load(Some(&args.data))?;
    let total = args.warmup + args.timed_steps;
    // A log point at the end of the warm-up and at the last step; no evaluation between.
    let mut settings = args.settings.values.clone();
    settings.insert("steps".into(), total.into());
    settings.insert("log_every".into(), gcd(args.warmup, total).into());
    settings.insert("eval_every".into(), (total + 1).into());
    let config = TrainConfig::from_settings(&settings)
        .map_err(|e| usage(anyhow!("{}: {}", setting_args::flag(&e.key), e.reason)))?;
    let path = if config.uses_fast_path() { "" } else { "-autodiff" };
    let label = format!("{}{path}", args.backend);
    let on = args.device.unwrap_or(args.backend.default_device());
    let device = args.backend.device(on)?;
    let (model, batch_size) = (config.model, config.batch_size);
    let trainer = Trainer::new(config, &data.dataset, device);
    let params = trainer.trainable_params();
    // The second pass is timed, as the PyTorch scripts time theirs (torch.compile compiles
    // in the first).
    trainer.val_loss();
    let started = Instant::now();
    trainer.val_loss();
    let eval_seconds = started.elapsed().as_secs_f64();
    let mut stopwatch = Stopwatch {
        warmup: args.warmup,
        total,
        started: None,
        seconds: None,
    };
    trainer.run(&mut stopwatch)?;
    let seconds = stopwatch
        .seconds
        .ok_or_else(|| anyhow!("the timed steps did not complete"))?;
    let line = serde_json::json!({
        "impl": label,
        "model": model.to_string(),
        "device": on.to_string(),
        "batch_size": batch_size,
        "threads": args.threads,
        "steps_per_sec": args.timed_steps as f64 / seconds,
        "eval_seconds": eval_seconds,
        "params": params,
    });
    out!("{line}")?;
    Ok(ExitCode::SUCCESS)
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}
