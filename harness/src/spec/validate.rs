//! Raw sweep file → `SweepSpec`: the sweep-level keys (name, method, metric, data,
//! backend, device, gpus, workers, retries, timeout), W&B keys we ignore (warnings), then
//! the parameters and variants, expanded and checked run by run in `expand`.

use std::path::Path;
use std::time::Duration;

use model::Backend;
use serde_saphyr::{Location, Spanned};

use crate::workers::placement::DeviceRequest;

use super::error::Source;
use super::raw::{OrderedMap, RawParameter, RawSlurm, RawSpec, Scalar};
use crate::workers::cluster::{LauncherKind, SlurmOptions};
use results::Loss;

use super::{Bayes, Goal, Method, Metric, Planner, SpecError, SweepSettings, SweepSpec};

/// How many of the latest runs a `bayes` proposal counts as still training, unless told: as
/// many as four workers keep busy without waiting for a result.
const DEFAULT_PROPOSAL_LAG: usize = 4;
use super::{devices, early_terminate, expand, halving, pbt};

/// `base`: where relative paths in the file are read from; `None`: the data file is not
/// looked for (a stored sweep read again).
pub fn validate(raw: RawSpec, source: &Source, base: Option<&Path>) -> Result<(SweepSpec, Vec<String>), SpecError> {
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
    let method_written = raw.method.as_ref().map_or("random", |m| m.value.as_str()).to_string();
    let method = method(raw.method, source)?;
    if method_written == "bayes" && !searches_something(raw.parameters.as_ref()) {
        return Err(source.error(
            method_at,
            "method",
            "a `bayes` search needs a parameter to search: give one `values`, or `min` and `max`",
        ));
    }
    let bayes_method = (method, method_written.as_str());
    let proposal_lag = bayes_only(raw.proposal_lag, "proposal_lag", bayes_method, source)?
        .map_or(DEFAULT_PROPOSAL_LAG, |lag| {
            usize::try_from(lag.value).unwrap_or(usize::MAX)
        });
    let random_fraction = match bayes_only(raw.random_fraction, "random_fraction", bayes_method, source)? {
        Some(fraction) if !(0.0..1.0).contains(&fraction.value) => {
            return Err(source.error(
                Some(fraction.referenced),
                "random_fraction",
                "must be at least 0 and below 1: the share of TPE's proposals drawn at random instead \
                 (BOHB's default is 0.33)",
            ));
        }
        Some(fraction) => fraction.value,
        None => 0.0,
    };
    let population = match &raw.pbt {
        Some(section) => {
            let run_cap_at = raw.run_cap.as_ref().map(|cap| cap.referenced);
            Some(pbt::population(section, (method, method_at), run_cap_at, source)?)
        }
        None => None,
    };
    let run_cap = match raw.run_cap {
        _ if population.is_some() => population,
        Some(cap) if cap.value == 0 => return Err(source.error(Some(cap.referenced), "run_cap", "must be at least 1")),
        Some(cap) => Some((cap.value, cap.referenced)),
        None if method != Method::Grid => {
            return Err(source.error(
                method_at,
                "run_cap",
                format!("a `{method_written}` search needs `run_cap`, the number of runs to draw"),
            ));
        }
        None => None,
    };
    let placement = devices::Placement {
        backend: match raw.backend {
            Some(b) => (parsed::<Backend>(&b, "backend", source)?, Some(b.referenced)),
            None => (Backend::DEFAULT, None),
        },
        device: raw
            .device
            .map(|d| Ok::<_, SpecError>((parsed::<DeviceRequest>(&d, "device", source)?, d.referenced)))
            .transpose()?,
        gpus: raw.gpus.map(|g| gpus(&g, source)).transpose()?,
    };
    let mut settings = SweepSettings {
        workers: at_least_one(raw.workers, "workers", source)?,
        threads: at_least_one(raw.threads, "threads", source)?,
        gpus: placement.gpus.as_ref().map(|(gpus, _)| gpus.clone()),
        runs_per_gpu: at_least_one(raw.runs_per_gpu, "runs_per_gpu", source)?.unwrap_or(1),
        max_retries: raw.max_retries.unwrap_or(SweepSettings::default().max_retries),
        timeout: raw.timeout.map(|t| duration(&t, "timeout", source)).transpose()?,
        checkpoint_every: match raw.checkpoint_every {
            Some(every) if every.value == 0 => {
                return Err(source.error(Some(every.referenced), "checkpoint_every", "must be at least 1 step"));
            }
            Some(every) => every.value,
            None => SweepSettings::default().checkpoint_every,
        },
        metric: metric(raw.metric, source)?,
        launcher: match raw.launcher {
            Some(kind) => parsed::<LauncherKind>(&kind, "launcher", source)?,
            None => LauncherKind::default(),
        },
        slurm: raw
            .slurm
            .map(|s| slurm(s.value, source))
            .transpose()?
            .unwrap_or_default(),
        early_terminate: None,
        verdict_order: Default::default(),
        halving: None,
        pbt: None,
        references: Default::default(),
    };
    let early_terminate = match raw.early_terminate {
        Some(raw) => Some((raw.referenced, early_terminate::early_terminate(raw, source)?)),
        None => None,
    };
    let sweep = expand::Sweep {
        method,
        run_cap,
        sampler_seed: raw.sampler_seed.unwrap_or(0),
        placement,
    };
    let raw_halving = raw.halving;
    let halving_at = raw_halving.as_ref().map(|h| h.referenced);
    let raw_pbt = raw.pbt;
    let expand::Expanded {
        mut runs,
        described: parameters,
        axes,
    } = expand::runs(&sweep, raw.parameters, raw.variants, source, &mut warnings)?;
    if let Some(raw) = raw_halving {
        let early_terminate_at = early_terminate.as_ref().map(|(at, _)| *at);
        let rule = halving::halving(raw, (&runs, &axes), early_terminate_at, source)?;
        halving::first_rung(&mut runs, rule.rungs[0], source)?;
        settings.halving = Some(rule);
    }
    if let Some(raw) = raw_pbt {
        let others = [
            ("early_terminate", early_terminate.as_ref().map(|(at, _)| *at)),
            ("halving", halving_at),
        ];
        settings.pbt = Some(pbt::pbt(raw, (&runs, &axes), sweep.sampler_seed, others, source)?);
    }
    if let Some((at, (rule, order))) = early_terminate {
        early_terminate::check_evaluated(&runs, at, source)?;
        settings.early_terminate = Some(rule);
        settings.verdict_order = order;
    }
    settings.references = runs
        .iter()
        .filter_map(|run| Some((run.variant.clone()?, run.reference.clone()?)))
        .collect();
    let bayes = (method == Method::Bayes).then(|| Bayes {
        run_cap: run_cap.map_or(0, |(cap, _)| cap),
        sampler_seed: sweep.sampler_seed,
        proposal_lag,
        random_fraction,
        planner: Planner::new(axes, sweep.placement, source)
            .with_first_rung(settings.halving.as_ref().map(|h| h.rungs[0])),
    });
    let data = match base {
        Some(base) => raw.data.map(|d| data_file(&d, source, base)).transpose()?,
        None => None,
    };
    let spec = SweepSpec {
        name,
        description: raw.description,
        method,
        data,
        settings,
        parameters,
        runs,
        bayes,
    };
    Ok((spec, warnings))
}

