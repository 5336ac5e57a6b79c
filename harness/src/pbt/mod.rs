//! Population-based training (Jaderberg et al. 2017), as a pure rule: every `interval`
//! evaluations the population is ranked on its validation values at that step; each member
//! of the bottom quantile, in run order, takes a donor drawn from the top quantile and goes on
//! from the donor's checkpoint with the donor's settings explored (`explore`). The draws come
//! from the sweep's seed and the step alone, so the same values give the same exploits.

pub mod explore;

use model::TrainConfig;
use model::rng::Rng;
use results::RunId;
use serde::{Deserialize, Serialize};

use crate::stopping::asha::nan_last;

pub use explore::{Change, Mutation};

/// A validated `pbt:` section, with the steps its runs share.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pbt {
    /// Members trained at once: the runs of the sweep.
    pub population: usize,
    /// Evaluations between exploits.
    pub interval: u64,
    /// The fraction of the population at the bottom that exploits, and at the top that donates.
    pub quantile: f64,
    /// The chance that a setting is drawn afresh from its distribution instead of perturbed.
    pub resample: f64,
    /// What a perturbation multiplies a number by, one drawn at a time.
    pub factors: Vec<f64>,
    /// The settings that change at an exploit, each with the values it ranges over.
    pub mutations: Vec<Mutation>,
    /// Seeds the draws of donors and changes (the sweep's `sampler_seed`).
    pub seed: u64,
    /// Steps between exploits: `interval` evaluations of `eval_every` steps.
    pub every: u64,
    /// Every member's steps; no exploit at the last.
    pub steps: u64,
}

/// A member of the population at an exploit step: its value there (as a minimizer sees it;
/// NaN ranks last) and its settings.
#[derive(Clone, Debug)]
pub struct Standing {
    pub run: RunId,
    pub value: f64,
    pub config: TrainConfig,
}

/// One member going on from another's checkpoint with new settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Exploit {
    pub run: RunId,
    pub step: u64,
    pub donor: RunId,
    pub before: TrainConfig,
    pub after: TrainConfig,
    /// How each mutable setting went from the donor's value to the new one.
    pub changes: Vec<Change>,
}

impl Pbt {
    /// Whether the population is ranked at the evaluation at `step`.
    pub fn exploits_at(&self, step: u64) -> bool {
        step > 0 && step.is_multiple_of(self.every) && step < self.steps
    }

    /// Every step at which the population is ranked, in order.
    pub fn exploit_steps(&self) -> impl Iterator<Item = u64> + '_ {
        (1..).map(|k| k * self.every).take_while(|step| *step < self.steps)
    }

    /// How `--dry-run` and `explain` say it: "… 8 members of 60000 steps, ranked every 3
    /// evaluations (at 9 steps from 6000 to 54000); the worst 2 go on from the checkpoint of
    /// one of the best 2, lr ×0.8 or ×1.2 within [0.0003, 0.01], … (each drawn afresh 25% of
    /// the time)".
    pub fn describe(&self) -> String {
        let steps: Vec<u64> = self.exploit_steps().collect();
        let at = match steps.as_slice() {
            [one] => format!("at step {one}"),
            [first, .., last] => format!("at {} steps from {first} to {last}", steps.len()),
            [] => "never".into(),
        };
        let k = self.quantile_size(self.population);
        let mutations: Vec<String> = self.mutations.iter().map(|m| m.describe(&self.factors)).collect();
        format!(
            "population-based training: {} members of {} steps, ranked every {} evaluations ({at}); the worst {k} \
             go on from the checkpoint of one of the best {k}, {} (each drawn afresh {:.0}% of the time)",
            self.population,
            self.steps,
            self.interval,
            mutations.join(", "),
            100.0 * self.resample
        )
    }

    /// How many members exploit (and how many donate) in a population of `n`: the quantile,
    /// rounded up, but no more than half, so that no member is both.
    pub fn quantile_size(&self, n: usize) -> usize {
        ((n as f64 * self.quantile).ceil() as usize).min(n / 2)
    }

    /// `members` best first, each read as (run, value as a minimizer sees it): by value (NaN
    /// last), then run.
    pub fn ranked<T>(members: &[T], read: impl Fn(&T) -> (RunId, f64)) -> Vec<&T> {
        let key = |member: &T| {
            let (run, value) = read(member);
            (nan_last(value), run)
        };
        let mut ranked: Vec<&T> = members.iter().collect();
        ranked.sort_by(|a, b| {
            let (a, b) = (key(a), key(b));
            a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))
        });
        ranked
    }

    /// The exploits at `step` among `standings` (the members still training, at `step`).
    pub fn exploits(&self, step: u64, standings: &[Standing]) -> Result<Vec<Exploit>, model::ConfigError> {
        let ranked = Self::ranked(standings, |s| (s.run, s.value));
        let k = self.quantile_size(ranked.len());
        let top = &ranked[..k];
        let mut bottom: Vec<&Standing> = ranked[ranked.len() - k..].to_vec();
        bottom.sort_by_key(|s| s.run);
        let mut rng = Rng::seed_from(self.seed ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        bottom
            .into_iter()
            .map(|member| {
                let donor = top[rng.below(top.len())];
                let (after, changes) = explore::explore(self, &donor.config, &mut rng)?;
                Ok(Exploit {
                    run: member.run,
                    step,
                    donor: donor.run,
                    before: member.config.clone(),
                    after,
                    changes,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
