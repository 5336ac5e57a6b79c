//! `early_terminate:` → a validated rule for the scheduler: W&B's `hyperband` (`min_iter`,
//! or `max_iter` with `s`; `eta`, default 3; `strict`, default true), counted in
//! evaluations (every `eval_every` steps). `asha` and `median` are named in a warning and
//! ignored until the scheduler has them.

use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use super::error::Source;
use super::{PlannedRun, SpecError};
use crate::scheduler::hyperband::{Bands, Hyperband};

/// W&B's default `eta`.
const DEFAULT_ETA: f64 = 3.0;

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
    strict: Option<bool>,
}

/// The rule, or `None` for a type the scheduler does not apply yet (with a warning).
pub fn early_terminate(
    raw: Spanned<RawEarlyTerminate>,
    source: &Source,
    warnings: &mut Vec<String>,
) -> Result<Option<Hyperband>, SpecError> {
    let (at, raw) = (raw.referenced, raw.value);
    match raw.kind.value.as_str() {
        "hyperband" => hyperband(raw, at, source).map(Some),
        "asha" | "median" => {
            warnings.push(source.warning(
                raw.kind.referenced,
                format!(
                    "early termination `{}` is not implemented yet; every run trains to its end",
                    raw.kind.value
                ),
            ));
            Ok(None)
        }
        other => Err(source.error(
            Some(raw.kind.referenced),
            "early_terminate.type",
            format!("unknown type `{other}`: W&B's is `hyperband`"),
        )),
    }
}

fn hyperband(raw: RawEarlyTerminate, at: Location, source: &Source) -> Result<Hyperband, SpecError> {
    let count = |value: Spanned<i64>, key: &str| {
        u64::try_from(value.value).ok().filter(|n| *n >= 1).ok_or_else(|| {
            source.error(
                Some(value.referenced),
                format!("early_terminate.{key}"),
                format!("must be at least 1 evaluation, got {}", value.value),
            )
        })
    };
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
    Hyperband::new(bands, eta, raw.strict.unwrap_or(true))
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
