//! What a `bayes` search knows and how it proposes from it, with no side effect: each run so
//! far (under `halving:`, each first-rung run) with its values and result (its metric at its
//! end, or where early termination first held it), and run n's values drawn by TPE from the
//! runs before n − `proposal_lag`, the rest as the constant liar (or, for `random_fraction` of
//! the runs, at random). The live proposer adds runs as it plans them; `explain` and `replay`
//! build it from the store to draw proposals again.

use std::collections::HashMap;

use anyhow::Context;
use model::rng::Rng;
use results::{RunId, RunRecord, Store, SweepRecord};

use crate::spec::tpe::Scored;
use crate::spec::{self, BAYES_STARTUP, Bayes, Goal, Metric, Scalar};
use crate::view::table;

/// Proposals that repeat a configuration already in the sweep are drawn again, this often.
pub const TRIES: usize = 20;

/// A run as the search sees it.
struct Observed {
    id: RunId,
    values: Vec<Scalar>,
    /// Its result as a minimizer sees it; `None` until known.
    result: Option<f64>,
    /// The last validation point reported: (step, loss).
    last: (u64, f64),
}

/// What proposal n learns from: each run before it with its values and its result, `None`
/// for the last `proposal_lag`, counted as still training.
pub type Learned = Vec<(Vec<Scalar>, Option<f64>)>;

/// A proposal drawn again: TPE's draw, or a random one where TPE's repeated a run.
pub struct Drawn {
    /// How many draws before it repeated an earlier run's values.
    pub attempt: usize,
    /// Per parameter, the value and (TPE's draw only) every candidate's score.
    pub scored: Vec<Scored>,
}

impl Drawn {
    pub fn values(&self) -> Vec<Scalar> {
        self.scored.iter().map(|s| s.value.clone()).collect()
    }
}

pub struct Search {
    pub bayes: Bayes,
    metric: Metric,
    /// Every run so far, in id order.
    runs: Vec<Observed>,
}

