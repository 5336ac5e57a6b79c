//! `harness replay SWEEP [--verify]`: makes every decision the database holds for a sweep
//! again, from its stored validation curves, results and sweep file alone, as if it ran once
//! more, and shows each beside the one stored: early termination's verdicts, `bayes`'s
//! proposals, `halving:`'s promotions, `pbt:`'s exploits. `--verify` shows only those that
//! differ and exits 1 if any does. Reads the database read-only, so it works during a sweep.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::anyhow;
use clap::Args;
use results::{Decision, ExploitRecord, RunId, RunRecord, Store, SweepRecord, VerdictRecord};

use crate::error::usage;
use crate::pbt::{Pbt, Standing};
use crate::scheduler::judge;
use crate::session::proposer::halving::{RunAtRung, at_rung, settled_runs};
use crate::session::proposer::search::Search;
use crate::spec::{Goal, SweepSettings};
use crate::stopping::EarlyTerminate;
use crate::stopping::halving::Halving;
use crate::stored;
use crate::view::{plural, table};

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The sweep whose verdicts and proposals to make again
    pub sweep: String,
    /// Show only the decisions that differ from those stored, and exit 1 if any does
    #[arg(long)]
    pub verify: bool,
    /// SQLite database to read
    #[arg(long, env = "HARNESS_DB", default_value = "harness.db", value_name = "PATH")]
    pub db: PathBuf,
}

/// Decisions of one kind made again: a row per decision and whether it differs.
struct Compared {
    /// "verdict" or "proposal".
    kind: &'static str,
    /// "the stored curves" or "the stored results".
    from: &'static str,
    head: &'static [&'static str],
    rows: Vec<(Vec<String>, bool)>,
}

