//! Optuna's `MedianPruner` (its `PercentilePruner` at the 50th percentile), counted in
//! evaluations: a run whose best value so far is worse than the median of the completed
//! runs' values at the same evaluation is stopped — once `n_startup_runs` runs have
//! completed, and never at its first `n_warmup_evals` evaluations. Pure, like `hyperband`.

use serde::{Deserialize, Serialize};

/// A validated `early_terminate: {type: median, …}`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Median {
    /// Completed runs needed before any run is judged (Optuna's `n_startup_trials`, 5).
    pub n_startup_runs: usize,
    /// Evaluations at the start of a run that are never judged (Optuna's `n_warmup_steps`).
    pub n_warmup_evals: usize,
}

impl Median {
    /// Whether a run with curve `own` (a minimizer's values, one per evaluation, up to the
    /// one being judged) stops, given how many runs have `completed` and, sorted, the values
    /// those that reached this evaluation had at it (NaN left out): the judge keeps them
    /// sorted as runs complete, so a verdict costs no pass over the runs.
    pub fn stops(&self, own: &[f64], completed: usize, at_evaluation: &[f64]) -> bool {
        self.stops_against(own, completed, median(at_evaluation))
    }

    /// `stops`, given the median itself (`None` when no run to compare with reached it).
    pub fn stops_against(&self, own: &[f64], compared: usize, median: Option<f64>) -> bool {
        let evaluation = own.len();
        if compared == 0 || compared < self.n_startup_runs || evaluation <= self.n_warmup_evals {
            return false;
        }
        // Optuna stops a run whose values are all NaN.
        let Some(best) = own.iter().copied().filter(|v| !v.is_nan()).reduce(f64::min) else {
            return true;
        };
        median.is_some_and(|median| best > median)
    }
}

/// The median of sorted `values` as `numpy.percentile(values, 50)` gives it: the mean of the
/// two middle values of an even count.
pub fn median(values: &[f64]) -> Option<f64> {
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stopping::sorted_values;

    const RULE: Median = Median {
        n_startup_runs: 2,
        n_warmup_evals: 1,
    };

    // Every decision below is Optuna 5.0.0's on the same curves (`should_prune()`):
    //   study = optuna.create_study(pruner=optuna.pruners.MedianPruner(
    //       n_startup_trials=2, n_warmup_steps=1))
    //   for curve in completed: t = study.ask(); [t.report(v, i) for i, v in enumerate(curve)];
    //                           study.tell(t, curve[-1])
    //   t = study.ask(); [t.report(v, i) for i, v in enumerate(own)]; t.should_prune()
    // e.g. 3.0, 2.3 is pruned at step 1 (2.3 > median(2.0, 2.4) = 2.2), 3.0, 2.1 is not.
    impl Median {
        /// `stops` given the completed runs' whole curves, as Optuna is given them.
        fn stops_among(&self, own: &[f64], completed: &[&[f64]]) -> bool {
            let mut at_evaluation = Vec::new();
            for curve in completed {
                if let Some(&v) = own.len().checked_sub(1).and_then(|e| curve.get(e))
                    && !v.is_nan()
                {
                    sorted_values::insert(&mut at_evaluation, v);
                }
            }
            self.stops(own, completed.len(), &at_evaluation)
        }
    }

    #[test]
    fn a_run_whose_best_is_worse_than_the_median_at_its_evaluation_stops() {
        let completed: [&[f64]; 2] = [&[3.0, 2.0, 1.0], &[3.0, 2.4, 2.0]];
        assert!(RULE.stops_among(&[3.0, 2.3], &completed));
        assert!(!RULE.stops_among(&[3.0, 2.1], &completed));
        assert!(
            !RULE.stops_among(&[9.0], &completed),
            "the warm-up evaluation is not judged"
        );
        // Its best so far counts, not its latest value.
        assert!(!RULE.stops_among(&[2.1, 2.3], &completed));
    }

    #[test]
    fn nothing_stops_before_enough_runs_completed_or_where_none_has_a_value() {
        assert!(
            !RULE.stops_among(&[3.0, 9.0], &[&[3.0, 2.0]]),
            "one completed run of two"
        );
        let short: [&[f64]; 2] = [&[3.0, 2.0], &[3.0, 2.0]];
        assert!(
            !RULE.stops_among(&[3.0, 9.0, 9.0], &short),
            "no completed run reached evaluation 3"
        );
        assert!(
            RULE.stops_among(&[f64::NAN, f64::NAN], &short),
            "all NaN: stopped, as Optuna does"
        );
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&[1.0, 2.0, 3.0, 4.0]), Some(2.5));
        assert_eq!(median(&[1.0, 3.0, 5.0]), Some(3.0));
        assert_eq!(median(&[]), None);
    }
}
