//! Sweep-level settings: the metric and its target, defaults and units, and early termination's
//! rules and order.

use super::*;

#[test]
fn a_metric_target_is_reached_at_or_beyond_it_in_the_goal_s_direction() {
    let (spec, _) = parsed("name: t\nmetric: {name: val_loss, goal: minimize, target: 2.0}\n");
    let metric = spec.settings.metric;
    assert_eq!(metric.target, Some(2.0));
    assert!(metric.reaches_target(2.0) && metric.reaches_target(1.9));
    assert!(!metric.reaches_target(2.01));
    let maximize = crate::spec::Metric {
        goal: crate::spec::Goal::Maximize,
        ..metric
    };
    assert!(maximize.reaches_target(2.1) && !maximize.reaches_target(1.9));
    assert!(
        !crate::spec::Metric::default().reaches_target(0.0),
        "no target: never reached"
    );
}

#[test]
fn sweep_settings_have_defaults_and_take_units() {
    let (spec, _) = parsed("name: s\n");
    assert_eq!(spec.runs.len(), 1);
    assert_eq!(spec.settings, crate::spec::SweepSettings::default());
    assert_eq!(spec.settings.metric.loss, results::Loss::Val);
    let (spec, _) = parsed("name: s\ntimeout: 2h\nmax_retries: 0\ncheckpoint_every: 100\nworkers: 3\nthreads: 2\n");
    assert_eq!(spec.settings.threads, Some(2));
    assert_eq!(spec.settings.timeout, Some(std::time::Duration::from_secs(7200)));
    assert_eq!(
        (
            spec.settings.max_retries,
            spec.settings.checkpoint_every,
            spec.settings.workers
        ),
        (0, 100, Some(3))
    );
}

/// Every kind of mistake: the key and line the error names, and words of its message.

#[test]
fn hyperband_is_read_as_w_and_b_writes_it_with_its_defaults() {
    use crate::stopping::EarlyTerminate;
    use crate::stopping::asha::Asha;
    use crate::stopping::hyperband::{Bands, Hyperband};
    use crate::stopping::median::Median;
    let yaml = |et: &str| {
        format!("name: h\nparameters:\n  steps: {{value: 1000}}\n  eval_every: {{value: 100}}\nearly_terminate: {et}\n")
    };
    let (spec, warnings) = parsed(&yaml("{type: hyperband, min_iter: 3}"));
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        spec.settings.early_terminate,
        Some(EarlyTerminate::Hyperband(
            Hyperband::new(Bands::Up { min_iter: 3 }, 3.0, true).unwrap()
        ))
    );
    let (spec, _) = parsed(&yaml("{type: hyperband, max_iter: 27, s: 2, eta: 3, strict: false}"));
    assert_eq!(
        spec.settings.early_terminate,
        Some(EarlyTerminate::Hyperband(
            Hyperband::new(Bands::Down { max_iter: 27, s: 2 }, 3.0, false).unwrap()
        ))
    );
    // Stored with the sweep and read back on resume.
    let stored = serde_json::to_string(&spec.settings).unwrap();
    let back: crate::spec::SweepSettings = serde_json::from_str(&stored).unwrap();
    assert_eq!(back.early_terminate, spec.settings.early_terminate);
    let (spec, _) = parsed(&yaml("{type: median, n_warmup_evals: 2}"));
    assert_eq!(
        spec.settings.early_terminate,
        Some(EarlyTerminate::Median(Median {
            n_startup_runs: 5,
            n_warmup_evals: 2
        }))
    );
    let (spec, _) = parsed(&yaml("{type: asha, eta: 4}"));
    assert_eq!(
        spec.settings.early_terminate,
        Some(EarlyTerminate::Asha(Asha { min_iter: 1, eta: 4.0 }))
    );
    // An eta between 1 and 2, as W&B's engine takes it (its cases in tests/fixtures/hyperband).
    let (spec, _) = parsed(&yaml("{type: asha, eta: 1.5}"));
    assert_eq!(
        spec.settings.early_terminate,
        Some(EarlyTerminate::Asha(Asha { min_iter: 1, eta: 1.5 }))
    );
    let (spec, _) = parsed(&yaml("{type: hyperband, min_iter: 2, eta: 1.5}"));
    let Some(EarlyTerminate::Hyperband(hyperband)) = spec.settings.early_terminate else {
        panic!("hyperband")
    };
    assert_eq!(
        hyperband.describe(20).lines().next().unwrap(),
        "hyperband: bands at 2, 3, 4, 6, 10, 15 evaluations, eta 1.5, strict"
    );
}

#[test]
fn bad_early_termination_is_refused_at_its_key() {
    let yaml = |et: &str| format!("name: h\nparameters:\n  steps: {{value: 1000}}\nearly_terminate:\n  {et}\n");
    let message = |et: &str| error(&yaml(et)).to_string();
    let first_line = |et: &str| message(et).lines().next().unwrap().to_string();
    assert_eq!(
        first_line("{type: hyperband, min_iter: 2, eta: 1}"),
        "sweep.yaml:5:39: `early_terminate.eta`: must be above 1 (the best 1/eta of the runs at each band go on), got 1"
    );
    assert!(first_line("{type: asha, eta: 0.5}").contains("must be above 1"));
    assert_eq!(
        first_line("{type: hyperband, min_iter: 0}"),
        "sweep.yaml:5:31: `early_terminate.min_iter`: must be at least 1 evaluation, got 0"
    );
    assert!(first_line("{type: hyperband}").contains("hyperband needs `min_iter`, or `max_iter` with `s`"));
    assert!(first_line("{type: hyperbnd, min_iter: 1}").contains("unknown type `hyperbnd`"));
    assert_eq!(
        first_line("{type: median, min_iter: 2}"),
        "sweep.yaml:5:28: `early_terminate.min_iter`: not a key of `median` early termination (it takes n_startup_runs, n_warmup_evals)"
    );
    assert!(first_line("{type: median, n_startup_runs: 0}").contains("must be at least 1 completed run, got 0"));
    assert!(
        first_line("{type: asha, s: 2}").contains("not a key of `asha` early termination (it takes min_iter, eta)")
    );
    assert!(
        first_line("{type: asha, order: first}").starts_with(
            "sweep.yaml:5:23: `early_terminate.order`: unknown order `first`; the orders are `run` and `arrival`"
        ),
        "{}",
        first_line("{type: asha, order: first}")
    );
    // The default eval_every (10,000) is past these runs' 1,000 steps.
    let no_evaluation = message("{type: hyperband, min_iter: 1}");
    assert!(
        no_evaluation.contains("run 1 is evaluated only at its end (eval_every 10000 ≥ steps 1000)"),
        "{no_evaluation}"
    );
}

#[test]
fn early_termination_judges_in_run_order_unless_told_arrival() {
    let yaml = |et: &str| {
        format!("name: h\nparameters:\n  steps: {{value: 1000}}\n  eval_every: {{value: 100}}\nearly_terminate: {et}\n")
    };
    let order = |et: &str| parsed(&yaml(et)).0.settings.verdict_order;
    assert_eq!(order("{type: asha}"), crate::stopping::Order::Run);
    assert_eq!(order("{type: median, order: run}"), crate::stopping::Order::Run);
    assert_eq!(
        order("{type: hyperband, min_iter: 1, order: arrival}"),
        crate::stopping::Order::Arrival
    );
}
