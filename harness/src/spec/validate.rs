//! Raw sweep file → `SweepSpec`: the sweep-level keys (name, method, metric, data,
//! backend, workers, retries, timeout), W&B keys we ignore (warnings), then the
//! parameters and variants, expanded and checked run by run in `expand`.

use std::path::Path;
use std::time::Duration;

use model::Backend;
use serde_saphyr::{Location, Spanned};

use super::error::Source;
use super::expand;
use super::raw::{RawSpec, Scalar};
use super::{METRICS, Method, Metric, SpecError, SweepSettings, SweepSpec};

pub fn validate(raw: RawSpec, source: &Source, base: &Path) -> Result<(SweepSpec, Vec<String>), SpecError> {
    let mut warnings = ignored_wandb_keys(&raw, source);
    let name = match raw.name {
        Some(name) if !name.value.trim().is_empty() => name.value.trim().to_string(),
        Some(name) => return Err(source.error(Some(name.referenced), "name", "must not be empty")),
        None => {
            return Err(source.error(
                None,
                "name",
                "missing: every sweep needs a name, unique in its database (`name: my-sweep`)",
            ));
        }
    };
    let method_at = raw.method.as_ref().map(|m| m.referenced);
    let method = method(raw.method, source, &mut warnings)?;
    let run_cap = match raw.run_cap {
        Some(cap) if cap.value == 0 => return Err(source.error(Some(cap.referenced), "run_cap", "must be at least 1")),
        Some(cap) => Some((cap.value, cap.referenced)),
        None if method == Method::Random => {
            return Err(source.error(
                method_at,
                "run_cap",
                "a random search needs `run_cap`, the number of runs to draw",
            ));
        }
        None => None,
    };
    let mut settings = SweepSettings {
        workers: at_least_one(raw.workers, "workers", source)?,
        threads: at_least_one(raw.threads, "threads", source)?,
        max_retries: raw.max_retries.unwrap_or(SweepSettings::default().max_retries),
        timeout: raw.timeout.map(|t| timeout(&t, source)).transpose()?,
        checkpoint_every: match raw.checkpoint_every {
            Some(every) if every.value == 0 => {
                return Err(source.error(Some(every.referenced), "checkpoint_every", "must be at least 1 step"));
            }
            Some(every) => every.value,
            None => SweepSettings::default().checkpoint_every,
        },
        metric: metric(raw.metric, source)?,
        references: Default::default(),
    };
    let sweep = expand::Sweep {
        method,
        run_cap,
        sampler_seed: raw.sampler_seed.unwrap_or(0),
    };
    let runs = expand::runs(&sweep, raw.parameters, raw.variants, source, &mut warnings)?;
    settings.references = runs
        .iter()
        .filter_map(|run| Some((run.variant.clone()?, run.reference.clone()?)))
        .collect();
    let spec = SweepSpec {
        name,
        description: raw.description,
        method,
        data: raw.data.map(|d| data_file(&d, source, base)).transpose()?,
        backend: match raw.backend {
            Some(b) => {
                let backend = b
                    .value
                    .parse::<Backend>()
                    .map_err(|err| source.error(Some(b.referenced), "backend", err))?;
                // A backend this binary lacks, or a GPU that is not there: refused before anything runs.
                backend
                    .device(backend.default_device())
                    .map_err(|err| source.error(Some(b.referenced), "backend", err.to_string()))?;
                backend
            }
            None => crate::commands::train::DEFAULT_BACKEND,
        },
        settings,
        runs,
    };
    Ok((spec, warnings))
}

fn ignored_wandb_keys(raw: &RawSpec, source: &Source) -> Vec<String> {
    [
        ("program", &raw.program),
        ("command", &raw.command),
        ("entity", &raw.entity),
        ("project", &raw.project),
        ("early_terminate", &raw.early_terminate),
    ]
    .into_iter()
    .filter_map(|(key, value)| {
        value.as_ref().map(|v| {
            source.warning(
                v.referenced,
                format!("`{key}` is a W&B key this harness does not use (yet); it is ignored"),
            )
        })
    })
    .collect()
}

fn method(raw: Option<Spanned<String>>, source: &Source, warnings: &mut Vec<String>) -> Result<Method, SpecError> {
    let Some(method) = raw else { return Ok(Method::Grid) };
    match method.value.as_str() {
        "grid" => Ok(Method::Grid),
        "random" => Ok(Method::Random),
        "bayes" => {
            warnings.push(source.warning(
                method.referenced,
                "method `bayes` is not implemented yet; this sweep runs as `random` (same draws, no model of the results)",
            ));
            Ok(Method::Random)
        }
        other => Err(source.error(
            Some(method.referenced),
            "method",
            format!("unknown method `{other}`; use `grid` or `random`"),
        )),
    }
}

fn metric(raw: Option<Spanned<super::raw::RawMetric>>, source: &Source) -> Result<Metric, SpecError> {
    let Some(metric) = raw else {
        return Ok(Metric::default());
    };
    let at = Some(metric.referenced);
    if !METRICS.contains(&metric.value.name.as_str()) {
        let message = format!(
            "unknown metric `{}`; use one of {}",
            metric.value.name,
            METRICS.join(", ")
        );
        return Err(source.error(at, "metric.name", message));
    }
    let goal = metric.value.goal.unwrap_or_else(|| "minimize".into());
    if goal != "minimize" && goal != "maximize" {
        return Err(source.error(at, "metric.goal", format!("`{goal}`: use `minimize` or `maximize`")));
    }
    Ok(Metric {
        name: metric.value.name,
        goal,
    })
}

fn data_file(data: &Spanned<String>, source: &Source, base: &Path) -> Result<std::path::PathBuf, SpecError> {
    let path = base.join(&data.value);
    if path.is_file() {
        Ok(path)
    } else {
        Err(source.error(
            Some(data.referenced),
            "data",
            format!(
                "no data file at {} (a relative path is read from the sweep file's folder)",
                path.display()
            ),
        ))
    }
}

/// `3600`, `"90s"`, `"30m"`, `"2h"`.
fn timeout(raw: &Spanned<Scalar>, source: &Source) -> Result<Duration, SpecError> {
    let bad = |at: Location| {
        source.error(
            Some(at),
            "timeout",
            "give seconds (`3600`) or a number with a unit (`90s`, `30m`, `2h`)",
        )
    };
    let seconds = match &raw.value {
        Scalar::Int(s) if *s > 0 => *s as f64,
        Scalar::Float(s) if *s > 0.0 && s.is_finite() => *s,
        Scalar::Text(text) => {
            let (number, unit) = text.trim().split_at(text.trim().len().saturating_sub(1));
            let scale = match unit {
                "s" => 1.0,
                "m" => 60.0,
                "h" => 3600.0,
                _ => return Err(bad(raw.referenced)),
            };
            match number.trim().parse::<f64>() {
                Ok(n) if n > 0.0 && n.is_finite() => n * scale,
                _ => return Err(bad(raw.referenced)),
            }
        }
        _ => return Err(bad(raw.referenced)),
    };
    Ok(Duration::from_secs_f64(seconds))
}

fn at_least_one(raw: Option<Spanned<u64>>, key: &str, source: &Source) -> Result<Option<usize>, SpecError> {
    match raw {
        Some(n) if n.value == 0 || n.value > 1024 => {
            Err(source.error(Some(n.referenced), key, "must be between 1 and 1024"))
        }
        Some(n) => Ok(Some(n.value as usize)),
        None => Ok(None),
    }
}
