//! Settings in, a checked configuration or the key that is wrong out; schedules and
//! round trips through JSON.

use super::*;

fn config(edit: impl FnOnce(&mut TrainOptions)) -> Result<TrainConfig, ConfigError> {
    let mut options = TrainOptions::default();
    edit(&mut options);
    TrainConfig::try_from(options)
}

#[test]
fn defaults_are_the_lecture_schedule() {
    let c = config(|_| {}).unwrap();
    assert_eq!(c.lr_final(), 0.01);
    assert_eq!(c.lr_at(149_999), 0.1);
    assert_eq!(c.lr_at(150_000), 0.01);
    assert_eq!(c.context(), 8);
}

#[test]
fn each_bad_value_names_its_key() {
    type Edit = Box<dyn FnOnce(&mut TrainOptions)>;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "n_embd",
            Box::new(|o| {
                o.set("n_embd", 0);
            }),
        ),
        (
            "n_hidden",
            Box::new(|o| {
                o.set("n_hidden", 0);
            }),
        ),
        (
            "block_size",
            Box::new(|o| {
                o.set("block_size", 6);
            }),
        ),
        (
            "block_size",
            Box::new(|o| {
                o.set("block_size", 1);
            }),
        ),
        ("batch_size", Box::new(|o| o.batch_size = 1)),
        ("lr", Box::new(|o| o.lr = f64::NAN)),
        ("lr", Box::new(|o| o.lr = -0.1)),
        ("lr_final", Box::new(|o| o.lr_final = Some(-1.0))),
        ("lr_decay_at", Box::new(|o| o.lr_decay_at = 1.5)),
        ("steps", Box::new(|o| o.steps = 0)),
        ("log_every", Box::new(|o| o.log_every = 0)),
        ("eval_every", Box::new(|o| o.eval_every = 0)),
    ];
    for (key, edit) in cases {
        assert_eq!(config(edit).unwrap_err().key, key);
    }
}

fn set(values: serde_json::Value) -> Result<TrainConfig, ConfigError> {
    TrainConfig::from_settings(values.as_object().unwrap())
}

#[test]
fn settings_a_model_does_not_take_are_refused_naming_the_model() {
    let err = set(serde_json::json!({"model": "mlp", "batchnorm_bug": true})).unwrap_err();
    assert_eq!(err.key, "batchnorm_bug");
    assert!(
        err.reason
            .contains("not a setting of model `mlp` (its own settings: n_embd, n_hidden, block_size)"),
        "{err}"
    );
    // Even set to its default: the user asked for something the model has not got.
    assert!(set(serde_json::json!({"model": "mlp", "batchnorm_bug": false})).is_err());
    let c = set(serde_json::json!({"model": "wavenet", "batchnorm_bug": true, "lr": 0.3})).unwrap();
    assert_eq!(c.net["batchnorm_bug"], Value::Bool(true));
    assert!((c.lr_final() - 0.03).abs() < 1e-15, "lr_final derived from lr");
    let unknown = set(serde_json::json!({"n_embed": 10})).unwrap_err();
    assert_eq!(unknown.key, "n_embed");
    assert!(unknown.reason.contains("the settings are: model, n_embd"), "{unknown}");
    assert_eq!(
        set(serde_json::json!({"n_hidden": 0})).unwrap_err().reason,
        "must be at least 1, got 0"
    );
    assert_eq!(set(serde_json::json!({})).unwrap(), config(|_| {}).unwrap());
}

