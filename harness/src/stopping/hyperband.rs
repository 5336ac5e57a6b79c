//! W&B's hyperband early termination, decision for decision as its open-source engine makes
//! them (`sweeps` 0.3.0, `hyperband_stop_runs`): bands of evaluation counts, a threshold at
//! each band from every run that reached it, and the running runs worse than the threshold of
//! the last band they passed. Pure: the judge gives it a running run's history (a
//! minimizer's values, one per evaluation, non-finite ones left out as W&B's
//! `filter_invalid`) and every run's values at each evaluation, sorted;
//! `tests/fixtures/hyperband/cases.json` (made by W&B's engine) pins it down.

use serde::{Deserialize, Serialize};

/// Where the bands lie: `s` bands counting down from `max_iter`, or bands going up from
/// `min_iter`, each `eta` times the last (W&B truncates each to a whole evaluation count).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bands {
    Down { max_iter: u64, s: u32 },
    Up { min_iter: u64 },
}

/// A validated `early_terminate: {type: hyperband, …}`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hyperband {
    bands: Bands,
    eta: f64,
    /// Judge a run by its value at the band (W&B's default) rather than its best so far.
    strict: bool,
}

/// W&B lists this many bands going up; past every history they stop nothing.
const MAX_BANDS_UP: usize = 100;

impl Hyperband {
    /// Checks what W&B checks: `eta` above 1, and at least one band (`max_iter / eta ≥ 1`).
    pub fn new(bands: Bands, eta: f64, strict: bool) -> Result<Self, String> {
        if !(eta > 1.0 && eta.is_finite()) {
            return Err(format!("`eta` must be a number above 1, got {eta}"));
        }
        let hyperband = Self { bands, eta, strict };
        if hyperband.bands(usize::MAX).is_empty() {
            return Err(
                "these settings give no band (max_iter / eta is below 1, or s is 0): increase `max_iter` or `s`, \
                 or lower `eta`"
                    .into(),
            );
        }
        Ok(hyperband)
    }

    /// The band sizes in evaluations, ascending, those of at most `longest` evaluations.
    pub fn bands(&self, longest: usize) -> Vec<usize> {
        let mut bands = Vec::new();
        match self.bands {
            Bands::Down { max_iter, s } => {
                let mut band = max_iter as f64;
                for _ in 0..s {
                    band /= self.eta;
                    if band < 1.0 {
                        break;
                    }
                    bands.push(band as usize);
                }
                bands.sort_unstable();
            }
            Bands::Up { min_iter } => {
                let mut band = min_iter as f64;
                for _ in 0..MAX_BANDS_UP {
                    bands.push(band as usize);
                    band *= self.eta;
                    if band >= longest as f64 + 1.0 {
                        break;
                    }
                }
            }
        }
        bands.retain(|&band| band <= longest);
        bands
    }

    /// "hyperband: bands at 2, 6, 18 evaluations, eta 3, strict", for runs of at most
    /// `longest` evaluations.
    pub fn describe(&self, longest: usize) -> String {
        let bands: Vec<String> = self.bands(longest).iter().map(usize::to_string).collect();
        let judged = if self.strict {
            "strict"
        } else {
            "not strict (best value so far)"
        };
        match bands.as_slice() {
            [] => format!("hyperband: no band within the runs' {longest} evaluations; nothing is stopped"),
            _ => format!(
                "hyperband: bands at {} evaluations, eta {}, {judged}",
                bands.join(", "),
                self.eta
            ),
        }
    }

    /// Whether the running run with history `own` stops, given every run's values (its own
    /// included) at each evaluation, sorted: `at[e]` holds the (e + 1)-th value of each
    /// history that long, and the last list is not empty. The judge keeps these lists as
    /// values arrive, so a verdict reads each band's threshold without a pass over the runs.
    pub fn stops_given(&self, own: &[f64], at: &[Vec<f64>]) -> bool {
        let bands = self.bands(at.len());
        let thresholds: Vec<f64> = bands.iter().map(|&band| self.threshold(&at[band - 1])).collect();
        self.stops(own, &bands, &thresholds)
    }

    /// The last band a history of `evaluations` values has passed.
    pub fn last_band(&self, evaluations: usize) -> Option<usize> {
        self.bands(evaluations).last().copied()
    }

    /// The value a run must not be worse than at a band, from the `sorted` values of every run
    /// that reached it: the one at index ⌊n / eta⌋ (∞ when none did).
    pub fn threshold(&self, sorted: &[f64]) -> f64 {
        let index = ((1.0 / self.eta) * sorted.len() as f64) as usize;
        sorted.get(index).copied().unwrap_or(f64::INFINITY)
    }

