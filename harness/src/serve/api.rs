//! The JSON the pages read: every sweep with its runs counted by status, best value and span
//! (`/api/sweeps`); one sweep's runs with the settings that set them apart, its verdicts and
//! exploits (`/api/sweeps/{name}`); one run whole (`/api/runs/{id}`); why, as `harness explain`
//! says it (`/api/runs/{id}/explanation`, apart: it replays the sweep); and chosen runs' curves,
//! training curves cut down on the server (`/api/curves`). Ids are parsed, never pasted in SQL.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use results::{RunId, RunRecord, RunStatus, Split, Store, SweepRecord};
use serde::Deserialize;
use serde_json::{Value, json};

use super::downsample::min_max_last;
use super::sweep_data::{rounded, sweep_page};
use super::{ApiError, Served};
use crate::stored;
use crate::view::explain;

/// Runs one `/api/curves` request may ask for: a page shows a few dozen at a time.
const MAX_CURVES: usize = 500;
/// Training-curve buckets when the request names none: a chart's width in pixels.
const DEFAULT_BUCKETS: usize = 600;

/// `GET /api/sweeps`.
pub async fn sweeps(State(served): State<Served>) -> Result<Json<Value>, ApiError> {
    served
        .read(|store| Ok(Json(json!({ "sweeps": sweep_list(store)? }))))
        .await
}

fn sweep_list(store: &Store) -> anyhow::Result<Vec<Value>> {
    let spans = store.sweep_spans()?;
    let mut list = Vec::new();
    for summary in store.sweep_summaries()? {
        let settings = stored::settings(&summary.sweep)?;
        let (loss, goal) = (settings.metric.loss, settings.metric.goal);
        let span = spans.get(&summary.sweep.id).cloned().unwrap_or_default();
        let best = span.range(loss).map(|(low, high)| {
            if goal.minimized(low) <= goal.minimized(high) {
                low
            } else {
                high
            }
        });
        let counts: BTreeMap<&str, usize> = RunStatus::ALL
            .iter()
            .map(|status| (status.as_str(), summary.count(*status)))
            .collect();
        list.push(json!({
            "name": summary.sweep.name,
            "kind": summary.sweep.kind.as_str(),
            "created_at": summary.sweep.created_at,
            "runs": summary.total(),
            "counts": counts,
            "metric": loss.column(),
            "goal": goal.to_string(),
            "best": rounded(best),
            "started_at": span.started_at,
            "finished_at": span.finished_at,
        }));
    }
    Ok(list)
}

/// `GET /api/sweeps/{name}`.
pub async fn sweep(State(served): State<Served>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    served.read(move |store| Ok(Json(sweep_page(store, &name)?))).await
}

/// `GET /api/runs/{id}`.
pub async fn run(State(served): State<Served>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    served.read(move |store| Ok(Json(run_page(store, id)?))).await
}

/// `GET /api/runs/{id}/explanation`.
pub async fn explanation(State(served): State<Served>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    served
        .read(move |store| {
            let (run, sweep) = run_and_sweep(store, id)?;
            Ok(Json(json!({ "lines": explain::lines(store, &run, &sweep)? })))
        })
        .await
}

/// The run with id `id` and its sweep, or not found.
fn run_and_sweep(store: &Store, id: RunId) -> anyhow::Result<(RunRecord, SweepRecord)> {
    let run = match store.run(id) {
        Err(results::StoreError::NoSuchRun(_)) => return Err(ApiError::NotFound(format!("no run with id {id}")).into()),
        other => other?,
    };
    let sweep = store
        .find_sweep(&run.sweep_name)?
        .ok_or_else(|| anyhow::anyhow!("run {id}'s sweep vanished"))?;
    Ok((run, sweep))
}

