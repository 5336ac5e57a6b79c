//! Running a stored sweep, for `launch` and `resume` alike, on the worker slots they resolved
//! (`worker_slots`): lock it (one scheduler per sweep), turn its unfinished runs into worker
//! jobs, run the scheduler on a tokio runtime with Ctrl-C and SIGTERM wired to it, then
//! print the sweep's table.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use model::{Backend, ComputeDevice, TrainConfig};
use results::{RunId, RunRecord, RunStatus, Store, SweepRecord};
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::error::usage;
use crate::placement::DeviceRequest;
use crate::scheduler::launcher::ProcessLauncher;
use crate::scheduler::{Limits, QueuedRun, Scheduler, Tally};
use crate::spec::{Metric, SweepSettings};
use crate::sweep_progress::SweepProgress;
use crate::table;
use crate::worker::Job;
use crate::worker_slots::WorkerSlots;
use results::summary::varied_keys;

/// Where a sweep's checkpoints (and its lock) live: next to the database.
pub fn checkpoint_dir(db: &Path, sweep: &SweepRecord) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".checkpoints");
    db.with_file_name(name).join(format!("sweep-{}", sweep.id.0))
}

/// Where a stored run asks to compute (runs from before schema 6: its backend's default).
pub fn requested_device(run: &RunRecord) -> anyhow::Result<(Backend, DeviceRequest)> {
    let backend: Backend = run
        .backend
        .parse()
        .map_err(|e: String| anyhow!("run {}: {e}", run.id))?;
    let request = match &run.requested_device {
        Some(text) => text.parse().map_err(|e: String| anyhow!("run {}: {e}", run.id))?,
        None => DeviceRequest::default_for(backend),
    };
    Ok((backend, request))
}

/// Holds the sweep's lock file until dropped (or the process dies, even by SIGKILL).
fn lock(dir: &Path, sweep: &SweepRecord) -> anyhow::Result<File> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join("lock");
    let file = File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
    file.try_lock().map_err(|_| {
        usage(anyhow!(
            "sweep `{}` is being run by another harness process (it holds {}); wait for it or stop it first",
            sweep.name,
            path.display()
        ))
    })?;
    Ok(file)
}

/// One line per run naming what sets it apart: its variant and the values that vary
/// among the runs of that variant.
pub fn labels(runs: &[RunRecord]) -> anyhow::Result<Vec<String>> {
    Ok(labels_without(runs, &configs(runs)?, &[]))
}

/// `labels`, leaving the keys in `skip` out (a replicate group's label skips `seed`).
pub fn labels_without(runs: &[RunRecord], configs: &[Map<String, Value>], skip: &[&str]) -> Vec<String> {
    let mut varied: HashMap<Option<&str>, Vec<String>> = HashMap::new();
    for run in runs {
        let variant = run.variant.as_deref();
        varied.entry(variant).or_insert_with(|| {
            let group: Vec<&Map<String, Value>> = runs
                .iter()
                .zip(configs)
                .filter(|(r, _)| r.variant.as_deref() == variant)
                .map(|(_, c)| c)
                .collect();
            varied_keys(group)
                .into_iter()
                .filter(|k| !skip.contains(&k.as_str()))
                .collect()
        });
    }
    runs.iter()
        .zip(configs)
        .map(|(run, config)| {
            let keys = &varied[&run.variant.as_deref()];
            let values = keys.iter().map(|k| format!("{k}={}", table::cell(config.get(k))));
            run.variant.iter().cloned().chain(values).collect::<Vec<_>>().join(" ")
        })
        .collect()
}

/// Each run's settings by name: its training options, `backend` and `device` (asked for).
pub fn configs(runs: &[RunRecord]) -> anyhow::Result<Vec<Map<String, Value>>> {
    runs.iter()
        .map(|run| {
            let mut config: Map<String, Value> = serde_json::from_str(&run.config_json)
                .with_context(|| format!("run {} has an unreadable configuration", run.id))?;
            let (backend, device) = requested_device(run)?;
            config.insert("backend".into(), Value::String(backend.to_string()));
            config.insert("device".into(), Value::String(device.to_string()));
            Ok(config)
        })
        .collect()
}

