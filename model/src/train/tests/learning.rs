//! Training learns, on every model: a fresh model predicts near uniformly, training lowers
//! the loss, a seed gives one curve, a huge learning rate diverges, autodiff trains like the
//! fast path, and AdamW, momentum, the bigram, the WaveNets and the sequence models train.

use super::*;

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