pub fn execute(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let store = stored::open_existing(&args.db, Store::open_read_only)?;
    let sweep = stored::find_sweep(&store, &args.sweep, &args.db)?;
    let settings = stored::settings(&sweep)?;
    let runs = store.sweep_runs(sweep.id)?;
    let search = Search::stored(&store, &sweep, settings.metric, &runs)?;
    let decides = settings.early_terminate.is_some() || settings.halving.is_some() || settings.pbt.is_some();
    if !decides && search.is_none() {
        return Err(usage(anyhow!(
            "sweep `{}` has no `early_terminate`, `halving`, `pbt` or `method: bayes`: it made no decision to make \
             again",
            sweep.name
        )));
    }
    let mut made = Vec::new();
    if let Some(rule) = settings.early_terminate {
        made.push(verdicts(&store, (&sweep, &settings, rule), &runs)?);
    }
    if let Some(search) = search {
        made.push(proposals(&search));
    }
    if let Some(rule) = &settings.halving {
        made.push(sent_on(rule, &settled_runs(rule, settings.metric, &runs)?));
    }
    if let Some(rule) = &settings.pbt {
        let stored = (store.sweep_verdicts(sweep.id)?, store.sweep_exploits(sweep.id)?);
        made.push(exploits(rule, settings.metric.goal, &stored, &runs)?);
    }
    let mut differ = 0;
    for compared in &made {
        differ += show(&sweep.name, compared, args.verify)?;
    }
    Ok(if args.verify && differ > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints the rows (only those that differ, when verifying) and a summary line; returns how
/// many differ.
fn show(sweep: &str, compared: &Compared, verify: bool) -> anyhow::Result<usize> {
    let rows: Vec<Vec<String>> = compared
        .rows
        .iter()
        .filter(|(_, differs)| !verify || *differs)
        .map(|(row, differs)| {
            let mut row = row.clone();
            row.push(if *differs { "differs" } else { "" }.to_string());
            row
        })
        .collect();
    if !rows.is_empty() {
        let head: Vec<&str> = compared.head.iter().copied().chain([""]).collect();
        table::print(&head, &rows)?;
    }
    let total = compared.rows.len();
    let differ = compared.rows.iter().filter(|(_, differs)| *differs).count();
    let (kind, from) = (compared.kind, compared.from);
    if differ == 0 {
        eprintln!(
            "sweep {sweep}: {total} {kind}{} made again from {from}, all as stored",
            plural(total)
        );
    } else {
        eprintln!(
            "sweep {sweep}: {differ} of {total} {kind}{} made again from {from} differ from those stored",
            plural(total)
        );
    }
    Ok(differ)
}

/// Every stored verdict beside the one the judge makes again.
fn verdicts(
    store: &Store,
    (sweep, settings, rule): (&SweepRecord, &SweepSettings, EarlyTerminate),
    runs: &[RunRecord],
) -> anyhow::Result<Compared> {
    let judged = stored::judged(store, sweep, runs)?;
    let given = judged.given.clone();
    let again = judge::replay((rule, settings.verdict_order, settings.metric.goal), judged, None)
        .map_err(|err| usage(anyhow!("cannot replay sweep `{}`: {err}", sweep.name)))?;
    let again: HashMap<(RunId, u64), Decision> = again.verdicts.iter().map(|v| ((v.run, v.step), v.decision)).collect();
    let mut given = given;
    given.sort_by_key(|v| (v.run, v.step));
    let rows = given
        .iter()
        .map(|v| {
            let made = again.get(&(v.run, v.step)).copied();
            let row = vec![
                v.run.to_string(),
                v.step.to_string(),
                table::significant(v.value, 5),
                v.decision.as_str().to_string(),
                made.map_or("none".to_string(), |d| d.as_str().to_string()),
            ];
            (row, made != Some(v.decision))
        })
        .collect();
    Ok(Compared {
        kind: "verdict",
        from: "the stored curves",
        head: &["run", "step", "val", "stored", "made again"],
        rows,
    })
}

/// Every run `halving:` sent on to a later rung beside the run its rung, ranked again, sends
/// on in that place (the best first): one sent on that should not have been, or out of turn,
/// differs, and so does one that should have been where the sweep has gone past its rung.
fn sent_on(rule: &Halving, runs: &[RunAtRung]) -> Compared {
    let mut rows = Vec::new();
    for rung in 0..rule.rungs.len() - 1 {
        let at = at_rung(runs, rung);
        let Some(results) = at.iter().map(|r| r.result).collect::<Option<Vec<f64>>>() else {
            continue;
        };
        let expected: Vec<&RunAtRung> = rule.promoted(&results).into_iter().map(|i| at[i]).collect();
        let parents: HashMap<&str, RunId> = at.iter().map(|r| (r.configuration(), r.id)).collect();
        let stored = at_rung(runs, rung + 1);
        let later = runs.iter().any(|r| r.rung > rung + 1);
        for place in 0..stored.len().max(if later { expected.len() } else { 0 }) {
            let run = stored.get(place);
            let from = run.and_then(|run| parents.get(run.configuration()).copied());
            let made = expected.get(place).map(|r| r.id);
            let row = vec![
                run.map_or("none".to_string(), |run| run.id.to_string()),
                (rung + 2).to_string(),
                from.map_or("none".to_string(), |id| id.to_string()),
                made.map_or("none".to_string(), |id| format!("run {id}'s configuration")),
            ];
            rows.push((row, from.is_none() || from != made));
        }
    }
    Compared {
        kind: "promotion",
        from: "the stored results",
        head: &["run", "rung", "from run", "made again"],
        rows,
    }
}

/// Every run TPE proposed beside the values it proposes again.
fn proposals(search: &Search) -> Compared {
    let rows = (search.startup()..search.len())
        .map(|index| {
            let stored = search.values(index);
            let (made, differs) = match search.again(index) {
                Some((_, drawn)) => {
                    let values = drawn.values();
                    (search.label(&values), values != stored)
                }
                None => ("none: a result it learned from is not stored".to_string(), true),
            };
            (vec![search.id(index).to_string(), search.label(stored), made], differs)
        })
        .collect();
    Compared {
        kind: "proposal",
        from: "the stored results",
        head: &["run", "stored", "made again"],
        rows,
    }
}

/// Every exploit stored beside the one the population, ranked again from the values stored
/// with its verdicts at that step, makes in that place (members in run order): another member,
/// donor or new settings differs. Each step starts from the settings stored before it.
fn exploits(
    rule: &Pbt,
    goal: Goal,
    (verdicts, stored): &(Vec<VerdictRecord>, Vec<ExploitRecord>),
    runs: &[RunRecord],
) -> anyhow::Result<Compared> {
    let mut configs: HashMap<RunId, String> = runs
        .iter()
        .map(|run| (run.id, results::starting_settings(run, stored).to_string()))
        .collect();
    let parse = |json: &str| serde_json::from_str::<serde_json::Value>(json).ok();
    let mut rows = Vec::new();
    for step in rule.exploit_steps() {
        let standings = verdicts
            .iter()
            .filter(|v| v.step == step)
            .map(|v| {
                let stored = configs
                    .get(&v.run)
                    .ok_or_else(|| anyhow!("run {} has a verdict at step {step} but is not in the sweep", v.run))?;
                let config = serde_json::from_str(stored)?;
                Ok(Standing {
                    run: v.run,
                    value: goal.minimized(v.value),
                    config,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        if standings.is_empty() {
            break;
        }
        let made = rule.exploits(step, &standings)?;
        let here: Vec<&ExploitRecord> = stored.iter().filter(|e| e.step == step).collect();
        for place in 0..here.len().max(made.len()) {
            let (kept, again) = (here.get(place), made.get(place));
            let again_settings = again.map(|e| serde_json::to_value(e.after.applicable_settings()).ok());
            let differs = match (kept, again) {
                (Some(kept), Some(again)) => {
                    (kept.run, kept.donor) != (again.run, again.donor)
                        || parse(&kept.config_after) != again_settings.flatten()
                }
                _ => true,
            };
            let row = vec![
                kept.map_or("none".to_string(), |e| e.run.to_string()),
                step.to_string(),
                kept.map_or("none".to_string(), |e| {
                    format!("run {}: {}", e.donor, e.changes.join(", "))
                }),
                again.map_or("none".to_string(), |e| {
                    let changes: Vec<String> = e.changes.iter().map(ToString::to_string).collect();
                    format!("run {} from run {}: {}", e.run, e.donor, changes.join(", "))
                }),
            ];
            rows.push((row, differs));
        }
        for kept in here {
            configs.insert(kept.run, kept.config_after.clone());
        }
    }
    Ok(Compared {
        kind: "exploit",
        from: "the stored values",
        head: &["run", "step", "stored", "made again"],
        rows,
    })
}
