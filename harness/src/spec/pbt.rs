//! `pbt:` → `pbt::Pbt`: the population (the runs a `random` search draws, so no `run_cap`),
//! the interval in evaluations, quantile, resample chance, perturbation factors, and `mutate`:
//! the settings that change at an exploit, each one that may change part-way and ranges in
//! `parameters`. It takes early termination's and halving's place; every member trains the
//! same steps with the same evaluations, so that exploits fall on the same steps.

use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use super::domain::Domain;
use super::error::Source;
use super::expand::Axis;
use super::{Method, PlannedRun, SpecError};
use crate::pbt::{Mutation, Pbt};

/// Ray Tune's defaults.
const DEFAULT_QUANTILE: f64 = 0.25;
const DEFAULT_RESAMPLE: f64 = 0.25;
const DEFAULT_FACTORS: [f64; 2] = [0.8, 1.2];

/// The `pbt:` section as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPbt {
    population: Option<Spanned<i64>>,
    interval: Option<Spanned<i64>>,
    quantile: Option<Spanned<f64>>,
    resample: Option<Spanned<f64>>,
    factors: Option<Spanned<Vec<f64>>>,
    mutate: Option<Spanned<Vec<Spanned<String>>>>,
}

/// The population, which a `random` search draws as its runs (in `run_cap`'s place).
pub fn population(
    raw: &Spanned<RawPbt>,
    (method, method_at): (Method, Option<Location>),
    run_cap: Option<Location>,
    source: &Source,
) -> Result<(u64, Location), SpecError> {
    if method != Method::Random {
        return Err(source.error(
            method_at,
            "method",
            format!(
                "a `pbt` population is drawn at random: use `method: random`, not `{}`",
                method.as_str()
            ),
        ));
    }
    if let Some(at) = run_cap {
        return Err(source.error(
            Some(at),
            "run_cap",
            "a `pbt` sweep trains its population, `pbt.population`, at once: remove `run_cap`",
        ));
    }
    let Some(population) = &raw.value.population else {
        return Err(source.error(
            Some(raw.referenced),
            "pbt.population",
            "missing: how many members train at once (`pbt: {population: 8}`)",
        ));
    };
    match u64::try_from(population.value) {
        Ok(n) if n >= 2 => Ok((n, population.referenced)),
        _ => Err(source.error(
            Some(population.referenced),
            "pbt.population",
            format!(
                "must be at least 2 (the worst take from the best), got {}",
                population.value
            ),
        )),
    }
}

/// The validated section for the population `runs` drawn from `axes`; `seed`: the sweep's
/// `sampler_seed`; `others`: where `early_terminate` or `halving` is, if given.
pub fn pbt(
    raw: Spanned<RawPbt>,
    (runs, axes): (&[PlannedRun], &[Axis]),
    seed: u64,
    others: [(&str, Option<Location>); 2],
    source: &Source,
) -> Result<Pbt, SpecError> {
    let (at, raw) = (raw.referenced, raw.value);
    if let Some((key, other)) = others.iter().find_map(|(key, at)| Some((*key, (*at)?))) {
        return Err(source.error(
            Some(other),
            key,
            format!("a `pbt` population trains every member to its end: give `pbt` or `{key}`, not both"),
        ));
    }
    let Some(interval) = raw.interval else {
        return Err(source.error(
            Some(at),
            "pbt.interval",
            "missing: how many evaluations between exploits (`pbt: {interval: 2}`)",
        ));
    };
    let interval_at = interval.referenced;
    let interval = u64::try_from(interval.value).ok().filter(|n| *n >= 1).ok_or_else(|| {
        source.error(
            Some(interval_at),
            "pbt.interval",
            format!("must be at least 1 evaluation, got {}", interval.value),
        )
    })?;
    let quantile = fraction(
        raw.quantile,
        "pbt.quantile",
        Range::AboveZeroToHalf,
        DEFAULT_QUANTILE,
        source,
    )?;
    let resample = fraction(raw.resample, "pbt.resample", Range::ZeroToOne, DEFAULT_RESAMPLE, source)?;
    let factors = match raw.factors {
        Some(f) if f.value.is_empty() || f.value.iter().any(|x| !(x.is_finite() && *x > 0.0)) => {
            return Err(source.error(
                Some(f.referenced),
                "pbt.factors",
                "must list positive numbers to multiply a setting by (`factors: [0.8, 1.2]`)",
            ));
        }
        Some(f) => f.value,
        None => DEFAULT_FACTORS.to_vec(),
    };
    let mutate_at = raw.mutate.as_ref().map_or(at, |list| list.referenced);
    let mutations = mutations(raw.mutate, axes, at, source)?;
    reachable(&mutations, runs, mutate_at, source)?;
    let (steps, eval_every) = shared_steps(runs, at, source)?;
    let (asked, asked_at) = raw.population.map_or((0, at), |p| (p.value, p.referenced));
    if (runs.len() as i64) < asked {
        return Err(source.error(
            Some(asked_at),
            "pbt.population",
            format!(
                "the parameters hold only {} distinct configurations, fewer than the population's {asked}: each \
                 member is a run of its own; widen a range or lower `population`",
                runs.len()
            ),
        ));
    }
    let every = interval.saturating_mul(eval_every);
    if every >= steps {
        return Err(source.error(
            Some(interval_at),
            "pbt.interval",
            format!(
                "{interval} evaluations of {eval_every} steps is {every} steps, not before the members end at \
                 {steps}: no exploit would come; lower `interval` or `eval_every`"
            ),
        ));
    }
    Ok(Pbt {
        population: runs.len(),
        interval,
        quantile,
        resample,
        factors,
        mutations,
        seed,
        every,
        steps,
    })
}