impl Search {
    /// The search whose runs are `all` so far, with the step and loss each was first held at,
    /// if it was (`held`).
    pub fn new(bayes: Bayes, metric: Metric, all: &[RunRecord], held: &[(RunId, u64, f64)]) -> anyhow::Result<Self> {
        let mut search = Self {
            bayes,
            metric,
            runs: Vec::new(),
        };
        let held: HashMap<RunId, f64> = held.iter().map(|&(run, _, loss)| (run, loss)).collect();
        for run in all {
            let config: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&run.config_json)
                .with_context(|| format!("run {} has an unreadable configuration", run.id))?;
            // Under `halving:` the search proposes the first rung's runs and learns from them alone.
            if let Some(steps) = search.bayes.planner.first_rung()
                && config.get("steps").and_then(|s| s.as_u64()) != Some(steps)
            {
                continue;
            }
            search.runs.push(Observed {
                id: run.id,
                values: search.bayes.planner.values_of(&config),
                result: held.get(&run.id).map(|loss| minimized(search.metric.goal, *loss)),
                last: (0, f64::NAN),
            });
            if run.status.has_ended() {
                search.ended(run.id, search.metric.loss.of(run));
            }
        }
        Ok(search)
    }

    /// The search `sweep` is, if it is a `bayes` one, as the store holds it with its runs
    /// `all` so far.
    pub fn stored(
        store: &Store,
        sweep: &SweepRecord,
        metric: Metric,
        all: &[RunRecord],
    ) -> anyhow::Result<Option<Self>> {
        let Some(text) = &sweep.spec else {
            return Ok(None);
        };
        let Some(bayes) = spec::stored_bayes(text, &sweep.name)? else {
            return Ok(None);
        };
        // Under early termination a run's result is its loss where it was first held.
        let held = store.first_held(sweep.id)?;
        Ok(Some(Self::new(bayes, metric, all, &held)?))
    }

    /// Runs so far.
    pub fn len(&self) -> usize {
        self.runs.len()
    }

    /// How many random runs the search starts with, planned at launch.
    pub fn startup(&self) -> usize {
        self.bayes.run_cap.min(BAYES_STARTUP) as usize
    }

    /// Whether run number `index` (0-based) is one TPE proposes, not a random first one.
    pub fn proposes(&self, index: usize) -> bool {
        index >= self.startup()
    }

    /// Whether run number `index` (0-based), one TPE would propose, is drawn at random instead
    /// (`Bayes::random_turn`).
    pub fn drawn_at_random(&self, index: usize) -> bool {
        index
            .checked_sub(self.startup())
            .is_some_and(|turn| self.bayes.random_turn(turn))
    }

    /// The id of run number `index` (0-based).
    pub fn id(&self, index: usize) -> RunId {
        self.runs[index].id
    }

    /// The run ids of runs number `range` (0-based).
    pub fn ids(&self, range: std::ops::Range<usize>) -> Vec<RunId> {
        self.runs[range].iter().map(|run| run.id).collect()
    }

    /// Adds the run just proposed.
    pub fn push(&mut self, id: RunId, values: Vec<Scalar>) {
        self.runs.push(Observed {
            id,
            values,
            result: None,
            last: (0, f64::NAN),
        });
    }

    /// What run number `index` (0-based) learns from: `None` until each of the runs before
    /// the last `proposal_lag` has its result; nothing if it is drawn at random.
    pub fn learned(&self, index: usize) -> Option<Learned> {
        if self.drawn_at_random(index) {
            return Some(Learned::new());
        }
        let known = index.saturating_sub(self.bayes.proposal_lag);
        let (before, lying) = self.runs[..index].split_at(known);
        if before.iter().any(|run| run.result.is_none()) {
            return None;
        }
        let with_results = before.iter().map(|run| (run.values.clone(), run.result));
        Some(
            with_results
                .chain(lying.iter().map(|run| (run.values.clone(), None)))
                .collect(),
        )
    }

    /// Draw number `attempt` for run number `index` (0-based): TPE's from `learned`, then
    /// random ones (all random if the run is drawn at random), each from a generator seeded by
    /// the sampler seed, `index` and `attempt`.
    pub fn draw(&self, index: usize, attempt: usize, learned: &Learned) -> Drawn {
        let seed = self.bayes.sampler_seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ attempt as u64;
        let mut rng = Rng::seed_from(seed);
        let scored = if attempt > 0 || self.drawn_at_random(index) {
            let values = self.bayes.planner.draw(&mut rng);
            values
                .into_iter()
                .map(|value| Scored {
                    value,
                    scores: Vec::new(),
                })
                .collect()
        } else {
            self.bayes.planner.propose(learned, &mut rng)
        };
        Drawn { attempt, scored }
    }

    /// Run number `index`'s proposal made again from what the search knows now: the first
    /// draw that repeats no earlier run's values (as the live proposer, which compares run
    /// keys). `None` until the runs it learns from are known.
    pub fn again(&self, index: usize) -> Option<(Learned, Drawn)> {
        let learned = self.learned(index)?;
        let earlier: Vec<&[Scalar]> = self.runs[..index].iter().map(|run| run.values.as_slice()).collect();
        let mut drawn = self.draw(index, 0, &learned);
        for attempt in 1..TRIES {
            if !earlier.contains(&drawn.values().as_slice()) {
                break;
            }
            drawn = self.draw(index, attempt, &learned);
        }
        Some((learned, drawn))
    }

    /// `lr=0.0123 n_hidden=96`, as the sweep's other runs are labelled: the varied settings
    /// in their declared order, values as tables show them.
    pub fn label(&self, values: &[Scalar]) -> String {
        let order: Vec<&str> = model::all_settings().iter().map(|s| s.name).collect();
        let mut varied = self.bayes.planner.varied(values);
        varied.sort_by_key(|(key, _)| order.iter().position(|name| name == key));
        varied
            .iter()
            .map(|(key, value)| format!("{key}={}", table::cell(Some(&value.to_json()))))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A result as the metric reads it (results are kept minimized).
    pub fn metric_value(&self, result: f64) -> f64 {
        self.metric.goal.minimized(result)
    }

    /// The values of run number `index` (0-based).
    pub fn values(&self, index: usize) -> &[Scalar] {
        &self.runs[index].values
    }

    fn observed(&mut self, run: RunId) -> Option<&mut Observed> {
        // By id: the stored runs come in id order and each proposal gets the next id.
        let at = self.runs.binary_search_by_key(&run, |observed| observed.id).ok()?;
        Some(&mut self.runs[at])
    }

    /// A validation point of `run`.
    pub fn point(&mut self, run: RunId, step: u64, loss: f64) {
        if let Some(observed) = self.observed(run)
            && step > observed.last.0
        {
            observed.last = (step, loss);
        }
    }

    /// `run` was held (paused or stopped) at `step`: its result is its loss there, if it had
    /// none before.
    pub fn held(&mut self, run: RunId, step: u64) {
        let goal = self.metric.goal;
        if let Some(observed) = self.observed(run)
            && observed.result.is_none()
            && observed.last.0 == step
        {
            observed.result = Some(minimized(goal, observed.last.1));
        }
    }

    /// `run` ended with its metric (`None`: it failed): its result, if it had none before.
    pub fn ended(&mut self, run: RunId, value: Option<f64>) {
        let value = minimized(self.metric.goal, value.unwrap_or(f64::INFINITY));
        if let Some(observed) = self.observed(run)
            && observed.result.is_none()
        {
            observed.result = Some(value);
        }
    }
}

