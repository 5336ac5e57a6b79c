//! `harness worker` (hidden): trains the one run described by the `Job` on stdin and
//! streams `Event`s on stdout (see `workers::protocol`); a judged job then reads a verdict from
//! stdin after each evaluation. Resumes from the job's checkpoint when it exists.
//! SIGINT/SIGTERM stop it at its next log point (every `log_every` steps), with a checkpoint
//! written; so does the end of its stdin while it waits for a verdict (the scheduler is gone).

use std::io::{BufRead, Write};
use std::ops::ControlFlow;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use model::{Observer, Progress, Trainer, Verdict};

use crate::data_file;
use crate::session::interrupt::{self, StopFlag};
use crate::workers::host;
use crate::workers::protocol::{Event, Job};

#[derive(Debug, Args)]
pub struct WorkerArgs {}

pub fn execute(_args: WorkerArgs) -> anyhow::Result<ExitCode> {
    let (host, slurm_job) = (host::name(), host::slurm_job());
    let on_cluster = slurm_job.is_some();
    let ran = work(host.clone(), slurm_job);
    // On a cluster, say which node could not read a file or reach a GPU.
    if on_cluster {
        ran.with_context(|| format!("on Slurm node {host}"))
    } else {
        ran
    }
}

fn work(host: String, slurm_job: Option<String>) -> anyhow::Result<ExitCode> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the job from stdin")?;
    let job: Job = serde_json::from_str(&line).context("the worker expects one JSON job on stdin")?;
    // SAFETY: no other thread has been started yet.
    unsafe { model::kernels::threads::on_compute_threads(job.threads, || train(job, host, slurm_job)) }?
}

fn train(job: Job, host: String, slurm_job: Option<String>) -> anyhow::Result<ExitCode> {
    let data = data_file::load_recorded(
        &job.data_path,
        &job.data_sha256,
        &format!("run {} was planned", job.run_id),
    )?;
    let device = job.backend.device(job.device)?;
    let stop = interrupt::install("worker: stopping at the next log point")?;
    let trainer = if job.checkpoint.exists() {
        // Population-based training gives a run new values of what can change part-way.
        let resumed = if job.settings_change {
            Trainer::resume_as(&job.checkpoint, &data.dataset, device, job.config.clone())
        } else {
            Trainer::resume(&job.checkpoint, &data.dataset, device)
        };
        let trainer = resumed.with_context(|| format!("run {} cannot resume from its checkpoint", job.run_id))?;
        if *trainer.config() != job.config {
            bail!(
                "the checkpoint {} belongs to another configuration than run {}",
                job.checkpoint.display(),
                job.run_id
            );
        }
        trainer
    } else {
        Trainer::new(job.config.clone(), &data.dataset, device)
    };
    let trainer = trainer.checkpoint_to(job.checkpoint.clone(), job.checkpoint_every);
    let mut events = EventStream {
        out: std::io::stdout().lock(),
        stop,
        judged: job.judged,
        error: None,
    };
    events.send(&Event::Started {
        device: job.device,
        device_name: job.device.hardware_name(),
        host,
        slurm_job,
        steps_done: trainer.steps_done(),
        trainable_params: trainer.trainable_params(),
        history: trainer.history().to_vec(),
    })?;
    let outcome = trainer.run(&mut events)?;
    if let Some(err) = events.error {
        return Err(err).context("cannot send events to the scheduler");
    }
    events.send(&Event::Finished { outcome })?;
    Ok(ExitCode::SUCCESS)
}

/// Writes events as JSON lines; a failed write (the scheduler is gone) stops the run.
struct EventStream<W: Write> {
    out: W,
    stop: StopFlag,
    /// Wait for a verdict on stdin after each evaluation.
    judged: bool,
    error: Option<std::io::Error>,
}

impl<W: Write> EventStream<W> {
    fn send(&mut self, event: &Event) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(event).expect("events always serialize");
        line.push(b'\n');
        self.out.write_all(&line)?;
        self.out.flush()
    }
}

impl<W: Write> Observer for EventStream<W> {
    fn observe(&mut self, progress: &Progress) -> ControlFlow<()> {
        if let Err(err) = self.send(&Event::Point {
            progress: progress.clone(),
        }) {
            self.error = Some(err);
            return ControlFlow::Break(());
        }
        self.stop.flow()
    }

    fn checkpointed(&mut self, step: u64) {
        if let Err(err) = self.send(&Event::Checkpointed { step }) {
            self.error.get_or_insert(err);
        }
    }

    fn gates_evaluations(&self) -> bool {
        self.judged
    }

    /// Asks the scheduler and reads its answer; no answer (stdin closed or garbled) or a
    /// stop signal meanwhile interrupts the run, which resumes at this evaluation later.
    fn verdict(&mut self, step: u64) -> Verdict {
        if let Err(err) = self.send(&Event::AwaitingVerdict { step }) {
            self.error.get_or_insert(err);
            return Verdict::Interrupt;
        }
        let mut line = String::new();
        let verdict = match std::io::stdin().lock().read_line(&mut line) {
            Ok(read) if read > 0 => serde_json::from_str(&line).unwrap_or(Verdict::Interrupt),
            _ => Verdict::Interrupt,
        };
        if self.stop.flow().is_break() {
            Verdict::Interrupt
        } else {
            verdict
        }
    }
}