fn run_page(store: &Store, id: RunId) -> anyhow::Result<Value> {
    let (run, sweep) = run_and_sweep(store, id)?;
    let verdicts: Vec<Value> = store
        .sweep_verdicts(sweep.id)?
        .iter()
        .filter(|v| v.run == id)
        .map(|v| json!({ "step": v.step, "value": v.value, "decision": v.decision.as_str() }))
        .collect();
    let exploits: Vec<Value> = store
        .sweep_exploits(sweep.id)?
        .iter()
        .filter(|e| e.run == id || e.donor == id)
        .map(|e| json!({ "step": e.step, "run": e.run.0, "donor": e.donor.0, "changes": e.changes }))
        .collect();
    let pbt = stored::settings(&sweep)?.pbt.is_some();
    let config: Value = serde_json::from_str(&run.config_json)?;
    let attempts: Vec<Value> = store
        .attempts(id)?
        .iter()
        .map(|a| {
            json!({
                "attempt": a.attempt,
                "started_at": a.started_at,
                "ended_at": a.ended_at,
                "outcome": a.outcome.map(RunStatus::as_str),
                "device": a.device,
                "device_name": a.device_name,
                "host": a.host,
                "slurm_job": a.slurm_job,
            })
        })
        .collect();
    Ok(json!({
        "run": run_fields(&run),
        "config": config,
        "attempts": attempts,
        "verdicts": verdicts,
        "pbt": pbt,
        "exploits": exploits,
        "samples": store.samples(id)?,
    }))
}

fn run_fields(run: &RunRecord) -> Value {
    json!({
        "id": run.id.0,
        "sweep": run.sweep_name,
        "variant": run.variant,
        "status": run.status.as_str(),
        "backend": run.backend,
        "requested_device": run.requested_device,
        "device": run.device,
        "device_name": run.device_name,
        "host": run.host,
        "slurm_job": run.slurm_job,
        "threads": run.threads,
        "data_path": run.data_path,
        "data_sha256": run.data_sha256,
        "git_commit": run.git_commit,
        "params": run.trainable_params,
        "steps_done": run.steps_done,
        "attempts": run.attempts,
        "retries": run.retries,
        "train_loss": run.train_loss,
        "val_loss": run.val_loss,
        "test_loss": run.test_loss,
        "steps_per_sec": run.steps_per_sec,
        "wall_seconds": run.wall_seconds,
        "error": run.error,
    })
}

#[derive(Deserialize)]
pub struct CurvesQuery {
    /// Run ids, comma-separated.
    runs: String,
    /// `train` or `val`.
    split: String,
    /// Training-curve buckets (each keeps up to 3 points).
    buckets: Option<usize>,
}

/// `GET /api/curves?runs=1,2&split=train[&buckets=600]`: per run, `steps` and `losses`.
pub async fn curves(State(served): State<Served>, Query(query): Query<CurvesQuery>) -> Result<Json<Value>, ApiError> {
    let split = match query.split.as_str() {
        "train" => Split::Train,
        "val" => Split::Val,
        other => {
            return Err(ApiError::BadRequest(format!(
                "split must be `train` or `val`, not `{other}`"
            )));
        }
    };
    let ids = query
        .runs
        .split(',')
        .filter(|id| !id.is_empty())
        .map(parse_id)
        .collect::<Result<Vec<_>, _>>()?;
    if ids.len() > MAX_CURVES {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_CURVES} runs per request, not {}",
            ids.len()
        )));
    }
    let buckets = query.buckets.unwrap_or(DEFAULT_BUCKETS);
    served
        .read(move |store| {
            let mut curves = serde_json::Map::new();
            for id in ids {
                let points = store.curve(id, split)?;
                let points = if split == Split::Train {
                    min_max_last(&points, buckets)
                } else {
                    points
                };
                let (steps, losses): (Vec<u64>, Vec<Value>) = points
                    .into_iter()
                    .map(|(step, loss)| (step, rounded(Some(loss))))
                    .unzip();
                curves.insert(id.0.to_string(), json!({ "steps": steps, "losses": losses }));
            }
            Ok(Json(json!({ "split": split.as_str(), "curves": curves })))
        })
        .await
}

fn parse_id(text: &str) -> Result<RunId, ApiError> {
    text.trim()
        .parse::<i64>()
        .map(RunId)
        .map_err(|_| ApiError::BadRequest(format!("`{text}` is not a run id (a whole number)")))
}
