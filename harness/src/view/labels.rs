//! What sets runs apart, for every table and figure: each run's settings by name, the keys
//! that vary between runs (a derived default such as `lr_final` = lr / 10 varies only where
//! a run set it), and one label per run or per replicate group built from them.

use std::collections::HashMap;

use anyhow::Context;
use model::all_settings;
use results::RunRecord;
use results::summary::{Config, varied_keys};
use serde_json::Value;

use crate::stored::requested_device;
use crate::view::table;

/// One line per run naming what sets it apart: its variant and the values that vary
/// among the runs of that variant.
pub fn labels(runs: &[RunRecord]) -> anyhow::Result<Vec<String>> {
    Ok(labels_without(runs, &configs(runs)?, &[]))
}

/// `labels`, leaving the keys in `skip` out (a replicate group's label skips `seed`).
pub fn labels_without(runs: &[RunRecord], configs: &[Config], skip: &[&str]) -> Vec<String> {
    let mut varied: HashMap<Option<&str>, Vec<String>> = HashMap::new();
    for run in runs {
        let variant = run.variant.as_deref();
        varied.entry(variant).or_insert_with(|| {
            let group: Vec<&Config> = runs
                .iter()
                .zip(configs)
                .filter(|(r, _)| r.variant.as_deref() == variant)
                .map(|(_, c)| c)
                .collect();
            varied_settings(group)
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

/// Each run's settings by name: its training options, `backend` and `requested_device` (as
/// `runs_wide` names them; `device` there is where it ran).
pub fn configs(runs: &[RunRecord]) -> anyhow::Result<Vec<Config>> {
    runs.iter()
        .map(|run| {
            let mut config: Config = serde_json::from_str(&run.config_json)
                .with_context(|| format!("run {} has an unreadable configuration", run.id))?;
            let (backend, device) = requested_device(run)?;
            config.insert("backend".into(), Value::String(backend.to_string()));
            config.insert("requested_device".into(), Value::String(device.to_string()));
            Ok(config)
        })
        .collect()
}

/// The keys whose values differ between `configs` — a setting a run does not hold (it means
/// nothing for it: `beta1` of an SGD run) counting as its default —, less derived defaults
/// that every run left to their rule (in a sweep over `lr`, `lr_final` follows it unset).
pub fn varied_settings<'a>(configs: impl IntoIterator<Item = &'a Config> + Clone) -> Vec<String> {
    let settings = all_settings();
    let value = |config: &Config, key: &str| {
        config
            .get(key)
            .cloned()
            .or_else(|| settings.iter().find(|s| s.name == key)?.default_value())
    };
    varied_keys(configs.clone())
        .into_iter()
        .filter(|key| {
            let mut values = configs.clone().into_iter().map(|c| value(c, key));
            let first = values.next().flatten();
            values.any(|v| v != first)
        })
        .filter(|key| {
            !all_settings()
                .iter()
                .filter(|setting| setting.name == key)
                .any(|setting| {
                    configs
                        .clone()
                        .into_iter()
                        .all(|c| setting.is_derived_in(|k| c.get(k)?.as_f64()))
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(value: Value) -> Config {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn a_derived_default_varies_only_where_a_run_set_it() {
        // lr_final left to lr / 10 in every run: only lr varies.
        let derived = [
            config(json!({"lr": 0.1, "lr_final": 0.01, "n_hidden": 68})),
            config(json!({"lr": 0.2, "lr_final": 0.02, "n_hidden": 68})),
        ];
        assert_eq!(varied_settings(&derived), ["lr"]);
        // One run sets its own lr_final: now it varies.
        let set = [
            config(json!({"lr": 0.1, "lr_final": 0.01})),
            config(json!({"lr": 0.2, "lr_final": 0.05})),
        ];
        assert_eq!(varied_settings(&set), ["lr", "lr_final"]);
        // An SGD run holds no `beta1`; an AdamW run at the default does not make it vary.
        let optimizers = [
            config(json!({"optimizer": "sgd", "lr": 0.1})),
            config(json!({"optimizer": "adamw", "lr": 0.1, "beta1": 0.9})),
        ];
        assert_eq!(varied_settings(&optimizers), ["optimizer"]);
        let tuned = [
            config(json!({"optimizer": "sgd", "lr": 0.1})),
            config(json!({"optimizer": "adamw", "lr": 0.1, "beta1": 0.8})),
        ];
        assert_eq!(varied_settings(&tuned), ["optimizer", "beta1"]);
    }
}
