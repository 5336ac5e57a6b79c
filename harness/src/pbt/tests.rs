//! The rule on made-up standings: who takes from whom, what explore does to each kind of
//! range, and that the same standings give the same exploits.

use model::{OptimizerKind, TrainConfig, TrainOptions};
use results::RunId;
use serde_json::json;

use super::explore::How;
use super::*;
use crate::space::{Domain, Scalar};

fn config(lr: f64, weight_decay: f64) -> TrainConfig {
    TrainConfig::try_from(TrainOptions {
        optimizer: OptimizerKind::Adamw,
        lr,
        weight_decay,
        ..TrainOptions::default()
    })
    .unwrap()
}

fn pbt(mutations: Vec<Mutation>) -> Pbt {
    Pbt {
        population: 8,
        interval: 2,
        quantile: 0.25,
        resample: 0.0,
        factors: vec![0.8, 1.2],
        mutations,
        seed: 1,
        every: 200,
        steps: 1000,
    }
}

fn lr_in(min: f64, max: f64) -> Mutation {
    Mutation {
        setting: "lr".into(),
        domain: Domain::LogUniform { min, max },
    }
}

/// Eight members, run i with value 2 + i/10 (run 8 the worst), each with lr i/100.
fn eight() -> Vec<Standing> {
    (1..=8)
        .map(|i| Standing {
            run: RunId(i),
            value: 2.0 + i as f64 / 10.0,
            config: config(i as f64 / 100.0, 0.01),
        })
        .collect()
}

#[test]
fn the_worst_quantile_takes_from_the_best_with_the_donors_settings_explored() {
    let rule = pbt(vec![lr_in(0.001, 1.0)]);
    let exploits = rule.exploits(400, &eight()).unwrap();
    let takers: Vec<RunId> = exploits.iter().map(|e| e.run).collect();
    assert_eq!(takers, [RunId(7), RunId(8)], "the worst quarter, in run order");
    for exploit in &exploits {
        assert!([RunId(1), RunId(2)].contains(&exploit.donor), "{exploit:?}");
        let donor_lr = exploit.donor.0 as f64 / 100.0;
        assert_eq!(exploit.before.lr, exploit.run.0 as f64 / 100.0);
        let ratio = exploit.after.lr / donor_lr;
        assert!((ratio - 0.8).abs() < 1e-12 || (ratio - 1.2).abs() < 1e-12, "{ratio}");
        assert_eq!(exploit.after.weight_decay, 0.01, "only what `mutate` lists changes");
        assert_eq!(exploit.step, 400);
        assert_eq!(exploit.changes.len(), 1);
    }
    assert_eq!(
        exploits,
        rule.exploits(400, &eight()).unwrap(),
        "the same standings, the same exploits"
    );
}

#[test]
fn a_member_that_diverged_ranks_last_and_ties_go_to_the_first_run() {
    let mut standings = eight();
    standings[0].value = f64::NAN;
    standings[2].value = standings[1].value;
    let ranked: Vec<RunId> = Pbt::ranked(&standings, |s| (s.run, s.value))
        .iter()
        .map(|s| s.run)
        .collect();
    assert_eq!(ranked[..2], [RunId(2), RunId(3)]);
    assert_eq!(ranked[7], RunId(1));
}

#[test]
fn the_quantile_rounds_up_but_never_past_half_the_population() {
    let mut rule = pbt(Vec::new());
    assert_eq!(rule.quantile_size(8), 2);
    assert_eq!(rule.quantile_size(5), 2);
    assert_eq!(rule.quantile_size(1), 0);
    rule.quantile = 0.5;
    assert_eq!(rule.quantile_size(3), 1);
    assert_eq!(rule.quantile_size(2), 1);
}

#[test]
fn exploits_fall_every_interval_before_the_last_step() {
    let rule = pbt(Vec::new());
    assert_eq!(rule.exploit_steps().collect::<Vec<_>>(), [200, 400, 600, 800]);
    assert!(rule.exploits_at(600) && !rule.exploits_at(1000) && !rule.exploits_at(300) && !rule.exploits_at(0));
}

