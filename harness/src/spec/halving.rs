//! `halving:` → `stopping::halving::Halving`: `min_steps` (required) and `eta` (default 3),
//! rungs counted down from the runs' `steps`. It takes early termination's place, so the two
//! are refused together; every run must train the same steps (the last rung), and a warm-up
//! must end within the first rung. `first_rung` then sets the runs planned at launch to the
//! first rung's steps; `Planner` does the same for the runs `bayes` proposes.

use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use super::error::Source;
use super::expand::Axis;
use super::raw::Scalar;
use super::{PlannedRun, SpecError};
use crate::stopping::halving::Halving;

/// W&B's and Hyperband's usual `eta`.
const DEFAULT_ETA: f64 = 3.0;

/// The `halving:` section as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHalving {
    min_steps: Option<Spanned<i64>>,
    eta: Option<Spanned<f64>>,
}

/// The validated section, for `runs` (the runs planned at launch) and `axes` (the parameters
/// a `bayes` search proposes); `early_terminate`: where that section is, if given.
pub fn halving(
    raw: Spanned<RawHalving>,
    (runs, axes): (&[PlannedRun], &[Axis]),
    early_terminate: Option<Location>,
    source: &Source,
) -> Result<Halving, SpecError> {
    let (at, raw) = (raw.referenced, raw.value);
    if let Some(other) = early_terminate {
        return Err(source.error(
            Some(other),
            "early_terminate",
            "a sweep with `halving` judges complete short runs, not runs part-way: give `halving` or \
             `early_terminate`, not both",
        ));
    }
    let Some(min_steps) = raw.min_steps else {
        return Err(source.error(
            Some(at),
            "halving.min_steps",
            "missing: the fewest steps a first-rung run trains (`halving: {min_steps: 1000}`)",
        ));
    };
    let min_steps_at = min_steps.referenced;
    let min_steps = u64::try_from(min_steps.value).ok().filter(|n| *n >= 1).ok_or_else(|| {
        source.error(
            Some(min_steps_at),
            "halving.min_steps",
            format!("must be at least 1 step, got {}", min_steps.value),
        )
    })?;
    let eta = match raw.eta {
        Some(eta) if !(eta.value > 1.0 && eta.value.is_finite()) => {
            return Err(source.error(
                Some(eta.referenced),
                "halving.eta",
                format!(
                    "must be above 1 (the best 1/eta of a rung's runs go on), got {}",
                    eta.value
                ),
            ));
        }
        Some(eta) => eta.value,
        None => DEFAULT_ETA,
    };
    let steps = same_steps(runs, axes, at, source)?;
    let halving = Halving::new(steps, min_steps, eta)
        .map_err(|message| source.error(Some(min_steps_at), "halving.min_steps", message))?;
    check_warmup(&halving, (runs, axes), at, source)?;
    Ok(halving)
}

/// A warm-up must end within the first rung, in every run `warmup_steps` ranging over values
/// may give (`bayes` proposes more than it planned) and in every run planned.
fn check_warmup(
    halving: &Halving,
    (runs, axes): (&[PlannedRun], &[Axis]),
    at: Location,
    source: &Source,
) -> Result<(), SpecError> {
    let proposed = axes
        .iter()
        .filter(|axis| axis.key == "warmup_steps")
        .filter_map(|axis| axis.domain.grid())
        .filter(|values| values.len() > 1)
        .flatten()
        .filter_map(|value| match value {
            Scalar::Int(steps) => u64::try_from(steps).ok(),
            _ => None,
        })
        .max();
    if let Some(longest) = proposed.filter(|&steps| steps >= halving.rungs[0]) {
        return Err(source.error(
            Some(at),
            "halving",
            format!(
                "`warmup_steps` ranges up to {longest} steps, as long as or longer than the first rung ({} \
                 steps); lower it or raise `min_steps`",
                halving.rungs[0]
            ),
        ));
    }
    if let Some(run) = runs.iter().position(|run| run.config.warmup_steps >= halving.rungs[0]) {
        return Err(source.error(
            Some(at),
            "halving",
            format!(
                "run {} warms up for {} steps, as long as or longer than the first rung ({} steps); lower \
                 `warmup_steps` or raise `min_steps`",
                run + 1,
                runs[run].config.warmup_steps,
                halving.rungs[0]
            ),
        ));
    }
    Ok(())
}