#[test]
fn schedules_follow_pytorch_and_warm_up_linearly() {
    let at = |edit: fn(&mut TrainOptions), steps: &[u64]| {
        let c = config(|o| {
            o.steps = 1000;
            o.lr = 0.1;
            o.lr_final = Some(0.01);
            edit(o);
        })
        .unwrap();
        steps.iter().map(|&s| c.lr_at(s)).collect::<Vec<_>>()
    };
    assert_eq!(at(|_| {}, &[0, 749, 750, 999]), [0.1, 0.1, 0.01, 0.01]);
    let constant = at(
        |o| {
            o.lr_schedule = ScheduleKind::Constant;
            o.lr_final = None;
        },
        &[0, 999],
    );
    assert_eq!(constant, [0.1, 0.1]);
    // torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=1000, eta_min=0.01):
    // lr at epoch 0, 250, 500, 750 = 0.1, 0.086820, 0.055, 0.023180
    let cosine = at(|o| o.lr_schedule = ScheduleKind::Cosine, &[0, 250, 500, 750, 1000]);
    for (got, want) in cosine.iter().zip([0.1, 0.086_820, 0.055, 0.023_180, 0.01]) {
        assert!((got - want).abs() < 1e-6, "{cosine:?}");
    }
    // Warm-up: (s + 1) / 100 of the schedule's value for s < 100, then the cosine over 900.
    let warm = at(
        |o| {
            o.lr_schedule = ScheduleKind::Cosine;
            o.warmup_steps = 100;
        },
        &[0, 49, 99, 100, 550],
    );
    for (got, want) in warm.iter().zip([0.001, 0.05, 0.1, 0.1, 0.055]) {
        assert!((got - want).abs() < 1e-9, "{warm:?}");
    }
}

#[test]
fn an_optimizer_or_schedule_setting_is_refused_where_it_means_nothing() {
    let err = set(serde_json::json!({"optimizer": "adamw", "momentum": 0.9})).unwrap_err();
    assert_eq!(
        (err.key.as_str(), err.reason.as_str()),
        ("momentum", "applies only with optimizer `sgd`, not with `adamw`")
    );
    let err = set(serde_json::json!({"lr_schedule": "cosine", "lr_decay_at": 0.5})).unwrap_err();
    assert_eq!(err.key, "lr_decay_at");
    let adamw = set(serde_json::json!({"optimizer": "adamw", "beta2": 0.99, "lr": 5e-4})).unwrap();
    assert_eq!(
        (adamw.optimizer, adamw.beta2, adamw.weight_decay),
        (OptimizerKind::Adamw, 0.99, 0.01)
    );
    assert!(!adamw.uses_fast_path(), "the fast path is plain SGD's");
    assert!(set(serde_json::json!({})).unwrap().uses_fast_path());
    assert!(!set(serde_json::json!({"momentum": 0.9})).unwrap().uses_fast_path());
}

#[test]
fn every_schedule_and_optimizer_survives_a_round_trip_through_json() {
    for schedule in [ScheduleKind::Step, ScheduleKind::Constant, ScheduleKind::Cosine] {
        for optimizer in [OptimizerKind::Sgd, OptimizerKind::Adamw] {
            let c = config(|o| {
                o.lr_schedule = schedule;
                o.optimizer = optimizer;
            })
            .unwrap();
            let back: TrainConfig = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
            assert_eq!(back, c, "{schedule} {optimizer}");
        }
    }
}

#[test]
fn a_configuration_stored_before_a_setting_existed_reads_back_with_its_default() {
    // As session 4's harness stored it: no optimizer, schedule or fast path.
    let old = r#"{"model":"wavenet","n_embd":24,"n_hidden":128,"block_size":8,"batchnorm_bug":false,
        "lr":0.1,"lr_final":0.01,"lr_decay_at":0.75,"batch_size":32,"steps":200000,"seed":42,
        "split_seed":42,"log_every":100,"eval_every":10000}"#;
    let c: TrainConfig = serde_json::from_str(old).unwrap();
    assert_eq!(c, config(|_| {}).unwrap());
}

#[test]
fn a_run_keeps_only_the_settings_that_mean_something_for_it() {
    let sgd_mlp = set(serde_json::json!({"model": "mlp", "lr_schedule": "cosine"})).unwrap();
    let kept = sgd_mlp.applicable_settings();
    for absent in ["batchnorm_bug", "beta1", "weight_decay", "lr_decay_at"] {
        assert!(!kept.contains_key(absent), "{absent} in {kept:?}");
    }
    for present in ["n_embd", "momentum", "lr_final", "fast_path"] {
        assert!(kept.contains_key(present), "{present} missing from {kept:?}");
    }
    let back: TrainConfig = serde_json::from_value(Value::Object(kept)).unwrap();
    assert_eq!(back, sgd_mlp, "the others read back as their defaults");
}

