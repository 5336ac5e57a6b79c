//! The sweep page's data (`/api/sweeps/{name}`), column by column so 10,000 runs stay small:
//! each run's settings that vary (`values`), and (`columns`) its status, progress, attempts and retries, final losses and
//! replicate group (the runs that differ only in `seed`, which the page folds into mean ±
//! std); the sweep's early-termination verdicts, its population-based training's exploits,
//! and the references of its variants.

use std::collections::BTreeMap;

use results::summary::Config;
use results::summary::replicate_groups;
use results::{RunRecord, Store};
use serde_json::{Value, json};

use super::ApiError;
use crate::stored;
use crate::view::labels::{configs, varied_settings};

/// The columns of every run besides the settings that vary.
const RUN_COLUMNS: [&str; 13] = [
    "id",
    "variant",
    "status",
    "group",
    "steps_done",
    "steps",
    "attempts",
    "retries",
    "train_loss",
    "val_loss",
    "test_loss",
    "params",
    "steps_per_sec",
];

/// Significant digits of the losses and rates the page shows: its tables print four
/// decimals, and six digits halve the payload against a float's seventeen.
const DIGITS: i32 = 6;

/// Columns of equal length by name.
struct Columns(BTreeMap<String, Vec<Value>>);

impl Columns {
    /// Empty columns named `names`: present even when no row comes.
    fn named<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Self(names.into_iter().map(|name| (name.to_string(), Vec::new())).collect())
    }

    fn push(&mut self, name: &str, value: impl Into<Value>) {
        self.0.entry(name.to_string()).or_default().push(value.into());
    }

    fn into_value(self) -> Value {
        Value::Object(self.0.into_iter().map(|(k, v)| (k, Value::Array(v))).collect())
    }
}

/// `x` to `DIGITS` significant digits, so it prints short.
pub fn rounded(x: Option<f64>) -> Value {
    match x {
        Some(x) if x.is_finite() && x != 0.0 => {
            let scale = 10f64.powi(DIGITS - 1 - x.abs().log10().floor() as i32);
            json!((x * scale).round() / scale)
        }
        Some(x) if x.is_finite() => json!(x),
        _ => Value::Null,
    }
}

/// The sweep named `name`, or `NotFound`.
pub fn sweep_page(store: &Store, name: &str) -> anyhow::Result<Value> {
    let sweep = store
        .find_sweep(name)?
        .ok_or_else(|| ApiError::NotFound(format!("no sweep named `{name}`")))?;
    let settings = stored::settings(&sweep)?;
    let runs = store.sweep_runs(sweep.id)?;
    let configs = configs(&runs)?;
    let varied = varied_settings(&configs);
    let verdicts = store.sweep_verdicts(sweep.id)?;
    let groups = group_of_each(&runs, &configs);

    let mut judged = Columns::named(["run", "step", "value", "decision"]);
    for verdict in &verdicts {
        judged.push("run", verdict.run.0);
        judged.push("step", verdict.step);
        judged.push("value", rounded(Some(verdict.value)));
        judged.push("decision", verdict.decision.as_str());
    }

    let mut exploited = Columns::named(["run", "step", "donor"]);
    for exploit in store.sweep_exploits(sweep.id)? {
        exploited.push("run", exploit.run.0);
        exploited.push("step", exploit.step);
        exploited.push("donor", exploit.donor.0);
    }

    let mut columns = Columns::named(RUN_COLUMNS);
    let mut values = Columns::named(varied.iter().map(String::as_str));
    let mut errors = serde_json::Map::new();
    for ((run, config), group) in runs.iter().zip(&configs).zip(&groups) {
        columns.push("id", run.id.0);
        columns.push("variant", run.variant.clone());
        columns.push("status", run.status.as_str());
        columns.push("group", *group);
        for key in &varied {
            values.push(key, config.get(key).cloned().unwrap_or(Value::Null));
        }
        columns.push("steps_done", run.steps_done);
        columns.push("steps", config.get("steps").cloned().unwrap_or(Value::Null));
        columns.push("attempts", run.attempts);
        columns.push("retries", run.retries);
        columns.push("train_loss", rounded(run.train_loss));
        columns.push("val_loss", rounded(run.val_loss));
        columns.push("test_loss", rounded(run.test_loss));
        columns.push("params", run.trainable_params);
        columns.push("steps_per_sec", rounded(run.steps_per_sec));
        if let Some(error) = &run.error {
            errors.insert(run.id.0.to_string(), json!(error));
        }
    }
    Ok(json!({
        "sweep": {
            "name": sweep.name,
            "kind": sweep.kind.as_str(),
            "created_at": sweep.created_at,
            "spec": sweep.spec,
        },
        "metric": settings.metric.loss.column(),
        "goal": settings.metric.goal.to_string(),
        "early_terminate": settings.early_terminate,
        "halving": settings.halving,
        "pbt": settings.pbt.as_ref().map(|pbt| json!({
            "population": pbt.population,
            "exploit_steps": pbt.exploit_steps().collect::<Vec<u64>>(),
        })),
        "references": settings.references,
        "varied": varied,
        "runs": runs.len(),
        "columns": columns.into_value(),
        "values": values.into_value(),
        "errors": errors,
        "verdicts": judged.into_value(),
        "exploits": exploited.into_value(),
    }))
}

/// Each run's replicate group, numbered in first-seen order.
fn group_of_each(runs: &[RunRecord], configs: &[Config]) -> Vec<usize> {
    let keyed: Vec<(&str, Option<&str>, &Config)> = runs
        .iter()
        .zip(configs)
        .map(|(run, config)| ("", run.variant.as_deref(), config))
        .collect();
    let mut group = vec![0; runs.len()];
    for (g, members) in replicate_groups(&keyed).iter().enumerate() {
        for &m in members {
            group[m] = g;
        }
    }
    group
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_keeps_six_significant_digits() {
        assert_eq!(rounded(Some(2.093_456_789)), json!(2.09346));
        assert_eq!(rounded(Some(0.000_123_456_78)), json!(0.000123457));
        assert_eq!(rounded(Some(1_234.567_89)), json!(1234.57));
        assert_eq!(rounded(Some(0.0)), json!(0.0));
        assert_eq!(rounded(Some(f64::NAN)), Value::Null);
        assert_eq!(rounded(None), Value::Null);
    }
}
