//! A search that proposes runs as slots free up (`bayes`): the scheduler asks for a run
//! only when a slot is free and nothing waits, stores it first, and tells the proposer how
//! each run ended.

use super::fake_store::FakeStore;
use super::fakes::{FakeLauncher, Script};
use super::*;

/// Proposes `left` runs (each completing after 5 points), recording what it is asked and told.
struct Counting {
    left: usize,
    /// Runs active, by the scheduler's count, at each proposal: never more than the slots.
    proposed: Vec<RunId>,
    finished: Vec<(RunId, Option<f64>)>,
}

impl Propose for Counting {
    fn request(&self) -> DeviceRequest {
        DeviceRequest::Cpu
    }

    fn runs_in_all(&self) -> usize {
        self.proposed.len() + self.left
    }

    fn propose(&mut self, store: &mut dyn RunStore) -> anyhow::Result<Proposal> {
        if self.left == 0 {
            return Ok(Proposal::Done);
        }
        self.left -= 1;
        let new_run = results::NewRun {
            run_key: String::new(),
            config_json: String::new(),
            backend: "flex".into(),
            requested_device: "cpu".into(),
            threads: 1,
            data_path: String::new(),
            data_sha256: String::new(),
            git_commit: None,
            trainable_params: 10,
            variant: None,
        };
        let id = store.add_run(results::SweepId(1), &new_run)?;
        self.proposed.push(id);
        let mut run = queue(1).remove(0);
        run.id = id;
        run.job.run_id = id.0;
        Ok(Proposal::Run(Box::new(run)))
    }

    fn point(&mut self, _: RunId, _: u64, _: f64) {}

    fn held(&mut self, _: RunId, _: u64) {}

    fn ended(&mut self, run: RunId, value: Option<f64>) {
        self.finished.push((run, value));
    }
}

#[test]
fn a_search_proposes_a_run_whenever_a_slot_is_free_until_it_has_all_of_them() {
    let launcher = FakeLauncher::new(|_, _| Script::Complete {
        points: 5,
        resume_at: 0,
    });
    let mut proposer = Counting {
        left: 5,
        proposed: Vec::new(),
        finished: Vec::new(),
    };
    // Two planned runs first (the random start), then five proposed, on two workers.
    let work = Work {
        queue: queue(2),
        paused: Vec::new(),
        proposer: Some(&mut proposer),
    };
    let (tally, store, _) = schedule_on(FakeStore::default(), work, limits(2), &launcher, &[]);
    assert_eq!(tally.unwrap().completed, 7);
    assert_eq!(proposer.proposed, (101..=105).map(RunId).collect::<Vec<_>>());
    let counters = launcher.counters.borrow();
    assert_eq!(counters.most_running, 2, "a run is proposed only for a free slot");
    assert_eq!(
        counters.starts,
        [1, 2, 101, 102, 103, 104, 105].map(RunId),
        "planned runs first, then each proposal as a slot frees"
    );
    // Told of every run's end with the metric (val, the fakes' 2.0).
    let mut told = proposer.finished.clone();
    told.sort_by_key(|(run, _)| *run);
    assert_eq!(told.len(), 7);
    assert!(told.iter().all(|(_, value)| *value == Some(2.0)));
    assert!(store.0.contains_key(&RunId(105)), "stored before it ran");
}
