//! Tests of the training loop on a small made-up dataset: learning, determinism,
//! divergence, stopping, and checkpoint/resume.

use super::*;
use std::path::PathBuf;

use crate::backend::{Backend, ComputeDevice};
use crate::config::{ModelKind, OptimizerKind, ScheduleKind, TrainOptions};

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

#[test]
fn a_fresh_model_predicts_near_uniformly() {
    let data = names();
    let mut trainer = Trainer::new(small(ModelKind::Wavenet, |_| {}), &data, cpu(Backend::Flex));
    let loss = trainer.timed_val_loss();
    let uniform = (data.vocab().size() as f64).ln();
    assert!((loss - uniform).abs() < 0.1, "initial loss {loss}, ln(vocab) {uniform}");
}

#[test]
fn training_lowers_the_validation_loss_and_ends_with_samples() {
    for model in [ModelKind::Mlp, ModelKind::Wavenet] {
        let (outcome, curve) = train(small(model, |_| {}), Backend::Flex);
        assert_eq!(outcome.ending, Ending::Completed);
        assert_eq!(outcome.steps_done, 400);
        let Some(Progress::Val { step: 0, loss: first }) = curve.first().cloned() else {
            panic!("{curve:?}")
        };
        let losses = outcome.losses.unwrap();
        assert!(losses.val < first - 0.5, "{model}: val {first} → {}", losses.val);
        assert_eq!(outcome.samples.len(), FINAL_SAMPLES);
        assert!(outcome.samples.iter().any(|s| !s.is_empty()));
        let train_points = curve.iter().filter(|p| matches!(p, Progress::Train { .. })).count();
        let val_points: Vec<u64> = curve
            .iter()
            .filter_map(|p| {
                if let Progress::Val { step, .. } = p {
                    Some(*step)
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(train_points, 8);
        assert_eq!(val_points, vec![0, 200, 400]);
    }
}

#[test]
fn same_seed_gives_the_same_curve_and_another_seed_does_not() {
    for backend in [Backend::Flex, Backend::Ndarray] {
        let (a, curve_a) = train(small(ModelKind::Wavenet, |o| o.steps = 150), backend);
        let (b, curve_b) = train(small(ModelKind::Wavenet, |o| o.steps = 150), backend);
        let (_, curve_c) = train(
            small(ModelKind::Wavenet, |o| {
                o.steps = 150;
                o.seed = 7
            }),
            backend,
        );
        assert_eq!(curve_a, curve_b);
        assert_eq!(a.losses, b.losses);
        assert_eq!(a.samples, b.samples);
        assert_ne!(curve_a, curve_c);
    }
}

/// `final_train_sample` scores the final train loss on a sample of the train split, and
/// leaves the validation and test losses alone.
#[test]
fn the_final_train_loss_can_come_from_a_sample_of_the_train_split() {
    let losses = |sample| {
        let config = small(ModelKind::Mlp, |o| (o.steps, o.final_train_sample) = (100, sample));
        train(config, Backend::Flex).0.losses.unwrap()
    };
    let (full, sampled) = (losses(0), losses(40));
    assert_eq!((full.val, full.test), (sampled.val, sampled.test));
    assert_ne!(full.train, sampled.train);
    assert_eq!(
        losses(usize::MAX).train,
        full.train,
        "a sample the size of the split is the split"
    );
}

#[test]
fn a_huge_learning_rate_diverges_as_a_result() {
    let (outcome, _) = train(small(ModelKind::Mlp, |o| o.lr = 1e30), Backend::Flex);
    assert_eq!(outcome.ending, Ending::Diverged);
    assert!(outcome.steps_done < 400);
    assert!(outcome.losses.is_none());
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

#[test]
fn an_observer_can_stop_the_run() {
    let outcome = Trainer::new(small(ModelKind::Mlp, |_| {}), &names(), cpu(Backend::Flex))
        .run(&mut StopAt(100))
        .unwrap();
    assert_eq!((outcome.ending, outcome.steps_done), (Ending::Interrupted, 100));
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

#[test]
fn autodiff_trains_like_the_fast_path() {
    for model in [ModelKind::Mlp, ModelKind::Wavenet] {
        let (fast, fast_curve) = train(small(model, |_| {}), Backend::Flex);
        let (autodiff, autodiff_curve) = train(small(model, |o| o.fast_path = false), Backend::Flex);
        let [fast, autodiff] = [fast, autodiff].map(|o| o.losses.unwrap());
        // The two paths round differently, so the runs part a little over 400 steps.
        for (f, a) in [
            (fast.train, autodiff.train),
            (fast.val, autodiff.val),
            (fast.test, autodiff.test),
        ] {
            assert!((f - a).abs() < 0.01 * f, "{model}: fast {f} vs autodiff {a}");
        }
        // The first training point averages steps taken from the same weights: nearly equal.
        let first = |curve: &[Progress]| match curve.iter().find(|p| matches!(p, Progress::Train { .. })) {
            Some(Progress::Train { loss, .. }) => *loss,
            _ => f64::NAN,
        };
        let (f, a) = (first(&fast_curve), first(&autodiff_curve));
        assert!((f - a).abs() < 1e-4 * f, "{model}: first points {f} vs {a}");
    }
}

#[test]
fn a_run_resumed_from_its_checkpoint_matches_the_uninterrupted_run() {
    type Edit = fn(&mut TrainOptions);
    let setups: [(&str, Edit); 4] = [
        ("fast path", |_| {}),
        ("autodiff SGD", |o| o.fast_path = false),
        ("SGD with Nesterov momentum and clipping", |o| {
            o.momentum = 0.9;
            o.nesterov = true;
            o.grad_clip = 1.0;
            o.lr = 0.05;
        }),
        ("AdamW, cosine with warm-up", |o| {
            o.optimizer = OptimizerKind::Adamw;
            o.lr = 0.01;
            o.lr_schedule = ScheduleKind::Cosine;
            o.lr_final = Some(0.001);
            o.warmup_steps = 50;
        }),
    ];
    for (name, edit) in setups {
        eprintln!("{name}");
        resumed_matches_uninterrupted(small(ModelKind::Wavenet, edit));
    }
}

#[test]
fn adamw_and_momentum_train() {
    let (sgd, _) = train(small(ModelKind::Wavenet, |_| {}), Backend::Flex);
    let (adamw, _) = train(
        small(ModelKind::Wavenet, |o| {
            o.optimizer = OptimizerKind::Adamw;
            o.lr = 0.01;
        }),
        Backend::Flex,
    );
    let (momentum, _) = train(
        small(ModelKind::Wavenet, |o| {
            o.momentum = 0.9;
            o.lr = 0.02;
        }),
        Backend::Flex,
    );
    let val = |o: &Outcome| o.losses.unwrap().val;
    let uniform = (names().vocab().size() as f64).ln();
    for (name, outcome) in [("adamw", &adamw), ("momentum", &momentum)] {
        assert!(
            val(outcome) < uniform - 0.5,
            "{name}: val {} vs ln(vocab) {uniform}",
            val(outcome)
        );
        assert_ne!(val(outcome), val(&sgd), "{name} trains differently from plain SGD");
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

#[test]
fn a_checkpoint_of_other_data_or_a_damaged_one_is_refused() {
    let file = ScratchFile::new("refuse");
    let trainer = Trainer::new(small(ModelKind::Mlp, |o| o.steps = 50), &names(), cpu(Backend::Flex));
    trainer
        .checkpoint_to(file.0.clone(), 1000)
        .run(&mut Record::default())
        .unwrap();
    assert!(Trainer::resume(&file.0, &names(), cpu(Backend::Flex)).is_ok());

    let other = Dataset::from_bytes(
        b"xyz
zyx
xxy
yyx
zzx
xzy
yxz
zxy
yzx
xyy
",
    )
    .unwrap();
    assert!(matches!(
        Trainer::resume(&file.0, &other, cpu(Backend::Flex)),
        Err(CheckpointError::OtherDataset { .. })
    ));

    let bytes = std::fs::read(&file.0).unwrap();
    std::fs::write(&file.0, &bytes[..bytes.len() - 4]).unwrap();
    let err = Trainer::resume(&file.0, &names(), cpu(Backend::Flex)).err().unwrap();
    assert!(err.to_string().contains("not a checkpoint"), "{err}");
}

#[test]
fn samples_from_a_checkpoint_are_seeded_and_cooler_ones_repeat_more() {
    let dir = std::env::temp_dir().join(format!("harness-sample-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("run.ckpt");
    let data = names();
    let config = small(ModelKind::Wavenet, |_| {});
    let outcome = Trainer::new(config, &data, cpu(Backend::Flex))
        .checkpoint_to(path.clone(), 400)
        .run(&mut Record::default())
        .unwrap();
    let trainer = Trainer::resume(&path, &data, cpu(Backend::Flex)).unwrap();
    let a = trainer.sample(50, 1.0, 7);
    assert_eq!(a, trainer.sample(50, 1.0, 7));
    assert_ne!(a, trainer.sample(50, 1.0, 8));
    let distinct = |items: &[String]| items.iter().collect::<std::collections::HashSet<_>>().len();
    assert!(
        distinct(&trainer.sample(50, 0.1, 7)) < distinct(&a),
        "low temperature: fewer distinct items"
    );
    assert_eq!(outcome.samples.len(), FINAL_SAMPLES);
    let [train, val, test] = data.split_items(42);
    assert_eq!((train.len(), val.len(), test.len()), (240, 30, 30));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_bigram_learns_by_autodiff_and_resumes_exactly() {
    let config = || {
        let options = TrainOptions {
            model: ModelKind::Bigram,
            net: Default::default(),
            optimizer: OptimizerKind::Adamw,
            steps: 400,
            log_every: 50,
            eval_every: 200,
            ..TrainOptions::default()
        };
        TrainConfig::try_from(options).unwrap()
    };
    let (outcome, _) = train(config(), Backend::Flex);
    let uniform = (names().vocab().size() as f64).ln();
    let val = outcome.losses.unwrap().val;
    assert!(val < uniform - 0.3, "val {val} vs ln(vocab) {uniform}");
    resumed_matches_uninterrupted(config());
}

#[test]
fn the_convolutional_wavenet_learns_on_every_position_and_resumes_exactly() {
    let config = || {
        let mut options = TrainOptions {
            model: ModelKind::WavenetConv,
            net: Default::default(),
            optimizer: OptimizerKind::Adamw,
            lr: 0.01,
            steps: 400,
            log_every: 50,
            eval_every: 200,
            ..TrainOptions::default()
        };
        options.set("n_embd", 6).set("n_hidden", 12).set("block_size", 4);
        TrainConfig::try_from(options).unwrap()
    };
    let (outcome, _) = train(config(), Backend::Flex);
    let uniform = (names().vocab().size() as f64).ln();
    let val = outcome.losses.unwrap().val;
    assert!(val < uniform - 0.5, "val {val} vs ln(vocab) {uniform}");
    resumed_matches_uninterrupted(config());
}

#[test]
fn the_sequence_models_learn_from_whole_items_and_resume_exactly() {
    for (model, shape) in [
        ("rnn", serde_json::json!({"n_embd2": 12})),
        ("gru", serde_json::json!({"n_embd2": 12})),
        ("transformer", serde_json::json!({"n_layer": 1, "n_head": 2})),
        (
            "transformer",
            serde_json::json!({"n_layer": 1, "n_head": 2, "dropout": 0.2}),
        ),
    ] {
        let config = || {
            let mut values = serde_json::json!({
                "model": model, "n_embd": 8, "lr": 0.01, "steps": 400, "log_every": 50, "eval_every": 200
            });
            values
                .as_object_mut()
                .unwrap()
                .extend(shape.as_object().unwrap().clone());
            TrainConfig::from_settings(values.as_object().unwrap()).unwrap()
        };
        let (outcome, _) = train(config(), Backend::Flex);
        let uniform = (names().vocab().size() as f64).ln();
        let val = outcome.losses.unwrap().val;
        assert!(val < uniform - 0.5, "{model}: val {val} vs ln(vocab) {uniform}");
        assert!(
            outcome.samples.iter().any(|s| !s.is_empty()),
            "{model}: {:?}",
            outcome.samples
        );
        resumed_matches_uninterrupted(config());
    }
}

/// Gates every evaluation and answers from a script: `Stop` at `stop_at`, else `Continue`;
/// records the steps it was asked about and the checkpoints written.
struct Judge {
    stop_at: u64,
    asked: Vec<u64>,
    checkpoints: Vec<u64>,
}

impl Judge {
    fn stopping_at(stop_at: u64) -> Self {
        Self {
            stop_at,
            asked: Vec::new(),
            checkpoints: Vec::new(),
        }
    }
}

impl Observer for Judge {
    fn observe(&mut self, _: &Progress) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    fn checkpointed(&mut self, step: u64) {
        self.checkpoints.push(step);
    }
    fn gates_evaluations(&self) -> bool {
        true
    }
    fn verdict(&mut self, step: u64) -> Verdict {
        self.asked.push(step);
        if step == self.stop_at {
            Verdict::Stop
        } else {
            Verdict::Continue
        }
    }
}

#[test]
fn evaluations_and_logs_keep_their_own_intervals() {
    // Every 30 steps an evaluation, every 50 a log: neither waits for the other, and the last
    // step is both.
    let config = small(ModelKind::Mlp, |o| {
        o.steps = 100;
        o.eval_every = 30;
    });
    let (_, curve) = train(config, Backend::Flex);
    let steps = |val: bool| -> Vec<u64> {
        curve
            .iter()
            .filter_map(|p| match *p {
                Progress::Val { step, .. } if val => Some(step),
                Progress::Train { step, .. } if !val => Some(step),
                _ => None,
            })
            .collect()
    };
    assert_eq!(steps(true), [0, 30, 60, 90, 100]);
    assert_eq!(steps(false), [50, 100]);
}

#[test]
fn a_run_stopped_at_an_evaluation_is_evaluated_on_the_weights_it_had() {
    // Evaluations at 100, 200, 300 (and 400, the last, which is never judged).
    let config = small(ModelKind::Mlp, |o| o.eval_every = 100);
    let (_, whole_curve) = train(config.clone(), Backend::Flex);
    let file = ScratchFile::new("verdict");
    let mut judge = Judge::stopping_at(200);
    let stopped = Trainer::new(config, &names(), cpu(Backend::Flex))
        .checkpoint_to(file.0.clone(), 1000)
        .run(&mut judge)
        .unwrap();
    assert_eq!((stopped.ending, stopped.steps_done), (Ending::Stopped, 200));
    assert_eq!(judge.asked, [100, 200], "asked once per evaluation, up to the stop");
    assert_eq!(judge.checkpoints, [100, 200], "checkpointed before each verdict");
    let losses = stopped.losses.expect("a stopped run has final losses");
    let val_at_200 = whole_curve
        .iter()
        .find_map(|p| match *p {
            Progress::Val { step: 200, loss } => Some(loss),
            _ => None,
        })
        .unwrap();
    assert_eq!(losses.val, val_at_200, "its val is the evaluation it stopped at");
    assert!(losses.train.is_finite() && losses.test.is_finite());
    assert_eq!(stopped.samples.len(), FINAL_SAMPLES);
}

#[test]
fn a_run_resumed_at_a_judged_evaluation_is_asked_again_and_can_stop_there() {
    let config = small(ModelKind::Mlp, |o| o.eval_every = 100);
    let file = ScratchFile::new("verdict-resume");
    // The first session is lost while it waits at 200: its verdict is an interrupt.
    struct LostAt(u64);
    impl Observer for LostAt {
        fn observe(&mut self, _: &Progress) -> ControlFlow<()> {
            ControlFlow::Continue(())
        }
        fn gates_evaluations(&self) -> bool {
            true
        }
        fn verdict(&mut self, step: u64) -> Verdict {
            if step == self.0 {
                Verdict::Interrupt
            } else {
                Verdict::Continue
            }
        }
    }
    let lost = Trainer::new(config.clone(), &names(), cpu(Backend::Flex))
        .checkpoint_to(file.0.clone(), 1000)
        .run(&mut LostAt(200))
        .unwrap();
    assert_eq!((lost.ending, lost.steps_done), (Ending::Interrupted, 200));

    let mut judge = Judge::stopping_at(200);
    let resumed = Trainer::resume(&file.0, &names(), cpu(Backend::Flex)).unwrap();
    let stopped = resumed.run(&mut judge).unwrap();
    assert_eq!(judge.asked, [200], "the evaluation it waited at is judged again");
    assert_eq!((stopped.ending, stopped.steps_done), (Ending::Stopped, 200));

    // Without a verdict to wait for, the same checkpoint simply goes on to the end.
    let rest = Trainer::resume(&file.0, &names(), cpu(Backend::Flex))
        .unwrap()
        .run(&mut Record::default())
        .unwrap();
    assert_eq!((rest.ending, rest.steps_done), (Ending::Completed, 400));
}
