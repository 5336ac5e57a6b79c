//! `early_terminate:` → a validated rule for the scheduler, counted in evaluations (every
//! `eval_every` steps): W&B's `hyperband` (`min_iter`, or `max_iter` with `s`; `eta`,
//! default 3; `strict`, default true), `asha` (`min_iter`, default 1; `eta`, default 3) or
//! Optuna's `median` (`n_startup_runs`, default 5; `n_warmup_evals`, default 0); any of them
//! with `order: run` (the default: verdicts in run order, whatever the timing) or `arrival`
//! (as W&B makes them, as runs get there).

use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use super::error::Source;
use super::{PlannedRun, SpecError};
use crate::stopping::asha::Asha;
use crate::stopping::hyperband::{Bands, Hyperband};
use crate::stopping::median::Median;
use crate::stopping::{EarlyTerminate, Order};

/// W&B's default `eta`.
const DEFAULT_ETA: f64 = 3.0;
/// Optuna's default `n_startup_trials`.
const DEFAULT_STARTUP_RUNS: usize = 5;

/// The `early_terminate:` section as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEarlyTerminate {
    #[serde(rename = "type")]
    kind: Spanned<String>,
    min_iter: Option<Spanned<i64>>,
    max_iter: Option<Spanned<i64>>,
    s: Option<Spanned<i64>>,
    eta: Option<Spanned<f64>>,
    strict: Option<Spanned<bool>>,
    n_startup_runs: Option<Spanned<i64>>,
    n_warmup_evals: Option<Spanned<i64>>,
    order: Option<Spanned<String>>,
}

/// Reads a rule's keys (those `RULES` lists for it) into the rule; `Location`: the section's.
type ReadRule = fn(RawEarlyTerminate, Location, &Source) -> Result<EarlyTerminate, SpecError>;

/// Each rule: its `type`, its keys besides `type`, and how its keys are read.
const RULES: [(&str, &[&str], ReadRule); 3] = [
    (
        "hyperband",
        &["min_iter", "max_iter", "s", "eta", "strict"],
        |raw, at, source| hyperband(raw, at, source).map(EarlyTerminate::Hyperband),
    ),
    ("asha", &["min_iter", "eta"], |raw, _, source| {
        asha(raw, source).map(EarlyTerminate::Asha)
    }),
    ("median", &["n_startup_runs", "n_warmup_evals"], |raw, _, source| {
        median(raw, source).map(EarlyTerminate::Median)
    }),
];

impl RawEarlyTerminate {
    /// The keys given, with where.
    fn given(&self) -> Vec<(&'static str, Location)> {
        let keys = [
            ("min_iter", self.min_iter.as_ref().map(|v| v.referenced)),
            ("max_iter", self.max_iter.as_ref().map(|v| v.referenced)),
            ("s", self.s.as_ref().map(|v| v.referenced)),
            ("eta", self.eta.as_ref().map(|v| v.referenced)),
            ("strict", self.strict.as_ref().map(|v| v.referenced)),
            ("n_startup_runs", self.n_startup_runs.as_ref().map(|v| v.referenced)),
            ("n_warmup_evals", self.n_warmup_evals.as_ref().map(|v| v.referenced)),
        ];
        keys.into_iter().filter_map(|(key, at)| Some((key, at?))).collect()
    }
}

/// The validated rule, and the order its verdicts are made in.
pub fn early_terminate(raw: Spanned<RawEarlyTerminate>, source: &Source) -> Result<(EarlyTerminate, Order), SpecError> {
    let (at, mut raw) = (raw.referenced, raw.value);
    let order = match raw.order.take() {
        Some(order) => order
            .value
            .parse()
            .map_err(|err| source.error(Some(order.referenced), "early_terminate.order", err))?,
        None => Order::default(),
    };
    let kind = raw.kind.value.as_str();
    let Some((_, takes, read)) = RULES.iter().find(|(name, _, _)| *name == kind) else {
        return Err(source.error(
            Some(raw.kind.referenced),
            "early_terminate.type",
            format!(
                "unknown type `{kind}`; the types are: {}",
                RULES.map(|(name, _, _)| format!("`{name}`")).join(", ")
            ),
        ));
    };
    if let Some((key, key_at)) = raw.given().into_iter().find(|(key, _)| !takes.contains(key)) {
        return Err(source.error(
            Some(key_at),
            format!("early_terminate.{key}"),
            format!(
                "not a key of `{kind}` early termination (it takes {})",
                takes.join(", ")
            ),
        ));
    }
    Ok((read(raw, at, source)?, order))
}

