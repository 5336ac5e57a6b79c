//! `harness train`: train one model with the lecture's defaults (or the flags given),
//! record the run as a one-run sweep in the database, print final losses and samples.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, anyhow};
use clap::Args;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use model::{Backend, ComputeDevice, Ending, Observer, Outcome, Progress, TrainConfig, Trainer};
use results::{NewSweep, RanOn, StoreError, SweepKind};

use crate::data_file;
use crate::error::usage;
use crate::recording::Recorder;
use crate::recording::{self, run_result};
use crate::session::interrupt::{self, StopFlag};
use crate::setting_args::{self, SettingArgs};
use crate::stored;
use crate::view::progress::TrainProgress;
use crate::workers::host;

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Text file with one item per line [default: the names dataset, downloaded once]
    #[arg(long, env = "HARNESS_DATA", value_name = "PATH")]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub settings: SettingArgs,
    #[arg(long, default_value_t = Backend::DEFAULT,
          value_parser = PossibleValuesParser::new(Backend::NAMES).map(|s| s.parse::<Backend>().expect("a listed name")))]
    pub backend: Backend,
    /// Where the backend computes: cpu, cuda or cuda:N [default: cuda:0 for backends cuda and vulkan, else cpu]
    #[arg(long, value_name = "DEVICE")]
    pub device: Option<ComputeDevice>,
    /// CPU threads for the backend
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1024).map(usize::from))]
    pub threads: usize,
    /// Name of the one-run sweep this run is stored under [default: train-<id>]
    #[arg(long)]
    pub name: Option<String>,
    /// SQLite database to record the run in
    #[arg(long, env = "HARNESS_DB", default_value = "harness.db", value_name = "PATH")]
    pub db: PathBuf,
}

impl TrainArgs {
    fn config(&self) -> anyhow::Result<TrainConfig> {
        TrainConfig::from_settings(&self.settings.values)
            .map_err(|e| usage(anyhow!("{}: {}", setting_args::flag(&e.key), e.reason)))
    }
}

pub fn execute(args: TrainArgs) -> anyhow::Result<ExitCode> {
    // SAFETY: first thing the command does; no other thread has been started yet.
    unsafe { model::kernels::threads::on_compute_threads(args.threads, || train(args)) }?
}

fn train(args: TrainArgs) -> anyhow::Result<ExitCode> {
    let config = args.config()?;
    let on = args.device.unwrap_or(args.backend.default_device());
    let device = args.backend.device(on).map_err(|e| usage(anyhow!(e)))?;
    let data = data_file::load(args.data.as_deref())?;
    config.check_data(&data.dataset).map_err(|e| {
        usage(anyhow!(
            "{} {} (data: {})",
            setting_args::flag(&e.key),
            e.reason,
            data.path.display()
        ))
    })?;
    let interrupted = interrupt::install("stopping at the next log point (Ctrl-C again to quit at once)")?;

    let started = Instant::now();
    let trainer = Trainer::new(config.clone(), &data.dataset, device);
    let mut store =
        stored::open_writer(&args.db).with_context(|| format!("cannot open the database {}", args.db.display()))?;
    tracing::debug!(db = %args.db.display(), schema = store.schema_version()?, "database open");
    let sweep = NewSweep {
        name: args.name.clone(),
        kind: SweepKind::Train,
        spec: None,
        spec_sha256: None,
        settings_json: None,
    };
    let new_run = recording::new_run(&config, None, args.backend, on.into(), args.threads, &data);
    let created = store
        .create_sweep_if(&sweep, &[new_run], stored::no_stale_checkpoints(&args.db))
        .map_err(|e| match e {
            StoreError::SweepExists(_) => usage(anyhow!(e).context("choose another --name")),
            other => stored::refused_as_usage(other),
        })?;
    let run = created.runs[0];
    // The run's checkpoint, written when it ends (or stops): what `sample` and `resume` read.
    let sweep_record = store
        .find_sweep(&created.name)?
        .ok_or_else(|| anyhow!("sweep `{}` vanished from {}", created.name, args.db.display()))?;
    let checkpoints = stored::checkpoint_dir(&args.db, &sweep_record);
    std::fs::create_dir_all(&checkpoints).with_context(|| format!("cannot create {}", checkpoints.display()))?;
    let trainer = trainer.checkpoint_to(checkpoints.join(format!("run-{run}.ckpt")), config.steps);
    store.mark_running(run)?;
    let ran_on = RanOn {
        device: on.to_string(),
        device_name: on.hardware_name(),
        host: host::name(),
        slurm_job: host::slurm_job(),
    };
    store.record_ran_on(run, &ran_on)?;
    eprintln!(
        "run {run} (sweep {}): {} on {} items, {} parameters, {} steps on {}",
        created.name,
        config.model,
        data.dataset.items().len(),
        trainer.trainable_params(),
        config.steps,
        args.backend
    );

    let mut observer = TrainObserver {
        recorder: Recorder::new(&mut store, run),
        progress: TrainProgress::new(config.steps),
        interrupted,
        store_error: None,
    };
    let outcome = trainer.run(&mut observer)?;
    observer.progress.finish();
    if let Some(err) = observer.store_error {
        return Err(anyhow!(err).context(format!("could not record run {run} in {}", args.db.display())));
    }
    let result = run_result(&outcome, started.elapsed().as_secs_f64());
    observer
        .recorder
        .finish(&result)
        .with_context(|| format!("could not record the result of run {run}"))?;
    print_summary(run.0, &created.name, &config, &outcome)?;
    Ok(match outcome.ending {
        Ending::Completed | Ending::Diverged | Ending::Stopped => ExitCode::SUCCESS,
        Ending::Interrupted => ExitCode::FAILURE,
    })
}

struct TrainObserver<'a> {
    recorder: Recorder<'a>,
    progress: TrainProgress,
    interrupted: StopFlag,
    store_error: Option<StoreError>,
}

impl Observer for TrainObserver<'_> {
    fn observe(&mut self, progress: &Progress) -> ControlFlow<()> {
        self.progress.update(progress);
        if let Err(err) = self.recorder.record(progress) {
            self.store_error = Some(err);
            return ControlFlow::Break(());
        }
        self.interrupted.flow()
    }
}

fn print_summary(run: i64, sweep: &str, config: &TrainConfig, outcome: &Outcome) -> std::io::Result<()> {
    let status = match outcome.ending {
        Ending::Completed => "completed",
        Ending::Diverged => "diverged (the loss became NaN or infinite)",
        Ending::Stopped => "stopped early",
        Ending::Interrupted => "interrupted",
    };
    out!(
        "run {run} (sweep {sweep}): {status} after {} of {} steps",
        outcome.steps_done,
        config.steps
    )?;
    if let Some(losses) = outcome.losses {
        out!(
            "loss: train {:.4}  val {:.4}  test {:.4}",
            losses.train,
            losses.val,
            losses.test
        )?;
    }
    out!(
        "time: {:.1} s training ({:.0} steps/s), {:.1} s evaluating",
        outcome.train_seconds,
        outcome.steps_per_second(),
        outcome.eval_seconds
    )?;
    if !outcome.samples.is_empty() {
        out!("samples:")?;
        for sample in &outcome.samples {
            out!("  {sample}")?;
        }
    }
    Ok(())
}
