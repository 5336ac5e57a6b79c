//! `early_terminate:` → a validated rule for the scheduler, counted in evaluations (every
//! `eval_every` steps): W&B's `hyperband` (`min_iter`, or `max_iter` with `s`; `eta`,
//! default 3; `strict`, default true) or Optuna's `median` (`n_startup_runs`, default 5;
//! `n_warmup_evals`, default 0). `asha` is named in a warning and ignored until the
//! scheduler has it.

use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use super::error::Source;
use super::{PlannedRun, SpecError};
use crate::scheduler::EarlyTerminate;
use crate::scheduler::hyperband::{Bands, Hyperband};
use crate::scheduler::median::Median;

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
}

impl RawEarlyTerminate {
    /// Where the first key of another rule's is (name and location), if any.
    fn foreign_key(&self, hyperband: bool) -> Option<(&'static str, Location)> {
        let at = |value: Option<Location>, key| value.map(|at| (key, at));
        if hyperband {
            at(self.n_startup_runs.as_ref().map(|v| v.referenced), "n_startup_runs")
                .or(at(self.n_warmup_evals.as_ref().map(|v| v.referenced), "n_warmup_evals"))
        } else {
            at(self.min_iter.as_ref().map(|v| v.referenced), "min_iter")
                .or(at(self.max_iter.as_ref().map(|v| v.referenced), "max_iter"))
                .or(at(self.s.as_ref().map(|v| v.referenced), "s"))
                .or(at(self.eta.as_ref().map(|v| v.referenced), "eta"))
                .or(at(self.strict.as_ref().map(|v| v.referenced), "strict"))
        }
    }
}

/// The rule, or `None` for a type the scheduler does not apply yet (with a warning).
pub fn early_terminate(
    raw: Spanned<RawEarlyTerminate>,
    source: &Source,
    warnings: &mut Vec<String>,
) -> Result<Option<EarlyTerminate>, SpecError> {
    let (at, raw) = (raw.referenced, raw.value);
    let kind = raw.kind.value.as_str();
    if !["hyperband", "median", "asha"].contains(&kind) {
        return Err(source.error(
            Some(raw.kind.referenced),
            "early_terminate.type",
            format!("unknown type `{kind}`: `hyperband` (W&B's) or `median` (Optuna's)"),
        ));
    }
    if kind == "asha" {
        warnings.push(source.warning(
            raw.kind.referenced,
            "early termination `asha` is not implemented yet; every run trains to its end",
        ));
        return Ok(None);
    }
    let hyperband_rule = kind == "hyperband";
    if let Some((key, key_at)) = raw.foreign_key(hyperband_rule) {
        let own = if hyperband_rule {
            "min_iter, max_iter, s, eta, strict"
        } else {
            "n_startup_runs, n_warmup_evals"
        };
        return Err(source.error(
            Some(key_at),
            format!("early_terminate.{key}"),
            format!("not a key of `{kind}` early termination (it takes {own})"),
        ));
    }
    if hyperband_rule {
        hyperband(raw, at, source).map(|rule| Some(EarlyTerminate::Hyperband(rule)))
    } else {
        median(raw, source).map(|rule| Some(EarlyTerminate::Median(rule)))
    }
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
    let eta = match raw.eta {
        Some(eta) if !(eta.value >= 2.0 && eta.value.is_finite()) => {
            return Err(source.error(
                Some(eta.referenced),
                "early_terminate.eta",
                format!(
                    "must be at least 2 (the fraction 1/eta of runs goes on at each band), got {}",
                    eta.value
                ),
            ));
        }
        Some(eta) => eta.value,
        None => DEFAULT_ETA,
    };
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