/// A metric as the search minimizes it; a run that diverged is the worst there is.
pub fn minimized(goal: Goal, value: f64) -> f64 {
    if value.is_finite() {
        goal.minimized(value)
    } else {
        f64::INFINITY
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// A search of 16 runs with `random_fraction` as given, its 10 random first runs ended and
    /// none proposed yet.
    fn search(random_fraction: &str) -> Search {
        let yaml = format!(
            "name: s\nmethod: bayes\nrun_cap: 16\nproposal_lag: 0\nrandom_fraction: {random_fraction}\n\
             parameters:\n  lr: {{distribution: log_uniform_values, min: 0.001, max: 0.1}}\n"
        );
        let (spec, _) = spec::parse(&yaml, "sweep.yaml", Path::new(".")).unwrap();
        let mut search = Search::new(spec.bayes.unwrap(), spec.settings.metric, &[], &[]).unwrap();
        for (i, run) in spec.runs.iter().enumerate() {
            let id = RunId(i as i64 + 1);
            search.push(id, search.bayes.planner.values_of(&run.config.applicable_settings()));
            search.ended(id, Some(2.0 + i as f64 / 10.0));
        }
        search
    }

    #[test]
    fn random_fraction_spreads_random_draws_evenly_over_tpes_turns() {
        let turns = |search: &Search| (10..16).map(|i| search.drawn_at_random(i)).collect::<Vec<_>>();
        assert_eq!(turns(&search("0")), [false; 6]);
        assert_eq!(turns(&search("0.5")), [false, true, false, true, false, true]);
        assert_eq!(turns(&search("0.34")), [false, false, true, false, false, true]);
        // The random first runs stay what they are.
        assert!((0..10).all(|i| !search("0.5").drawn_at_random(i)));
    }

    #[test]
    fn a_run_drawn_at_random_scores_no_candidate_and_waits_for_no_result() {
        let mut search = search("0.5");
        let learned = search.learned(10).expect("the first runs have ended");
        assert!(!search.draw(10, 0, &learned).scored[0].scores.is_empty(), "TPE's turn");
        search.push(RunId(11), vec![Scalar::Float(0.01)]);
        // Run 11 has no result and proposal_lag is 0, so TPE's turn would wait for it.
        let learned = search.learned(11).expect("a random draw learns from nothing");
        assert!(learned.is_empty());
        let drawn = search.draw(11, 0, &learned);
        assert!(drawn.scored[0].scores.is_empty(), "drawn at random");
        search.push(RunId(12), vec![Scalar::Float(0.02)]);
        assert_eq!(search.learned(12), None, "TPE's turn waits for run 11");
    }
}