/// The steps every run trains: rungs are counted down from them.
fn same_steps(runs: &[PlannedRun], axes: &[Axis], at: Location, source: &Source) -> Result<u64, SpecError> {
    let varied = |axis: &&Axis| axis.key == "steps" && axis.domain.grid().is_none_or(|values| values.len() > 1);
    let steps = runs.first().map(|run| run.config.steps);
    let differs = runs.iter().any(|run| Some(run.config.steps) != steps);
    match steps {
        Some(steps) if !differs && !axes.iter().any(|axis| varied(&axis)) => Ok(steps),
        _ => Err(source.error(
            Some(at),
            "halving",
            "every run must train the same `steps`, the last rung's: give `steps` one value",
        )),
    }
}

/// `runs`, each trained at the first rung's `steps`.
pub fn first_rung(runs: &mut [PlannedRun], steps: u64, source: &Source) -> Result<(), SpecError> {
    for (index, run) in runs.iter_mut().enumerate() {
        run.config = run.config.with_steps(steps).map_err(|err| {
            source.error(
                None,
                "halving",
                format!("run {} at the first rung's {steps} steps: {err}", index + 1),
            )
        })?;
        for (key, value) in &mut run.assigned {
            if key == "steps" {
                *value = serde_json::Value::from(steps);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::spec::{SpecError, SweepSpec, parse};

    const SEARCH: &str = "name: h
method: random
run_cap: 4
parameters:
  lr: {min: 0.01, max: 0.5}
  steps: {value: 900}
";

    fn parsed(yaml: &str) -> SweepSpec {
        parse(yaml, "sweep.yaml", Path::new("."))
            .unwrap_or_else(|err| panic!("{err}"))
            .0
    }

    fn error(yaml: &str) -> SpecError {
        parse(yaml, "sweep.yaml", Path::new(".")).expect_err("a mistake")
    }

    #[test]
    fn runs_planned_and_proposed_train_the_first_rungs_steps() {
        let spec = parsed(&format!("{SEARCH}halving: {{min_steps: 100}}\n"));
        let halving = spec.settings.halving.expect("halving");
        assert_eq!(
            (halving.rungs.as_slice(), halving.eta),
            ([100, 300, 900].as_slice(), 3.0)
        );
        assert!(
            spec.runs.iter().all(|run| run.config.steps == 100),
            "{:?}",
            spec.runs[0].config.steps
        );
        let bayes = parsed(&format!(
            "{}halving: {{min_steps: 100}}\n",
            SEARCH.replace("random", "bayes")
        ));
        let planner = bayes.bayes.expect("bayes").planner;
        assert_eq!(planner.first_rung(), Some(100));
        let proposed = planner
            .plan(planner.values_of(&bayes.runs[0].config.applicable_settings()))
            .unwrap();
        assert_eq!(proposed.config.steps, 100);
    }

    #[test]
    fn each_mistake_names_its_key_and_line() {
        let cases = [
            (
                "halving: {min_steps: 100}\nearly_terminate: {type: asha}\n",
                "early_terminate",
                8,
                "not both",
            ),
            ("halving: {eta: 2}\n", "halving.min_steps", 7, "missing"),
            ("halving: {min_steps: 0}\n", "halving.min_steps", 7, "at least 1 step"),
            (
                "halving: {min_steps: 400}\n",
                "halving.min_steps",
                7,
                "lower `min_steps`",
            ),
            ("halving: {min_steps: 100, eta: 1}\n", "halving.eta", 7, "above 1"),
        ];
        for (section, key, line, words) in cases {
            let err = error(&format!("{SEARCH}{section}"));
            assert_eq!((err.key(), err.line()), (Some(key), Some(line)), "{err}");
            assert!(err.message().contains(words), "`{words}` not in {err}");
        }
        let varied = error(&format!(
            "{}halving: {{min_steps: 100}}\n",
            SEARCH.replace("{value: 900}", "{values: [900, 1000]}")
        ));
        assert!(varied.message().contains("the same `steps`"), "{varied}");
        let warm = error(&format!(
            "{SEARCH}  warmup_steps: {{value: 100}}\nhalving: {{min_steps: 100}}\n"
        ));
        assert!(warm.message().contains("warms up for 100 steps"), "{warm}");
        let bayes = SEARCH.replace("random", "bayes");
        let warm = error(&format!(
            "{bayes}  warmup_steps: {{values: [0, 100]}}\nhalving: {{min_steps: 100}}\n"
        ));
        assert!(warm.message().contains("ranges up to 100 steps"), "{warm}");
        let unknown = error(&format!("{SEARCH}halving: {{min_steps: 100, max_steps: 900}}\n"));
        assert!(unknown.to_string().contains("max_steps"), "{unknown}");
    }
}
