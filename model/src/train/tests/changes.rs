//! Going on with a changed configuration (`Trainer::resume_as`, population-based training's
//! exploit): the state carries over exactly, the new values apply from the next step, and a
//! setting that shapes the model or the data cannot change.

use super::*;

/// The first 250 steps of `before`, checkpointed, then `after` from there.
fn changed_at_250(before: TrainConfig, after: TrainConfig) -> Result<(Outcome, Vec<Progress>), CheckpointError> {
    let file = ScratchFile::new("change");
    let first = Trainer::new(before, &names(), cpu(Backend::Flex))
        .checkpoint_to(file.0.clone(), 1000)
        .run(&mut StopAt(250))
        .unwrap();
    assert_eq!(first.steps_done, 250);
    let resumed = Trainer::resume_as(&file.0, &names(), cpu(Backend::Flex), after)?;
    let mut curve = resumed.history().to_vec();
    let mut record = Record::default();
    let outcome = resumed.run(&mut record).unwrap();
    curve.extend(record.0);
    Ok((outcome, curve))
}

#[test]
fn a_new_floor_set_before_the_decay_trains_as_if_set_from_the_start() {
    // The floor only acts from step 300 (lr_decay_at 0.75 of 400): changed at step 250, the run
    // must end exactly as one that had the new floor throughout — AdamW's moments, the RNG
    // and the step carried over, the new floor used.
    let adamw = |floor: f64| {
        small(ModelKind::Wavenet, move |o| {
            o.optimizer = OptimizerKind::Adamw;
            o.lr = 0.01;
            o.lr_final = Some(floor);
        })
    };
    let (whole, whole_curve) = train(adamw(0.0001), Backend::Flex);
    let (changed, curve) = changed_at_250(adamw(0.005), adamw(0.0001)).unwrap();
    assert_eq!(curve, whole_curve);
    assert_eq!(changed.losses, whole.losses);
    let (unchanged, _) = changed_at_250(adamw(0.005), adamw(0.005)).unwrap();
    assert_ne!(unchanged.losses, whole.losses, "the floor matters after step 300");
}

#[test]
fn a_new_learning_rate_acts_from_the_next_step() {
    let sgd = |lr: f64| small(ModelKind::Wavenet, move |o| o.lr = lr);
    let (_, whole_curve) = train(sgd(0.1), Backend::Flex);
    let (_, curve) = changed_at_250(sgd(0.1), sgd(0.5)).unwrap();
    let at = |curve: &[Progress], wanted: u64| {
        curve
            .iter()
            .find(|p| matches!(p, Progress::Train { step, .. } if *step == wanted))
            .cloned()
    };
    assert_eq!(at(&curve, 250), at(&whole_curve, 250));
    assert_ne!(at(&curve, 300), at(&whole_curve, 300));
}

#[test]
fn momentum_and_clipping_may_start_or_stop_part_way() {
    // From the fast path (plain SGD) to autodiff with momentum and clipping, and back.
    let plain = small(ModelKind::Wavenet, |_| {});
    let heavy = small(ModelKind::Wavenet, |o| {
        o.momentum = 0.9;
        o.grad_clip = 1.0;
        o.lr = 0.05;
    });
    for (before, after) in [(plain.clone(), heavy.clone()), (heavy, plain)] {
        let (outcome, _) = changed_at_250(before, after).unwrap();
        assert_eq!((outcome.ending, outcome.steps_done), (Ending::Completed, 400));
        assert!(outcome.losses.unwrap().val.is_finite());
    }
}

#[test]
fn a_setting_that_shapes_the_model_or_the_data_cannot_change() {
    let base = small(ModelKind::Wavenet, |_| {});
    let wider = small(ModelKind::Wavenet, |o| {
        o.set("n_hidden", 64);
    });
    let reseeded = small(ModelKind::Wavenet, |o| o.seed = 7);
    for (other, key) in [(wider, "n_hidden"), (reseeded, "seed")] {
        let err = changed_at_250(base.clone(), other).err().unwrap();
        assert!(
            matches!(&err, CheckpointError::OtherConfiguration { source, .. } if source.key == key),
            "{err}"
        );
        assert!(err.to_string().contains("cannot change part-way"), "{err}");
    }
}