/// Where a fraction of `pbt:` must lie.
#[derive(Clone, Copy)]
enum Range {
    /// (0, 0.5]: no member both takes and gives.
    AboveZeroToHalf,
    /// [0, 1]: a chance.
    ZeroToOne,
}

/// The number given, checked to lie in `range`, else `default`.
fn fraction(
    raw: Option<Spanned<f64>>,
    key: &str,
    range: Range,
    default: f64,
    source: &Source,
) -> Result<f64, SpecError> {
    let Some(value) = raw else { return Ok(default) };
    let (ok, words) = match range {
        Range::AboveZeroToHalf => (
            value.value > 0.0 && value.value <= 0.5,
            "above 0 and at most 0.5 (no member both takes and gives)",
        ),
        Range::ZeroToOne => ((0.0..=1.0).contains(&value.value), "between 0 and 1"),
    };
    if ok {
        return Ok(value.value);
    }
    Err(source.error(
        Some(value.referenced),
        key,
        format!("must be {words}, got {}", value.value),
    ))
}

/// `mutate`: each a setting that may change part-way, given a range or a list in `parameters`.
fn mutations(
    raw: Option<Spanned<Vec<Spanned<String>>>>,
    axes: &[Axis],
    at: Location,
    source: &Source,
) -> Result<Vec<Mutation>, SpecError> {
    let raw = match raw {
        Some(list) if !list.value.is_empty() => list.value,
        other => {
            return Err(source.error(
                other.map_or(Some(at), |list| Some(list.referenced)),
                "pbt.mutate",
                "missing: the settings an exploit changes (`mutate: [lr, weight_decay]`)",
            ));
        }
    };
    let may: Vec<&str> = model::all_settings()
        .iter()
        .filter(|s| s.mid_run)
        .map(|s| s.name)
        .collect();
    let mut mutations: Vec<Mutation> = Vec::with_capacity(raw.len());
    for name in raw {
        let (setting, name_at) = (name.value, name.referenced);
        let fail = |message: String| Err(source.error(Some(name_at), "pbt.mutate", message));
        match model::all_settings().iter().find(|s| s.name == setting) {
            None => {
                return fail(format!(
                    "`{setting}` is not a setting; these can change part-way: {}",
                    may.join(", ")
                ));
            }
            Some(s) if !s.mid_run => {
                return fail(format!(
                    "`{setting}` cannot change part-way through a run (it shapes the model or the data); these can: {}",
                    may.join(", ")
                ));
            }
            Some(_) => {}
        }
        if mutations.iter().any(|m| m.setting == setting) {
            return fail(format!("`{setting}` is listed twice"));
        }
        let domain = axes
            .iter()
            .find(|axis| axis.key == setting)
            .map(|axis| axis.domain.clone());
        let Some(domain) = domain.filter(|d| !matches!(d, Domain::Fixed(_))) else {
            return fail(format!(
                "give `{setting}` a range or a list of values in `parameters`: the members' first values are \
                 drawn from it, and perturbations stay within it"
            ));
        };
        mutations.push(Mutation { setting, domain });
    }
    Ok(mutations)
}

/// Every value an exploit can give a mutated setting — each value of a list, the ends of a
/// range, which perturbations are held at — must make a run of the first member's other
/// settings: a member never meets a setting it cannot take part-way through (dropout 1).
fn reachable(mutations: &[Mutation], runs: &[PlannedRun], at: Location, source: &Source) -> Result<(), SpecError> {
    let Some(first) = runs.first() else { return Ok(()) };
    let Ok(serde_json::Value::Object(base)) = serde_json::to_value(&first.config) else {
        unreachable!("a configuration serializes as an object")
    };
    for mutation in mutations {
        for value in mutation.domain.examples() {
            let mut values = base.clone();
            values.insert(mutation.setting.clone(), value.to_json());
            if let Err(err) = model::TrainConfig::try_from(values) {
                return Err(source.error(
                    Some(at),
                    "pbt.mutate",
                    format!(
                        "an exploit can set `{}` to {value}, which a run cannot take: {err}; narrow its range",
                        mutation.setting
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The `steps` and `eval_every` every member shares.
fn shared_steps(runs: &[PlannedRun], at: Location, source: &Source) -> Result<(u64, u64), SpecError> {
    let first = runs.first().map(|run| (run.config.steps, run.config.eval_every));
    match first {
        Some(shared)
            if runs
                .iter()
                .all(|run| (run.config.steps, run.config.eval_every) == shared) =>
        {
            Ok(shared)
        }
        _ => Err(source.error(
            Some(at),
            "pbt",
            "every member must train the same `steps` with the same `eval_every`, so that exploits fall on \
             the same steps: give each one value",
        )),
    }
}
