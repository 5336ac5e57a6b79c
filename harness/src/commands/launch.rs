//! `harness launch FILE`: check and expand a sweep file, store the sweep and all its
//! runs (pending), then train them with the scheduler; `--dry-run` only lists the runs.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::Args;
use results::{NewSweep, SweepKind};

use crate::data_file::{self, sha256_hex};
use crate::error::usage;
use crate::recording;
use crate::serve::ServeFlag;
use crate::session::sweep::Session;
use crate::session::worker_slots::SlotArgs;
use crate::spec::{self, SweepSpec};
use crate::stored;
use crate::view;
use crate::view::labels::varied_settings;
use crate::view::sweep_table;
use crate::view::table;
use crate::workers::placement::Needs;

#[derive(Debug, Args)]
pub struct LaunchArgs {
    /// The sweep file (YAML, W&B Sweeps syntax; see docs/sweeps.md)
    pub file: PathBuf,
    #[command(flatten)]
    pub slots: SlotArgs,
    #[command(flatten)]
    pub serve: ServeFlag,
    /// Data file for every run [default: the file's `data`, else $HARNESS_DATA, else the names dataset]
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// Store the sweep under this name instead of the file's `name`
    #[arg(long)]
    pub name: Option<String>,
    /// List the runs the file expands to, then stop (nothing is stored or trained)
    #[arg(long)]
    pub dry_run: bool,
    /// SQLite database to record the sweep in
    #[arg(long, env = "HARNESS_DB", default_value = "harness.db", value_name = "PATH")]
    pub db: PathBuf,
}

pub fn execute(args: LaunchArgs) -> anyhow::Result<ExitCode> {
    let loaded = spec::load(&args.file).map_err(usage)?;
    for warning in &loaded.warnings {
        eprintln!("warning: {warning}");
    }
    let mut spec = loaded.spec;
    if let Some(name) = args.name {
        spec.name = name;
    }
    if let Some(description) = &spec.description {
        eprintln!("{}: {description}", spec.name);
    }
    if args.dry_run {
        print_plan(&spec)?;
        return Ok(ExitCode::SUCCESS);
    }
    let data_path = args
        .data
        .or(spec.data.clone())
        .or_else(|| std::env::var_os("HARNESS_DATA").map(PathBuf::from));
    let data = data_file::load(data_path.as_deref())?;
    for run in &spec.runs {
        data_file::check_fits(&run.config, &data).map_err(|e| usage(e.context(args.file.display().to_string())))?;
    }
    let needs: Needs = spec.runs.iter().map(|run| (run.backend, run.device)).collect();
    let slots = args.slots.resolve(&spec.settings, &needs)?;
    // Stored for `resume`: the GPUs only as given (else every GPU there is then).
    spec.settings.launcher = slots.launcher;
    spec.settings.workers = slots.workers;
    spec.settings.gpus = args.slots.gpus.or(spec.settings.gpus);
    spec.settings.runs_per_gpu = slots.gpus.runs_per_gpu;

    let mut store =
        stored::open_writer(&args.db).with_context(|| format!("cannot open the database {}", args.db.display()))?;
    if store.find_sweep(&spec.name)?.is_some() {
        return Err(usage(anyhow!(
            "a sweep named `{0}` is already in {1}: continue it with `{2} resume {0}`, \
             or launch this file as a new sweep with `--name NEW_NAME`",
            spec.name,
            args.db.display(),
            view::invocation()
        )));
    }
    let dashboard = args.serve.start(&args.db, &format!("sweep/{}", spec.name))?;
    let runs: Vec<_> = spec
        .runs
        .iter()
        .map(|run| {
            recording::new_run(
                &run.config,
                run.variant.clone(),
                run.backend,
                run.device,
                slots.threads,
                &data,
            )
        })
        .collect();
    let sweep = NewSweep {
        name: Some(spec.name.clone()),
        kind: SweepKind::Sweep,
        spec_sha256: Some(sha256_hex(loaded.text.as_bytes())),
        spec: Some(loaded.text),
        settings_json: Some(serde_json::to_string(&spec.settings)?),
    };
    let created = store
        .create_sweep_if(&sweep, &runs, stored::no_stale_checkpoints(&args.db))
        .map_err(stored::refused_as_usage)?;
    let sweep = store
        .find_sweep(&created.name)?
        .ok_or_else(|| anyhow!("sweep `{}` vanished from {}", created.name, args.db.display()))?;
    let all = store.sweep_runs(sweep.id)?;
    let session = Session {
        db: &args.db,
        sweep: &sweep,
        settings: spec.settings,
        slots,
    };
    let tally = session.run(&mut store, &all, &all)?;
    drop(dashboard);
    sweep_table::report(&store, &args.db, &sweep, &session.settings.metric, &tally)
}

