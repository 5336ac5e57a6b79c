//! Checkpoints: a resumed run matches the uninterrupted one, a checkpoint of other data or a
//! damaged one is refused, and samples from a checkpoint are seeded.

use super::*;

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