#[test]
fn a_perturbation_past_its_range_is_held_at_the_end() {
    // Every member's lr at the range's top: ×1.2 is held there, ×0.8 is not.
    let rule = pbt(vec![lr_in(0.001, 0.02)]);
    let mut standings = eight();
    standings.iter_mut().for_each(|s| s.config = config(0.02, 0.01));
    let mut seen = Vec::new();
    for step in [200, 400, 600, 800] {
        for exploit in rule.exploits(step, &standings).unwrap() {
            let change = &exploit.changes[0];
            match change.how {
                How::Scaled { factor, clamped } => {
                    assert_eq!(clamped, factor > 1.0, "{change}");
                    let expected = (0.02 * factor).min(0.02);
                    assert!((exploit.after.lr - expected).abs() < 1e-15, "{change}");
                    seen.push(clamped);
                }
                other => panic!("{other:?}"),
            }
        }
    }
    assert!(seen.contains(&true) && seen.contains(&false), "{seen:?}");
    let shown = rule.exploits(200, &standings).unwrap()[0].changes[0].to_string();
    assert!(shown.starts_with("lr 0.02 → "), "{shown}");
}

#[test]
fn a_listed_value_moves_to_a_neighbour_and_whole_numbers_stay_whole() {
    let batch = Mutation {
        setting: "batch_size".into(),
        domain: Domain::Choice {
            values: vec![Scalar::Int(16), Scalar::Int(32), Scalar::Int(64)],
            weights: None,
        },
    };
    let rule = pbt(vec![batch]);
    for step in [200, 400, 600, 800] {
        for exploit in rule.exploits(step, &eight()).unwrap() {
            let change = &exploit.changes[0];
            assert_eq!(change.from, json!(32));
            let expected = match change.how {
                How::Shifted { by: -1 } => 16,
                How::Shifted { by: 1 } => 64,
                other => panic!("{other:?}"),
            };
            assert_eq!(exploit.after.batch_size, expected);
        }
    }
    let steps = Mutation {
        setting: "batch_size".into(),
        domain: Domain::QUniform {
            min: 8.0,
            max: 40.0,
            q: 8.0,
        },
    };
    let rule = pbt(vec![steps]);
    for exploit in rule.exploits(200, &eight()).unwrap() {
        // 32 × 0.8 = 25.6 → 24; 32 × 1.2 = 38.4 → 40.
        assert!([24, 40].contains(&exploit.after.batch_size), "{:?}", exploit.changes);
    }
}

#[test]
fn with_resample_one_every_value_is_drawn_afresh_from_its_range() {
    let mut rule = pbt(vec![lr_in(0.3, 0.4)]);
    rule.resample = 1.0;
    for exploit in rule.exploits(200, &eight()).unwrap() {
        assert_eq!(exploit.changes[0].how, How::Resampled);
        assert!((0.3..=0.4).contains(&exploit.after.lr), "{}", exploit.after.lr);
    }
}

#[test]
fn a_floor_left_at_lr_over_10_follows_a_new_lr_and_a_floor_set_stays() {
    let rule = pbt(vec![lr_in(0.001, 1.0)]);
    let derived = |lr: f64| {
        TrainConfig::try_from(TrainOptions {
            lr,
            ..TrainOptions::default()
        })
        .unwrap()
    };
    let mut standings = eight();
    standings.iter_mut().for_each(|s| s.config = derived(s.config.lr));
    for exploit in rule.exploits(200, &standings).unwrap() {
        assert!((exploit.after.lr_final() - exploit.after.lr / 10.0).abs() < 1e-15);
    }
    let set = |lr: f64| {
        TrainConfig::try_from(TrainOptions {
            lr,
            lr_final: Some(0.0005),
            ..TrainOptions::default()
        })
        .unwrap()
    };
    standings.iter_mut().for_each(|s| s.config = set(s.config.lr));
    for exploit in rule.exploits(200, &standings).unwrap() {
        assert_eq!(exploit.after.lr_final(), 0.0005);
    }
}

#[test]
fn a_list_written_in_whole_numbers_moves_a_decimal_setting_to_a_neighbour() {
    // `weight_decay: {values: [0, 0.01, 1]}` and members at 0.0: found in the list as written.
    let decay = Mutation {
        setting: "weight_decay".into(),
        domain: Domain::Choice {
            values: vec![Scalar::Int(0), Scalar::Float(0.01), Scalar::Int(1)],
            weights: None,
        },
    };
    let rule = pbt(vec![decay]);
    let mut standings = eight();
    standings.iter_mut().for_each(|s| s.config = config(s.config.lr, 0.0));
    for step in [200, 400, 600, 800] {
        for exploit in rule.exploits(step, &standings).unwrap() {
            let change = &exploit.changes[0];
            assert!(matches!(change.how, How::Shifted { by: 0 | 1 }), "{change}");
            assert!([0.0, 0.01].contains(&exploit.after.weight_decay), "{change}");
        }
    }
}
