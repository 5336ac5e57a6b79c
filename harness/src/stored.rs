//! The stored sweeps and runs as commands ask for them: open the database (refusing a
//! missing file, upgrading an older one), find a sweep or run by what the user typed, read
//! back a sweep's settings, a run's device request and what early termination judged, and
//! where checkpoints live.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use model::Backend;
use results::{RunRecord, Split, Store, StoreError, SweepId, SweepRecord};

use crate::error::usage;
use crate::scheduler::judge;
use crate::spec::SweepSettings;
use crate::workers::placement::DeviceRequest;

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

/// What early termination judges `sweep` from: its runs `all` with their statuses and
/// validation curves, and the verdicts given so far, in order.
pub fn judged(store: &Store, sweep: &SweepRecord, all: &[RunRecord]) -> Result<judge::Stored, StoreError> {
    Ok(judge::Stored {
        runs: all.iter().map(|run| (run.id, run.status)).collect(),
        curves: all
            .iter()
            .map(|run| Ok((run.id, store.curve(run.id, Split::Val)?)))
            .collect::<Result<_, StoreError>>()?,
        given: store.sweep_verdicts(sweep.id)?,
    })
}

/// What population-based training decides `sweep`'s exploits from: each member's status,
/// latest settings and validation curve, the verdicts and the exploits stored so far.
pub fn population(store: &Store, sweep: &SweepRecord, all: &[RunRecord]) -> anyhow::Result<judge::StoredPopulation> {
    let members = all
        .iter()
        .map(|run| {
            let config: model::TrainConfig = serde_json::from_str(&run.config_json)
                .with_context(|| format!("run {} has a configuration this harness cannot use", run.id))?;
            Ok(judge::StoredMember {
                run: run.id,
                status: run.status,
                config,
                curve: store.curve(run.id, Split::Val)?,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(judge::StoredPopulation {
        members,
        verdicts: store.sweep_verdicts(sweep.id)?,
        exploits: store.sweep_exploits(sweep.id)?,
    })
}

/// The settings of the sweep named `name`, which a query just found.
pub fn settings_by_name(store: &Store, name: &str) -> anyhow::Result<SweepSettings> {
    let record = store
        .find_sweep(name)?
        .ok_or_else(|| anyhow!("sweep `{name}` vanished"))?;
    settings(&record)
}

/// Opens (creating if needed) the database at `path` for writing, its schema brought up to
/// date and its `runs_wide` view showing every declared setting.
pub fn open_writer(path: &Path) -> Result<Store, results::StoreError> {
    let mut store = Store::open(path)?;
    let settings: Vec<&str> = model::all_settings().iter().map(|s| s.name).collect();
    store.define_runs_wide(&settings)?;
    Ok(store)
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
            open_writer(db).with_context(|| format!("cannot upgrade the database {}", db.display()))?;
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

/// Where a sweep's checkpoints (and its lock) live: next to the database.
pub fn checkpoint_dir(db: &Path, sweep: &SweepRecord) -> PathBuf {
    checkpoint_dir_of(db, sweep.id)
}

fn checkpoint_dir_of(db: &Path, sweep: SweepId) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".checkpoints");
    db.with_file_name(name).join(format!("sweep-{}", sweep.0))
}

/// For `Store::create_sweep_if`: refuses a new sweep's id whose checkpoint folder already
/// holds checkpoints. A database deleted or moved leaves its folder behind, and a new sweep
/// there would otherwise resume its runs from another sweep's weights.
pub fn no_stale_checkpoints(db: &Path) -> impl FnOnce(SweepId) -> Result<(), String> + '_ {
    move |sweep| {
        let dir = checkpoint_dir_of(db, sweep);
        let stale = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .any(|entry| entry.path().extension().is_some_and(|ext| ext == "ckpt"));
        if stale {
            Err(format!(
                "{} holds checkpoints that {} does not know (its database was deleted or moved); \
                 a new sweep there would resume from them. Delete that folder, or move it along \
                 with its database, then run this command again",
                dir.display(),
                db.display()
            ))
        } else {
            Ok(())
        }
    }
}

/// A write refused by the caller's check (`no_stale_checkpoints`) is the user's to fix.
pub fn refused_as_usage(err: StoreError) -> anyhow::Error {
    match err {
        StoreError::Refused(_) => usage(anyhow!(err)),
        other => anyhow!(other),
    }
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
