//! Successive halving with restarts (Jamieson & Talwalkar 2016), in steps: every configuration
//! first trains a complete short run at the first rung, its schedule scaled to it; once every
//! run of a rung has ended, the best ⌊n / eta⌋ (at least one) train again from the start at the
//! next rung, up to the sweep's `steps`. Nothing is judged part-way, so nothing depends on
//! timing. Pure: `session::proposer::halving` asks it what comes next, `explain` and `replay` why.

use std::collections::HashSet;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

/// A validated `halving:` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Halving {
    /// Each rung's training steps, increasing; the last is the sweep's `steps`.
    pub rungs: Vec<u64>,
    /// 1/eta of a rung's runs go on to the next.
    pub eta: f64,
}

/// A run of a halving sweep as the rule sees it.
#[derive(Clone, Debug)]
pub struct RungRun<C> {
    /// Its configuration, apart from its steps.
    pub config: C,
    pub rung: usize,
    /// Its result as a minimizer sees it (infinite for a run that failed or diverged); `None`
    /// until it ends.
    pub result: Option<f64>,
}

/// What a halving sweep trains next.
#[derive(Debug, PartialEq)]
pub enum Next {
    /// The configuration of `runs[from]`, again from the start at rung `rung`.
    Train { from: usize, rung: usize },
    /// Not until every run of the latest rung has ended.
    Wait,
    /// Every rung has its runs.
    Done,
}

impl Halving {
    /// Rungs at steps / eta^k, rounded, down to no fewer than `min_steps`.
    pub fn new(steps: u64, min_steps: u64, eta: f64) -> Result<Self, String> {
        let mut rungs = vec![steps];
        let mut k = 1;
        loop {
            let below = (steps as f64 / eta.powi(k)).round() as u64;
            if below < min_steps.max(1) {
                break;
            }
            if below >= *rungs.last().unwrap_or(&steps) {
                return Err(format!(
                    "eta {eta} is too close to 1 for rungs of whole steps: rung {} would train {below} steps, as \
                     many as the rung above it; raise `eta` or `min_steps`",
                    k + 1
                ));
            }
            rungs.push(below);
            k += 1;
        }
        if rungs.len() < 2 {
            return Err(format!(
                "with steps {steps} and eta {eta}, no rung is at or above min_steps {min_steps}: the first \
                 rung is steps / eta ({:.0}); lower `min_steps` or `eta`",
                steps as f64 / eta
            ));
        }
        rungs.reverse();
        Ok(Self { rungs, eta })
    }

    /// The rung whose runs train `steps` steps.
    pub fn rung_of(&self, steps: u64) -> Option<usize> {
        self.rungs.iter().position(|&rung| rung == steps)
    }

    /// How many of a rung's `n` runs go on: ⌊n / eta⌋, at least one.
    pub fn goes_on(&self, n: usize) -> usize {
        ((n as f64 / self.eta) as usize).max(1).min(n)
    }

    /// How many runs each rung has when the first has `n` and every run has a result.
    pub fn runs_per_rung(&self, n: usize) -> Vec<usize> {
        let mut runs = vec![n];
        for _ in 1..self.rungs.len() {
            let last = *runs.last().unwrap_or(&0);
            runs.push(self.goes_on(last));
        }
        runs
    }

    /// The training steps of a sweep whose first rung has `n` runs.
    pub fn steps_in_all(&self, n: usize) -> u64 {
        self.runs_per_rung(n)
            .iter()
            .zip(&self.rungs)
            .map(|(&runs, &steps)| runs as u64 * steps)
            .sum()
    }

    /// How `--dry-run` says it for a first rung of `n` runs: "… 29 configurations, 29 at 1111
    /// steps, then 9 at 3333 steps, then 3 at 10000 steps: at most 92216 training steps, 38% of
    /// all 29 trained to 10000".
    pub fn describe(&self, n: usize) -> String {
        let rungs: Vec<String> = self
            .runs_per_rung(n)
            .iter()
            .zip(&self.rungs)
            .map(|(runs, steps)| format!("{runs} at {steps} steps"))
            .collect();
        let full = self.rungs.last().copied().unwrap_or(0);
        let steps = self.steps_in_all(n);
        format!(
            "successive halving with restarts, eta {}: {} configurations, {}: at most {steps} training \
             steps, {:.0}% of all {n} trained to {full}",
            self.eta,
            n,
            rungs.join(", then "),
            100.0 * steps as f64 / (n as u64 * full).max(1) as f64
        )
    }