pub struct Session<'a> {
    pub db: &'a Path,
    pub sweep: &'a SweepRecord,
    pub settings: SweepSettings,
    pub slots: WorkerSlots,
}

impl Session<'_> {
    /// Trains `todo` (runs of the sweep, in order) and returns how they ended.
    pub fn run(&self, store: &mut Store, todo: &[RunRecord], all: &[RunRecord]) -> anyhow::Result<Tally> {
        let dir = checkpoint_dir(self.db, self.sweep);
        let _lock = lock(&dir, self.sweep)?;
        let threads = self.slots.threads;
        let labels: HashMap<RunId, String> = all.iter().map(|r| r.id).zip(labels(all)?).collect();
        let queue = todo
            .iter()
            .map(|run| self.queued(run, labels.get(&run.id).cloned().unwrap_or_default(), &dir))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let settled = all.len() - todo.len();
        let cpu_runs = queue.iter().filter(|run| !run.request.is_gpu()).count();
        let mut slots = Vec::new();
        if cpu_runs > 0 {
            let workers = self.slots.workers.min(cpu_runs);
            slots.push(format!(
                "{workers} CPU worker{} × {threads} thread{}",
                plural(workers),
                plural(threads)
            ));
        }
        if cpu_runs < queue.len() {
            slots.push(self.slots.gpus.to_string());
        }
        eprintln!(
            "sweep {}: {} of {} runs to train, {}",
            self.sweep.name,
            todo.len(),
            all.len(),
            slots.join(" and ")
        );
        let limits = Limits {
            workers: self.slots.workers,
            gpus: self.slots.gpus.clone(),
            max_retries: self.settings.max_retries,
            timeout: self.settings.timeout,
        };
        let launcher = ProcessLauncher {
            exe: std::env::current_exe().context("cannot find the harness executable to start workers")?,
        };
        let mut display = SweepProgress::new(all.len(), settled);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let tally = runtime.block_on(async {
            let interrupts = forward_signals()?;
            Scheduler::run(queue, limits, &launcher, store, &mut display, interrupts).await
        });
        display.finish();
        tally
    }

    fn queued(&self, run: &RunRecord, label: String, dir: &Path) -> anyhow::Result<QueuedRun> {
        let config: TrainConfig = serde_json::from_str(&run.config_json)
            .with_context(|| format!("run {} has a configuration this harness cannot use", run.id))?;
        let (backend, request) = requested_device(run)?;
        Ok(QueuedRun {
            id: run.id,
            label,
            request,
            failures: 0,
            job: Job {
                run_id: run.id.0,
                config,
                backend,
                // The scheduler gives a GPU run its GPU when a slot is free.
                device: ComputeDevice::Cpu,
                // A GPU run's worker only feeds its GPU.
                threads: if request.is_gpu() { 1 } else { self.slots.threads },
                data_path: PathBuf::from(&run.data_path),
                data_sha256: run.data_sha256.clone(),
                checkpoint: dir.join(format!("run-{}.ckpt", run.id)),
                checkpoint_every: self.settings.checkpoint_every,
            },
        })
    }
}

/// Ctrl-C and SIGTERM, each delivery one message.
fn forward_signals() -> anyhow::Result<mpsc::UnboundedReceiver<()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let (sender, receiver) = mpsc::unbounded_channel();
    for kind in [SignalKind::interrupt(), SignalKind::terminate()] {
        let mut signals = signal(kind).context("cannot listen for Ctrl-C")?;
        let sender = sender.clone();
        tokio::spawn(async move {
            while signals.recv().await.is_some() {
                if sender.send(()).is_err() {
                    break;
                }
            }
        });
    }
    Ok(receiver)
}

/// The sweep's runs as a table on stdout: id, what sets each apart, status, progress, losses.
pub fn print_runs(runs: &[RunRecord]) -> anyhow::Result<()> {
    let configs = configs(runs)?;
    let keys = varied_keys(&configs);
    let has_variants = runs.iter().any(|r| r.variant.is_some());
    let mut headers = vec!["run"];
    if has_variants {
        headers.push("variant");
    }
    headers.extend(keys.iter().map(String::as_str));
    headers.extend(["status", "steps", "tries", "train", "val", "error"]);
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
                first_line(run.error.as_deref().filter(|_| run.status != RunStatus::Completed)),
            ]);
            row
        })
        .collect();
    table::print(&headers, &rows);
    Ok(())
}