/// A key only a `bayes` search takes (`method`: the method and how the file wrote it), refused
/// at its line in any other.
fn bayes_only<T>(
    key: Option<Spanned<T>>,
    name: &str,
    (method, written): (Method, &str),
    source: &Source,
) -> Result<Option<Spanned<T>>, SpecError> {
    match key {
        Some(key) if method != Method::Bayes => Err(source.error(
            Some(key.referenced),
            name,
            format!("only a `bayes` search proposes runs; a `{written}` search takes no `{name}`"),
        )),
        key => Ok(key),
    }
}

fn ignored_wandb_keys(raw: &RawSpec, source: &Source) -> Vec<String> {
    [
        ("program", &raw.program),
        ("command", &raw.command),
        ("entity", &raw.entity),
        ("project", &raw.project),
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

/// Whether some parameter ranges over more than one value.
fn searches_something(parameters: Option<&Spanned<OrderedMap<Spanned<RawParameter>>>>) -> bool {
    parameters.is_some_and(|parameters| {
        parameters.value.0.iter().any(|(_, parameter)| {
            let p = &parameter.value;
            p.values.as_ref().is_some_and(|values| values.len() > 1) || p.min.is_some() || p.max.is_some()
        })
    })
}

pub(super) fn method(raw: Option<Spanned<String>>, source: &Source) -> Result<Method, SpecError> {
    let Some(method) = raw else { return Ok(Method::Grid) };
    let written = method.value.as_str();
    Method::ALL.into_iter().find(|m| m.as_str() == written).ok_or_else(|| {
        let names: Vec<String> = Method::ALL.iter().map(|m| format!("`{}`", m.as_str())).collect();
        source.error(
            Some(method.referenced),
            "method",
            format!("unknown method `{written}`; use {}", names.join(" or ")),
        )
    })
}

fn metric(raw: Option<Spanned<super::raw::RawMetric>>, source: &Source) -> Result<Metric, SpecError> {
    let Some(metric) = raw else {
        return Ok(Metric::default());
    };
    let at = Some(metric.referenced);
    let loss: Loss = metric
        .value
        .name
        .parse()
        .map_err(|err: String| source.error(at, "metric.name", err.replace("unknown loss", "unknown metric")))?;
    let goal = match metric.value.goal.as_deref() {
        None => Goal::default(),
        Some(goal) => goal
            .parse()
            .map_err(|err: String| source.error(at, "metric.goal", err))?,
    };
    let target = match metric.value.target {
        Some(target) if !target.is_finite() => {
            return Err(source.error(
                at,
                "metric.target",
                format!("`{target}` is not a number a loss can reach"),
            ));
        }
        target => target,
    };
    Ok(Metric { loss, goal, target })
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
/// The `slurm:` section, its `time` read like `timeout`.
fn slurm(raw: RawSlurm, source: &Source) -> Result<SlurmOptions, SpecError> {
    Ok(SlurmOptions {
        partition: raw.partition,
        account: raw.account,
        qos: raw.qos,
        time: raw.time.map(|t| duration(&t, "slurm.time", source)).transpose()?,
        mem: raw.mem,
        constraint: raw.constraint,
        gres: raw.gres,
        extra_args: raw.extra_args.unwrap_or_default(),
    })
}

/// A duration: seconds, or a number with a unit (`90s`, `30m`, `2h`).
fn duration(raw: &Spanned<Scalar>, key: &str, source: &Source) -> Result<Duration, SpecError> {
    let bad = |at: Location| {
        source.error(
            Some(at),
            key,
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

fn parsed<T: std::str::FromStr<Err = String>>(
    raw: &Spanned<String>,
    key: &str,
    source: &Source,
) -> Result<T, SpecError> {
    raw.value
        .parse()
        .map_err(|err| source.error(Some(raw.referenced), key, err))
}

/// `gpus: [0, 1]`: CUDA indices, at least one, each once.
fn gpus(raw: &Spanned<Vec<u64>>, source: &Source) -> Result<(Vec<usize>, Location), SpecError> {
    let bad = |message: String| source.error(Some(raw.referenced), "gpus", message);
    if raw.value.is_empty() {
        return Err(bad(
            "lists no GPU; give CUDA indices (`gpus: [0, 1]`), or leave it out to use every GPU".into(),
        ));
    }
    let mut gpus: Vec<usize> = Vec::with_capacity(raw.value.len());
    for &gpu in &raw.value {
        let gpu = usize::try_from(gpu)
            .ok()
            .filter(|g| *g < 1024)
            .ok_or_else(|| bad(format!("{gpu} is not a GPU index")))?;
        if gpus.contains(&gpu) {
            return Err(bad(format!("lists GPU {gpu} twice")));
        }
        gpus.push(gpu);
    }
    Ok((gpus, raw.referenced))
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