/// The `--dry-run` table: each run's variant and the values that vary, then the count; on
/// stderr, what each parameter ranges over.
fn print_plan(spec: &SweepSpec) -> anyhow::Result<()> {
    for parameter in &spec.parameters {
        eprintln!("parameter {parameter}");
    }
    if let Some(rule) = &spec.settings.early_terminate {
        let evaluations = spec.runs.iter().map(|run| run.config.steps / run.config.eval_every);
        let runs = spec
            .bayes
            .as_ref()
            .map_or(spec.runs.len(), |bayes| bayes.runs() as usize);
        eprintln!(
            "early termination: {}; {}",
            rule.describe(evaluations.max().unwrap_or(0) as usize, runs),
            spec.settings.verdict_order.describe()
        );
    }
    if let Some(halving) = &spec.settings.halving {
        let first = spec
            .bayes
            .as_ref()
            .map_or(spec.runs.len(), |bayes| bayes.runs() as usize);
        eprintln!("halving: {}", halving.describe(first));
    }
    if let Some(pbt) = &spec.settings.pbt {
        eprintln!("{}", pbt.describe());
    }
    let configs = spec
        .runs
        .iter()
        .map(|run| {
            // As the store will keep it: only the settings that mean something for the run.
            let mut map = run.config.applicable_settings();
            map.insert("backend".into(), run.backend.to_string().into());
            map.insert("requested_device".into(), run.device.to_string().into());
            map
        })
        .collect::<Vec<_>>();
    let keys = varied_settings(&configs);
    let has_variants = spec.runs.iter().any(|r| r.variant.is_some());
    let mut headers = vec!["#"];
    if has_variants {
        headers.push("variant");
    }
    headers.extend(keys.iter().map(String::as_str));
    // The steps always show, once: as a varied setting or in a column of their own.
    let steps_varied = keys.iter().any(|k| k == "steps");
    if !steps_varied {
        headers.push("steps");
    }
    let rows: Vec<Vec<String>> = spec
        .runs
        .iter()
        .zip(&configs)
        .enumerate()
        .map(|(i, (run, config))| {
            let mut row = vec![(i + 1).to_string()];
            if has_variants {
                row.push(run.variant.clone().unwrap_or_default());
            }
            row.extend(keys.iter().map(|k| table::cell(config.get(k))));
            if !steps_varied {
                row.push(run.config.steps.to_string());
            }
            row
        })
        .collect();
    table::print(&headers, &rows)?;
    let method = spec.method.as_str();
    let planned = spec.runs.len();
    let proposed = spec
        .bayes
        .as_ref()
        .map_or(0, |b| (b.runs() as usize).saturating_sub(planned));
    let at_random = spec
        .bayes
        .as_ref()
        .map_or(0, |b| (0..proposed).filter(|&turn| b.random_turn(turn)).count());
    let mut later = if proposed > 0 {
        let at_random = match at_random {
            0 => String::new(),
            n => format!(" ({n} of them at random)"),
        };
        format!(", then {proposed} proposed from the results as it runs{at_random}")
    } else {
        String::new()
    };
    if let Some(halving) = &spec.settings.halving {
        let sent_on: usize = halving.runs_per_rung(planned + proposed).iter().skip(1).sum();
        later.push_str(&format!(", then up to {sent_on} sent on to later rungs"));
    }
    out!(
        "{planned} run{}{later} in {method} sweep `{}` (dry run: nothing stored or started)",
        view::plural(planned),
        spec.name
    )?;
    Ok(())
}