    fn stops(&self, values: &[f64], bands: &[usize], thresholds: &[f64]) -> bool {
        let passed = bands
            .iter()
            .zip(thresholds)
            .take_while(|(band, _)| **band <= values.len())
            .last();
        passed.is_some_and(|(&band, &threshold)| self.stops_past(values, band, threshold))
    }

    /// Whether a run with history `values`, past `band`, is worse than that band's
    /// `threshold`: its value there when strict, else its best so far.
    pub fn stops_past(&self, values: &[f64], band: usize, threshold: f64) -> bool {
        self.judged_value(values, band) > threshold
    }

    /// The value of a history past `band` that is held against the band's threshold: the one
    /// at the band when strict, else the best so far.
    pub fn judged_value(&self, values: &[f64], band: usize) -> f64 {
        if self.strict {
            values[band - 1]
        } else {
            values.iter().copied().fold(f64::INFINITY, f64::min)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    const CASES: &str = include_str!("../../../tests/fixtures/hyperband/cases.json");

    fn hyperband(config: &Value) -> Result<Hyperband, String> {
        let int = |key: &str| config.get(key).and_then(Value::as_u64);
        let bands = match (int("max_iter"), int("s"), int("min_iter")) {
            (Some(max_iter), Some(s), _) => Bands::Down { max_iter, s: s as u32 },
            (_, _, Some(min_iter)) => Bands::Up { min_iter },
            _ => panic!("a fixture without max_iter and s, or min_iter: {config}"),
        };
        let eta = config.get("eta").and_then(Value::as_f64).unwrap_or(3.0);
        let strict = config.get("strict").and_then(Value::as_bool).unwrap_or(true);
        Hyperband::new(bands, eta, strict)
    }

    /// Every run's values at each evaluation, sorted, as the judge keeps them.
    fn values_at(runs: &[(bool, Vec<f64>)]) -> Vec<Vec<f64>> {
        let mut at: Vec<Vec<f64>> = Vec::new();
        for (_, values) in runs {
            for (e, &value) in values.iter().enumerate() {
                if at.len() <= e {
                    at.push(Vec::new());
                }
                crate::stopping::sorted_values::insert(&mut at[e], value);
            }
        }
        at
    }

    /// Each run of the case: whether it is running, and its history as a minimizer sees it.
    fn histories(case: &Value) -> Vec<(bool, Vec<f64>)> {
        let sign = if case["goal"] == "maximize" { -1.0 } else { 1.0 };
        let runs = case["runs"].as_array().unwrap();
        runs.iter()
            .map(|run| {
                let values = run["history"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(Value::as_f64)
                    .map(|v| sign * v)
                    .collect();
                (run["state"] == "running", values)
            })
            .collect()
    }

    /// Every case W&B's engine decided (tests/fixtures/hyperband/generate.py): the same runs
    /// stop, the same bands and thresholds, and the configurations it refuses are refused.
    #[test]
    fn hyperband_stops_exactly_the_runs_wandb_s_engine_stops() {
        let fixtures: Value = serde_json::from_str(CASES).unwrap();
        let cases = fixtures["cases"].as_array().unwrap();
        assert!(cases.len() > 300);
        let mut stopped = 0;
        for (number, case) in cases.iter().enumerate() {
            let hyperband = hyperband(&case["early_terminate"]);
            if case.get("error").is_some() {
                assert!(hyperband.is_err(), "case {number}: W&B refuses it");
                continue;
            }
            let hyperband = hyperband.unwrap_or_else(|err| panic!("case {number}: {err}"));
            let runs = histories(case);
            let at = values_at(&runs);
            let names: Vec<&str> = case["runs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["name"].as_str().unwrap())
                .collect();
            let ours: Vec<&str> = runs
                .iter()
                .zip(&names)
                .filter(|((running, values), _)| *running && hyperband.stops_given(values, &at))
                .map(|(_, name)| *name)
                .collect();
            let theirs: Vec<&str> = case["stop"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap())
                .collect();
            assert_eq!(ours, theirs, "case {number}: {case}");
            stopped += ours.len();
            if case.get("bands").is_none() {
                continue; // no run was running: the engine reported no bands
            }
            let raw_longest = case["runs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["history"].as_array().unwrap().len());
            let bands = hyperband.bands(raw_longest.max().unwrap_or(0));
            let expected_bands: Vec<usize> = case["bands"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(bands, expected_bands, "case {number}");
            for (band, threshold) in bands.iter().zip(case["thresholds"].as_array().unwrap()) {
                // In the engine's terms too: negated when maximizing.
                let expected = threshold.as_f64().unwrap_or(f64::INFINITY);
                let sorted = at.get(band - 1).map_or(&[][..], Vec::as_slice);
                assert_eq!(hyperband.threshold(sorted), expected, "case {number}, band {band}");
            }
        }
        assert!(stopped > 200, "the fixtures exercise stopping: {stopped} stops");
    }
}
