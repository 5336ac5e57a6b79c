//! Population-based training in the scheduler: a session that finds exploits stored but not
//! carried out (its predecessor died between storing and copying) copies the donors'
//! checkpoints into their members' places, and marks them copied, before any worker starts.

use results::{Decision, ExploitRecord, VerdictRecord};

use super::fake_store::FakeStore;
use super::fakes::{FakeLauncher, Script};
use super::*;
use crate::pbt::Pbt;
use crate::scheduler::judge::{Population, StoredMember, StoredPopulation};
use crate::spec::Goal;

fn rule() -> Pbt {
    Pbt {
        population: 2,
        interval: 2,
        quantile: 0.5,
        resample: 0.0,
        factors: vec![0.8, 1.2],
        mutations: Vec::new(),
        seed: 0,
        every: 200,
        steps: 500,
    }
}

#[test]
fn exploits_stored_but_not_copied_are_copied_before_any_worker_starts() {
    let config = TrainConfig::try_from(TrainOptions::default()).unwrap();
    let member = |id: i64, val: f64| StoredMember {
        run: RunId(id),
        status: RunStatus::Paused,
        config: config.clone(),
        curve: vec![(0, 3.3), (100, 2.9), (200, val)],
    };
    let verdict = |id: i64, value: f64| VerdictRecord {
        run: RunId(id),
        step: 200,
        value,
        decision: Decision::Continue,
    };
    let json = serde_json::to_string(&config.applicable_settings()).unwrap();
    let exploit = ExploitRecord {
        run: RunId(2),
        step: 200,
        value: 2.7,
        donor: RunId(1),
        donor_value: 2.5,
        config_before: json.clone(),
        config_after: json,
        changes: Vec::new(),
        copied: false,
    };
    let stored = StoredPopulation {
        members: vec![member(1, 2.5), member(2, 2.7)],
        verdicts: vec![verdict(1, 2.5), verdict(2, 2.7)],
        exploits: vec![exploit.clone()],
    };
    let mut judged = limits(2);
    judged.judge = Some(Judge::Population(Box::new(Population::new(
        rule(),
        Goal::Minimize,
        stored,
    ))));
    let mut store = FakeStore::default();
    store.2.push(exploit);
    let launcher = FakeLauncher::new(|_, _| Script::Complete {
        points: 5,
        resume_at: 2,
    });
    let work = Work {
        queue: queue(2),
        paused: Vec::new(),
        proposer: None,
    };
    let (tally, store, _) = schedule_on(store, work, judged, &launcher, &[]);
    assert_eq!(tally.unwrap().completed, 2);
    let counters = launcher.counters.borrow();
    let copies: Vec<(&str, &str, usize)> = counters
        .copies
        .iter()
        .map(|(from, to, started)| (from.to_str().unwrap(), to.to_str().unwrap(), *started))
        .collect();
    assert_eq!(
        copies,
        [("run-1.ckpt", "run-2.ckpt", 0)],
        "the donor's, before any start"
    );
    assert_eq!(store.2.len(), 1, "stored once, not decided again");
    assert!(store.2[0].copied);
}