fn first_line(text: Option<&str>) -> String {
    let line = text.and_then(|t| t.lines().next()).unwrap_or_default();
    if line.chars().count() > 70 {
        format!("{}…", line.chars().take(69).collect::<String>())
    } else {
        line.to_string()
    }
}

/// The run with id `id`, or an error that says there is none.
pub fn run(store: &Store, id: i64) -> anyhow::Result<RunRecord> {
    store.run(results::RunId(id)).map_err(|err| match err {
        results::StoreError::NoSuchRun(_) => usage(anyhow!("no run with id {id}; `harness runs` lists them")),
        other => anyhow!(other),
    })
}

/// The settings the sweep was launched with (a `train` run has none: the defaults).
pub fn settings(sweep: &SweepRecord) -> anyhow::Result<SweepSettings> {
    match &sweep.settings_json {
        Some(json) => serde_json::from_str(json)
            .with_context(|| format!("sweep `{}` has settings this harness cannot read", sweep.name)),
        None => Ok(SweepSettings::default()),
    }
}

/// Opens the database at `db` with `open`, or says clearly that there is none.
pub fn open_existing(db: &Path, open: fn(&Path) -> Result<Store, results::StoreError>) -> anyhow::Result<Store> {
    if !db.is_file() {
        return Err(usage(anyhow!(
            "no database at {} (give its path with --db or HARNESS_DB)",
            db.display()
        )));
    }
    match open(db) {
        // A file from an older harness: bring its schema up to date, then open it as asked.
        Err(results::StoreError::OlderSchema { .. }) => {
            Store::open(db).with_context(|| format!("cannot upgrade the database {}", db.display()))?;
            open(db)
        }
        other => other,
    }
    .with_context(|| format!("cannot open the database {}", db.display()))
}

pub fn find_sweep(store: &Store, name: &str, db: &Path) -> anyhow::Result<SweepRecord> {
    store.find_sweep(name)?.ok_or_else(|| {
        usage(anyhow!(
            "no sweep named `{name}` in {}; `harness status` lists the sweeps",
            db.display()
        ))
    })
}

/// After a session: the sweep's table on stdout, a one-line tally on stderr; exit 1 when
/// a run failed or was interrupted.
pub fn report(store: &Store, sweep: &SweepRecord, metric: &Metric, tally: &Tally) -> anyhow::Result<ExitCode> {
    let runs = store.sweep_runs(sweep.id)?;
    print_runs(&runs)?;
    eprintln!(
        "sweep {}: {} completed, {} diverged, {} failed, {} interrupted ({} retries)",
        sweep.name, tally.completed, tally.diverged, tally.failed, tally.interrupted, tally.retried
    );
    if let Some((run, value)) = best_run(&runs, metric) {
        let label = &labels(&runs)?[runs.iter().position(|r| r.id == run.id).unwrap_or(0)];
        eprintln!("best by {}: run {} ({label}): {value:.4}", metric.name, run.id);
    }
    if tally.interrupted > 0 {
        eprintln!("continue it with `harness resume {}`", sweep.name);
    }
    Ok(if tally.failed + tally.interrupted > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The settled run with the best final `metric`, and that value.
pub fn best_run<'a>(runs: &'a [RunRecord], metric: &Metric) -> Option<(&'a RunRecord, f64)> {
    let value = |run: &RunRecord| match metric.name.as_str() {
        "train_loss" => run.train_loss,
        "test_loss" => run.test_loss,
        _ => run.val_loss,
    };
    let sign = if metric.goal == "maximize" { -1.0 } else { 1.0 };
    runs.iter()
        .filter_map(|run| value(run).map(|v| (run, v)))
        .min_by(|a, b| (sign * a.1).total_cmp(&(sign * b.1)))
}

pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