/// A whole number of at least `least`.
fn count(value: Spanned<i64>, key: &str, least: u64, what: &str, source: &Source) -> Result<u64, SpecError> {
    u64::try_from(value.value).ok().filter(|n| *n >= least).ok_or_else(|| {
        source.error(
            Some(value.referenced),
            format!("early_terminate.{key}"),
            format!("must be at least {least} {what}, got {}", value.value),
        )
    })
}

fn median(raw: RawEarlyTerminate, source: &Source) -> Result<Median, SpecError> {
    Ok(Median {
        n_startup_runs: match raw.n_startup_runs {
            Some(n) => count(n, "n_startup_runs", 1, "completed run", source)? as usize,
            None => DEFAULT_STARTUP_RUNS,
        },
        n_warmup_evals: match raw.n_warmup_evals {
            Some(n) => count(n, "n_warmup_evals", 0, "evaluations", source)? as usize,
            None => 0,
        },
    })
}

fn asha(raw: RawEarlyTerminate, source: &Source) -> Result<Asha, SpecError> {
    Ok(Asha {
        min_iter: match raw.min_iter {
            Some(n) => count(n, "min_iter", 1, "evaluation", source)?,
            None => 1,
        },
        eta: eta(raw.eta, source)?,
    })
}

/// `eta` as given (above 1, as W&B's engine takes it: 1.5 keeps the best two thirds), else
/// W&B's default.
fn eta(raw: Option<Spanned<f64>>, source: &Source) -> Result<f64, SpecError> {
    match raw {
        Some(eta) if !(eta.value > 1.0 && eta.value.is_finite()) => Err(source.error(
            Some(eta.referenced),
            "early_terminate.eta",
            format!(
                "must be above 1 (the best 1/eta of the runs at each band go on), got {}",
                eta.value
            ),
        )),
        Some(eta) => Ok(eta.value),
        None => Ok(DEFAULT_ETA),
    }
}

fn hyperband(raw: RawEarlyTerminate, at: Location, source: &Source) -> Result<Hyperband, SpecError> {
    let count = |value: Spanned<i64>, key: &str| count(value, key, 1, "evaluation", source);
    let bands = match (raw.max_iter, raw.s, raw.min_iter) {
        // W&B's engine reads `max_iter` and `s` first.
        (Some(max_iter), Some(s), _) => Bands::Down {
            max_iter: count(max_iter, "max_iter")?,
            s: u32::try_from(count(s, "s")?).unwrap_or(u32::MAX),
        },
        (_, _, Some(min_iter)) => Bands::Up {
            min_iter: count(min_iter, "min_iter")?,
        },
        _ => {
            return Err(source.error(
                Some(at),
                "early_terminate",
                "hyperband needs `min_iter`, or `max_iter` with `s` (counted in evaluations)",
            ));
        }
    };
    let eta = eta(raw.eta, source)?;
    Hyperband::new(bands, eta, raw.strict.is_none_or(|s| s.value))
        .map_err(|message| source.error(Some(at), "early_terminate", message))
}

/// Every run must be evaluated before its end, or no verdict can ever apply to it.
pub fn check_evaluated(runs: &[PlannedRun], at: Location, source: &Source) -> Result<(), SpecError> {
    let Some((index, run)) = runs
        .iter()
        .enumerate()
        .find(|(_, run)| run.config.eval_every >= run.config.steps)
    else {
        return Ok(());
    };
    Err(source.error(
        Some(at),
        "early_terminate",
        format!(
            "run {} is evaluated only at its end (eval_every {} ≥ steps {}), so nothing can stop it early; \
             lower `eval_every`",
            index + 1,
            run.config.eval_every,
            run.config.steps
        ),
    ))
}