    /// Indexes into `results` (a rung's runs' results, in run order), best first: ties go to
    /// the earlier run, a run without a finite result ranks last.
    pub fn ranked(results: &[f64]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..results.len()).collect();
        let key = |i: &usize| {
            if results[*i].is_finite() {
                results[*i]
            } else {
                f64::INFINITY
            }
        };
        order.sort_by(|a, b| key(a).total_cmp(&key(b)).then(a.cmp(b)));
        order
    }

    /// Of a rung's runs' `results`, the ones that go on, best first: the best `goes_on` of
    /// them with a finite result.
    pub fn promoted(&self, results: &[f64]) -> Vec<usize> {
        let ranked = Self::ranked(results);
        let finite = ranked.iter().filter(|&&i| results[i].is_finite()).count();
        ranked
            .into_iter()
            .take(self.goes_on(results.len()).min(finite))
            .collect()
    }

    /// Per run of a rung (`results`, in run order): its place in the ranking (0 = best) and
    /// whether it goes on.
    pub fn standings(&self, results: &[f64]) -> Vec<(usize, bool)> {
        let mut standings = vec![(0, false); results.len()];
        for (place, i) in Self::ranked(results).into_iter().enumerate() {
            standings[i].0 = place;
        }
        for i in self.promoted(results) {
            standings[i].1 = true;
        }
        standings
    }

    /// Rung by rung, once every run of a rung has ended: the first configuration that goes
    /// on and has no run at the next rung yet, the best first.
    pub fn next<C: Eq + Hash>(&self, runs: &[RungRun<C>]) -> Next {
        for rung in 0..self.rungs.len() - 1 {
            let at: Vec<usize> = (0..runs.len()).filter(|&i| runs[i].rung == rung).collect();
            let Some(results) = at.iter().map(|&i| runs[i].result).collect::<Option<Vec<f64>>>() else {
                return Next::Wait;
            };
            let above: HashSet<&C> = runs
                .iter()
                .filter(|run| run.rung == rung + 1)
                .map(|run| &run.config)
                .collect();
            let missing = self
                .promoted(&results)
                .into_iter()
                .map(|i| at[i])
                .find(|&from| !above.contains(&runs[from].config));
            if let Some(from) = missing {
                return Next::Train { from, rung: rung + 1 };
            }
        }
        Next::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(config: &'static str, rung: usize, result: Option<f64>) -> RungRun<&'static str> {
        RungRun { config, rung, result }
    }

    #[test]
    fn rungs_divide_the_steps_by_eta_down_to_min_steps() {
        assert_eq!(Halving::new(10_000, 1_000, 3.0).unwrap().rungs, [1_111, 3_333, 10_000]);
        assert_eq!(Halving::new(40, 10, 2.0).unwrap().rungs, [10, 20, 40]);
        assert_eq!(Halving::new(40, 11, 2.0).unwrap().rungs, [20, 40]);
        assert!(Halving::new(40, 30, 2.0).unwrap_err().contains("lower `min_steps`"));
        assert!(Halving::new(10, 1, 1.01).unwrap_err().contains("too close to 1"));
    }

    #[test]
    fn a_rung_sends_on_a_third_and_at_least_one() {
        let halving = Halving::new(10_000, 1_000, 3.0).unwrap();
        assert_eq!(halving.runs_per_rung(29), [29, 9, 3]);
        assert_eq!(halving.runs_per_rung(2), [2, 1, 1]);
        assert_eq!(halving.steps_in_all(29), 29 * 1_111 + 9 * 3_333 + 3 * 10_000);
    }

    #[test]
    fn the_best_go_on_ties_to_the_earlier_run_and_failures_never() {
        let halving = Halving::new(40, 10, 2.0).unwrap();
        let results = [2.0, f64::INFINITY, 1.0, 2.0, f64::NAN, 3.0];
        assert_eq!(Halving::ranked(&results), [2, 0, 3, 5, 1, 4]);
        assert_eq!(halving.promoted(&results), [2, 0, 3]);
        let standings = halving.standings(&results);
        assert_eq!(standings[0], (1, true));
        assert_eq!(standings[5], (3, false));
        assert_eq!(halving.promoted(&[f64::INFINITY, f64::NAN]), Vec::<usize>::new());
    }

    #[test]
    fn a_rung_waits_for_all_its_runs_then_sends_on_the_best_missing() {
        let halving = Halving::new(40, 10, 2.0).unwrap();
        let mut runs = vec![
            run("a", 0, Some(2.0)),
            run("b", 0, None),
            run("c", 0, Some(1.0)),
            run("d", 0, Some(3.0)),
        ];
        assert_eq!(halving.next(&runs), Next::Wait);
        runs[1].result = Some(1.5);
        assert_eq!(halving.next(&runs), Next::Train { from: 2, rung: 1 });
        runs.push(run("c", 1, None));
        assert_eq!(halving.next(&runs), Next::Train { from: 1, rung: 1 });
        runs.push(run("b", 1, Some(2.5)));
        assert_eq!(halving.next(&runs), Next::Wait);
        runs[4].result = Some(2.0);
        assert_eq!(halving.next(&runs), Next::Train { from: 4, rung: 2 });
        runs.push(run("c", 2, None));
        assert_eq!(halving.next(&runs), Next::Done);
    }
}
