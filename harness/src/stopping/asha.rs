//! Asynchronous successive halving with promotion (Li et al., "A System for Massively
//! Parallel Hyperparameter Tuning", 2020), counted in evaluations: rungs at min_iter·eta^k.
//! At a rung reached by n runs, the best ⌊n / eta⌋ may go on; a run that reaches it and is not
//! among them is paused, and promoted — resumed where it stopped — once later arrivals put it
//! among them while promotions are left. Pure: the judge gives it a rung's runs.

use serde::{Deserialize, Serialize};

/// A validated `early_terminate: {type: asha, …}`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Asha {
    /// The first rung, in evaluations.
    pub min_iter: u64,
    /// Each rung is `eta` times the last, and 1/eta of a rung goes on.
    pub eta: f64,
}

/// Where a run stands at a rung.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AtRung {
    /// Reaching it now: to be judged.
    Arriving,
    /// Went on past it.
    Promoted,
    /// Held there.
    Paused,
    /// Cannot move from it: it ended there (its last evaluation, or stopped).
    Ended,
}

impl Asha {
    /// Whether a run's `evaluations`-th evaluation is a rung.
    pub fn is_rung(&self, evaluations: usize) -> bool {
        let mut rung = self.min_iter as f64;
        while (rung as usize) < evaluations {
            rung *= self.eta;
        }
        rung as usize == evaluations
    }

    /// How many of `runs` runs can reach each of `rungs` rungs: all the first, then ⌊n / eta⌋
    /// of the n at the one before, and at least the one a finite sweep sends on to its end.
    pub fn reach(&self, runs: usize, rungs: usize) -> Vec<usize> {
        let mut reach = Vec::with_capacity(rungs);
        let mut n = runs;
        for _ in 0..rungs {
            reach.push(n);
            n = ((n as f64 / self.eta) as usize).max(1).min(n);
        }
        reach
    }

    /// The runs at a rung that go on now (keys of `runs`, best first): the best
    /// ⌊n / eta⌋ of the n runs there, less those already promoted, as many as promotions are
    /// left. `runs`: each run's key, its value there (as a minimizer sees it) and where it
    /// stands.
    pub fn promote<K: Copy>(&self, runs: &[(K, f64, AtRung)]) -> Vec<K> {
        let allowed = (runs.len() as f64 / self.eta) as usize;
        let promoted = runs.iter().filter(|run| run.2 == AtRung::Promoted).count();
        let left = allowed.saturating_sub(promoted);
        if left == 0 {
            return Vec::new();
        }
        // Ranked by value (NaN last), ties to the earlier run; the best `allowed` are found in
        // linear time, as each arrival at a rung of 10,000 runs asks again.
        let rank = |&a: &usize, &b: &usize| {
            let value = |i: usize| nan_last(runs[i].1);
            value(a).total_cmp(&value(b)).then(a.cmp(&b))
        };
        let mut best: Vec<usize> = (0..runs.len()).collect();
        if allowed < best.len() {
            best.select_nth_unstable_by(allowed, rank);
            best.truncate(allowed);
        }
        best.retain(|&i| matches!(runs[i].2, AtRung::Arriving | AtRung::Paused));
        best.sort_unstable_by(rank);
        best.into_iter().take(left).map(|i| runs[i].0).collect()
    }
}

/// A value to rank by, NaN counted worst.
pub fn nan_last(value: f64) -> f64 {
    if value.is_nan() { f64::INFINITY } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AtRung::*;

    const RULE: Asha = Asha { min_iter: 1, eta: 3.0 };

    #[test]
    fn ties_go_to_the_earlier_run_and_nan_ranks_last() {
        let runs = [
            ("a", f64::NAN, Arriving),
            ("b", 2.0, Paused),
            ("c", 2.0, Arriving),
            ("d", 1.0, Promoted),
            ("e", 3.0, Paused),
            ("f", 2.0, Paused),
        ];
        // The best 2 of 6 may go on: d, already promoted, and b, the first of three at 2.0.
        assert_eq!(RULE.promote(&runs), ["b"]);
        // The best 4: the three at 2.0 follow d in run order; a, NaN, never.
        let wider = Asha { min_iter: 1, eta: 1.5 };
        assert_eq!(wider.promote(&runs), ["b", "c", "f"]);
        let all = Asha { min_iter: 1, eta: 1.0 };
        assert_eq!(all.promote(&runs), ["b", "c", "f", "e", "a"]);
    }

    #[test]
    fn rungs_lie_at_min_iter_times_powers_of_eta() {
        let rungs: Vec<usize> = (1..=30).filter(|&n| RULE.is_rung(n)).collect();
        assert_eq!(rungs, [1, 3, 9, 27]);
        let from_two = Asha { min_iter: 2, eta: 2.0 };
        assert_eq!(
            (1..=20).filter(|&n| from_two.is_rung(n)).collect::<Vec<_>>(),
            [2, 4, 8, 16]
        );
    }

    #[test]
    fn each_rung_is_reached_by_a_fraction_of_the_last_and_the_last_by_at_least_one() {
        let asha = Asha { min_iter: 1, eta: 2.0 };
        assert_eq!(
            asha.reach(6, 4),
            [6, 3, 1, 1],
            "⌊3/2⌋ = 1, then the one sent on to its end"
        );
        assert_eq!(Asha { min_iter: 2, eta: 3.0 }.reach(27, 3), [27, 9, 3]);
        assert_eq!(Asha { min_iter: 1, eta: 1.5 }.reach(4, 4), [4, 2, 1, 1]);
        assert_eq!(asha.reach(0, 2), [0, 0], "nothing to reach them");
    }

    #[test]
    fn the_first_runs_wait_until_a_third_of_the_rung_can_go_on() {
        // Two runs at the rung: ⌊2/3⌋ = 0 may go on.
        assert_eq!(RULE.promote(&[(1, 2.0, Paused), (2, 1.0, Arriving)]), Vec::<i32>::new());
        // The third arrival makes one promotion: the best, here the paused run 2.
        assert_eq!(
            RULE.promote(&[(1, 2.0, Paused), (2, 1.0, Paused), (3, 3.0, Arriving)]),
            [2]
        );
        // Or the newcomer itself when it is the best.
        assert_eq!(
            RULE.promote(&[(1, 2.0, Paused), (2, 1.5, Paused), (3, 1.0, Arriving)]),
            [3]
        );
    }

    #[test]
    fn promotions_already_made_count_and_ended_runs_rank_but_never_move() {
        // Six runs: two may go on; run 1 went on already, run 2 ended there (its last
        // evaluation) and is the best, so only one of the others is promoted: run 4.
        let rung = [
            (1, 1.2, Promoted),
            (2, 1.0, Ended),
            (3, 3.0, Paused),
            (4, 1.1, Paused),
            (5, f64::NAN, Arriving),
            (6, 2.0, Paused),
        ];
        assert_eq!(RULE.promote(&rung), [4]);
        // A promoted run that is no longer among the best still uses its promotion.
        let late = [(1, 9.0, Promoted), (2, 1.0, Paused), (3, 2.0, Arriving)];
        assert_eq!(RULE.promote(&late), Vec::<i32>::new());
    }
}