#[test]
fn the_bigram_takes_no_settings_of_its_own() {
    let err = set(serde_json::json!({"model": "bigram", "n_embd": 4})).unwrap_err();
    assert_eq!(
        err.reason,
        "is not a setting of model `bigram` (it has no settings of its own)"
    );
    let bigram = set(serde_json::json!({"model": "bigram"})).unwrap();
    assert_eq!((bigram.context(), bigram.trainable_params(27)), (1, 27 * 27));
    assert!(!bigram.uses_fast_path(), "no hand-derived pass: autodiff");
}

#[test]
fn the_typed_options_mirror_every_declared_setting() {
    let Ok(Value::Object(fields)) = serde_json::to_value(TrainOptions::default()) else {
        panic!()
    };
    let declared: Vec<&str> = all_settings().iter().map(|s| s.name).collect();
    for field in fields.keys() {
        assert!(declared.contains(&field.as_str()), "{field} is not declared");
    }
    // Every setting with a fixed default is there; a derived one (n_skip) may be left out.
    for setting in all_settings() {
        if setting.default_value().is_some() {
            assert!(fields.contains_key(setting.name), "{} has no default", setting.name);
        }
    }
}

#[test]
fn mlp_takes_any_block_size() {
    let c = config(|o| {
        o.model = ModelKind::Mlp;
        o.set("block_size", 3);
    })
    .unwrap();
    // 27·24 embedding + 24·3·128 linear + 2·128 BatchNorm + 128·27 + 27 head = 13,603.
    assert_eq!((c.context(), c.trainable_params(27)), (3, 13_603));
}

#[test]
fn deserializing_goes_through_validation() {
    let c = config(|o| o.lr_final = Some(0.02)).unwrap();
    let json = serde_json::to_string(&c).unwrap();
    assert_eq!(serde_json::from_str::<TrainConfig>(&json).unwrap(), c);
    let bad = json.replace("\"n_embd\":24", "\"n_embd\":0");
    assert!(
        serde_json::from_str::<TrainConfig>(&bad)
            .unwrap_err()
            .to_string()
            .contains("n_embd")
    );
    assert!(serde_json::from_str::<TrainConfig>("{\"n_embed\":3}").is_err());
}

#[test]
fn makemore_s_models_default_to_makemore_s_training_and_the_lecture_s_keep_the_lecture_s() {
    let t = set(serde_json::json!({"model": "transformer"})).unwrap();
    assert_eq!(
        (
            t.optimizer,
            t.lr,
            t.lr_schedule,
            t.beta1,
            t.beta2,
            t.eps,
            t.weight_decay,
            t.batch_size
        ),
        (
            OptimizerKind::Adamw,
            5e-4,
            ScheduleKind::Constant,
            0.9,
            0.99,
            1e-8,
            0.01,
            32
        )
    );
    assert_eq!((t.context(), t.trainable_params(27)), (16, 204_544));
    let back: TrainConfig = serde_json::from_value(Value::Object(t.applicable_settings())).unwrap();
    assert_eq!(back, t, "stored and read back");
    let w = set(serde_json::json!({"model": "wavenet"})).unwrap();
    assert_eq!((w.optimizer, w.lr, w.context()), (OptimizerKind::Sgd, 0.1, 8));
    // Switched to SGD, a gru leaves AdamW's settings at its own defaults.
    let sgd = set(serde_json::json!({"model": "gru", "optimizer": "sgd", "lr": 0.1})).unwrap();
    let back: TrainConfig = serde_json::from_value(Value::Object(sgd.applicable_settings())).unwrap();
    assert_eq!(back, sgd);
}

#[test]
fn a_model_that_reads_items_needs_a_block_that_holds_the_longest() {
    let data = crate::dataset::Dataset::from_bytes(b"a\nbb\nccc\ndddd\nabcdefg\nb\nc\nd\nab\nba\n").unwrap();
    let with_block = |model: &str, block: u64| {
        set(serde_json::json!({"model": model, "block_size": block}))
            .unwrap()
            .check_data(&data)
    };
    assert_eq!(with_block("rnn", 8), Ok(()));
    let err = with_block("rnn", 7).unwrap_err();
    assert_eq!(err.key, "block_size");
    assert!(
        err.reason.contains("has 7 characters: set block_size to at least 8"),
        "{}",
        err.reason
    );
    assert_eq!(
        with_block("mlp", 2),
        Ok(()),
        "a model that reads windows takes any data"
    );
}
