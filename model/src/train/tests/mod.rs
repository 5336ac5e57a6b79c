//! Tests of the training loop on a small made-up dataset: the helpers they share, and the
//! tests by topic (learning, checkpoints, observers).

use super::*;
use std::path::PathBuf;

use crate::backend::{Backend, ComputeDevice};
use crate::config::{ModelKind, OptimizerKind, ScheduleKind, TrainOptions};

mod changes;
mod checkpoints;
mod learning;
mod observers;

/// The CPU device of `backend`.
fn cpu(backend: Backend) -> Device {
    backend.device(ComputeDevice::Cpu).unwrap()
}

/// 300 pronounceable made-up names: enough structure for a model to learn quickly.
fn names() -> Dataset {
    let (onsets, vowels, codas) = (
        ["b", "d", "k", "l", "m", "n", "r", "s", "t", "v"],
        ["a", "e", "i", "o", "u"],
        ["", "n", "l", "ra", "na"],
    );
    let mut rng = Rng::seed_from(0);
    let text: String = (0..300)
        .map(|_| {
            let syllables = 1 + rng.below(3);
            let mut name: String = (0..syllables)
                .map(|_| format!("{}{}", onsets[rng.below(10)], vowels[rng.below(5)]))
                .collect();
            name.push_str(codas[rng.below(5)]);
            name + "\n"
        })
        .collect();
    Dataset::from_bytes(text.as_bytes()).unwrap()
}

fn small(model: ModelKind, edit: impl FnOnce(&mut TrainOptions)) -> TrainConfig {
    let mut o = TrainOptions {
        model,
        steps: 400,
        log_every: 50,
        eval_every: 200,
        ..TrainOptions::default()
    };
    o.set("n_embd", 6).set("n_hidden", 32).set("block_size", 4);
    edit(&mut o);
    TrainConfig::try_from(o).unwrap()
}

#[derive(Default)]
struct Record(Vec<Progress>);
impl Observer for Record {
    fn observe(&mut self, progress: &Progress) -> ControlFlow<()> {
        self.0.push(progress.clone());
        ControlFlow::Continue(())
    }
}

fn train(config: TrainConfig, backend: Backend) -> (Outcome, Vec<Progress>) {
    let mut record = Record::default();
    let outcome = Trainer::new(config, &names(), cpu(backend)).run(&mut record).unwrap();
    (outcome, record.0)
}

/// A checkpoint file in a fresh directory of its own (tests run in parallel), removed when dropped.
struct ScratchFile(PathBuf);

impl ScratchFile {
    fn new(name: &str) -> Self {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let unique = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("model-ckpt-test-{}-{name}-{unique}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir.join("run.ckpt"))
    }
}

impl Drop for ScratchFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.0.parent().unwrap());
    }
}

struct StopAt(u64);

impl Observer for StopAt {
    fn observe(&mut self, progress: &Progress) -> ControlFlow<()> {
        match progress {
            Progress::Train { step, .. } if *step >= self.0 => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        }
    }
}

fn resumed_matches_uninterrupted(config: TrainConfig) {
    let config = || config.clone();
    let (whole, whole_curve) = train(config(), Backend::Flex);

    let file = ScratchFile::new("resume");
    struct Stop(StopAt, Vec<u64>);
    impl Observer for Stop {
        fn observe(&mut self, progress: &Progress) -> ControlFlow<()> {
            self.0.observe(progress)
        }
        fn checkpointed(&mut self, step: u64) {
            self.1.push(step);
        }
    }
    let mut stop = Stop(StopAt(250), Vec::new());
    let first = Trainer::new(config(), &names(), cpu(Backend::Flex))
        .checkpoint_to(file.0.clone(), 100)
        .run(&mut stop)
        .unwrap();
    assert_eq!((first.ending, first.steps_done), (Ending::Interrupted, 250));
    assert_eq!(stop.1, vec![100, 200, 250], "every 100 steps, and where it stopped");

    let resumed = Trainer::resume(&file.0, &names(), cpu(Backend::Flex)).unwrap();
    assert_eq!(resumed.steps_done(), 250);
    let mut curve = resumed.history().to_vec();
    let mut record = Record::default();
    let rest = resumed.run(&mut record).unwrap();
    curve.extend(record.0);
    assert_eq!(curve, whole_curve, "no point lost, none repeated, same values");
    assert_eq!((rest.ending, rest.steps_done), (Ending::Completed, 400));
    assert_eq!(rest.losses, whole.losses);
    assert_eq!(rest.samples, whole.samples);
}
