//! Expanding a sweep file into runs: grids, variants, random draws, a `bayes` search's random
//! start, run caps, W&B's inferred distributions, and every example file in `sweeps/`.

use super::*;

#[test]
fn a_grid_is_the_product_of_the_values_with_the_last_key_fastest() {
    let (spec, warnings) = parsed(
        "name: g\nmethod: grid\nparameters:\n  n_embd: {values: [10, 24]}\n  n_hidden: {values: [68, 128, 200]}\n  steps: {value: 100}\n",
    );
    assert!(warnings.is_empty());
    assert_eq!(spec.method, Method::Grid);
    let pairs: Vec<(usize, usize)> = spec
        .runs
        .iter()
        .map(|r| (net(r, "n_embd"), net(r, "n_hidden")))
        .collect();
    assert_eq!(pairs, [(10, 68), (10, 128), (10, 200), (24, 68), (24, 128), (24, 200)]);
    assert!(spec.runs.iter().all(|r| r.config.steps == 100 && r.config.lr == 0.1));
}

#[test]
fn each_variant_is_crossed_with_the_grid_and_unset_keys_take_the_train_defaults() {
    let (spec, _) = parsed(
        "name: v
parameters:
  seed: {values: [1, 2, 3]}
variants:
  - {label: original, model: mlp, block_size: 3, n_embd: 10, n_hidden: 200, reference: {train_loss: 2.058, val_loss: 2.105}}
  - {label: scaled, model: wavenet, n_embd: 24, n_hidden: 128}
",
    );
    assert_eq!(spec.runs.len(), 6);
    let reference = crate::spec::Reference {
        train_loss: Some(2.058),
        val_loss: Some(2.105),
        test_loss: None,
    };
    assert_eq!(spec.runs[0].reference, Some(reference.clone()));
    assert_eq!(spec.runs[5].reference, None);
    assert_eq!(spec.settings.references.len(), 1);
    assert_eq!(spec.settings.references["original"], reference);
    let first = &spec.runs[0];
    assert_eq!(first.variant.as_deref(), Some("original"));
    assert_eq!(
        (first.config.model, net(first, "block_size"), first.config.seed),
        (ModelKind::Mlp, 3, 1)
    );
    let last = &spec.runs[5];
    assert_eq!(last.variant.as_deref(), Some("scaled"));
    assert_eq!(
        (net(last, "block_size"), last.config.seed, last.config.steps),
        (8, 3, 200_000)
    );
    assert_eq!(
        last.assigned.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        ["model", "n_embd", "n_hidden", "seed"]
    );
}

#[test]
fn int_and_q_uniform_enumerate_in_a_grid() {
    let (spec, _) = parsed(
        "name: q\nparameters:\n  n_embd: {distribution: int_uniform, min: 2, max: 4}\n  n_hidden: {distribution: q_uniform, min: 10, max: 40, q: 16}\n",
    );
    let pairs: Vec<(usize, usize)> = spec
        .runs
        .iter()
        .map(|r| (net(r, "n_embd"), net(r, "n_hidden")))
        .collect();
    assert_eq!(pairs, [(2, 16), (2, 32), (3, 16), (3, 32), (4, 16), (4, 32)]);
}

#[test]
fn random_draws_are_reproducible_within_bounds_and_change_with_the_sampler_seed() {
    let yaml = "name: r
method: random
run_cap: 20
parameters:
  lr: {distribution: log_uniform_values, min: 0.02, max: 0.3}
  lr_decay_at: {distribution: uniform, min: 0.5, max: 0.9}
  n_hidden: {distribution: int_uniform, min: 32, max: 256}
  model: {distribution: categorical, values: [mlp, wavenet], probabilities: [0.25, 0.75]}
";
    let (a, _) = parsed(yaml);
    let (b, _) = parsed(yaml);
    assert_eq!(a.runs, b.runs);
    assert_eq!(a.runs.len(), 20);
    for run in &a.runs {
        assert!((0.02..=0.3).contains(&run.config.lr), "{}", run.config.lr);
        assert!((0.5..=0.9).contains(&run.config.lr_decay_at));
        assert!((32..=256).contains(&net(run, "n_hidden")));
    }
    let wavenets = a.runs.iter().filter(|r| r.config.model == ModelKind::Wavenet).count();
    assert!((10..20).contains(&wavenets), "{wavenets} of 20 with p = 0.75");
    let (c, _) = parsed(&yaml.replace("run_cap: 20", "run_cap: 20\nsampler_seed: 7"));
    assert_ne!(a.runs, c.runs);
}

#[test]
fn a_random_search_over_few_values_stops_at_the_distinct_ones_with_a_warning() {
    let (spec, warnings) = parsed("name: r\nmethod: random\nrun_cap: 5\nparameters:\n  seed: {values: [1, 2]}\n");
    assert_eq!(spec.runs.len(), 2);
    assert!(warnings[0].contains("only 2 distinct"), "{warnings:?}");
}

#[test]
fn wandb_keys_we_ignore_give_warnings_that_name_them() {
    let (spec, warnings) = parsed(
        "name: w\nprogram: train.py\nproject: p\nmethod: bayes\nrun_cap: 2\nparameters:\n  seed: {values: [1, 2, 3]}\n",
    );
    assert_eq!(spec.method, Method::Bayes);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].starts_with("sweep.yaml:2:10: `program`"), "{}", warnings[0]);
    assert!(warnings.iter().any(|w| w.contains("`project`")));
}

#[test]
fn a_bayes_search_plans_its_random_start_and_leaves_the_rest_to_its_planner() {
    let yaml = "name: b\nmethod: bayes\nrun_cap: 30\nsampler_seed: 4\nparameters:\n  lr: {min: 0.001, max: 0.5, distribution: log_uniform_values}\n  n_hidden: {values: [8, 16]}\n";
    let (spec, _) = parsed(yaml);
    assert_eq!(spec.runs.len(), 10, "Optuna's 10 random runs first");
    let bayes = spec.bayes.expect("a bayes search has a planner");
    assert_eq!((bayes.run_cap, bayes.sampler_seed), (30, 4));
    // Its proposals are runs the file allows, checked as every run is.
    let observations: Vec<(Vec<crate::spec::Scalar>, Option<f64>)> = spec
        .runs
        .iter()
        .map(|run| {
            let config = run.config.applicable_settings();
            (bayes.planner.values_of(&config), Some(run.config.lr))
        })
        .collect();
    let mut rng = model::rng::Rng::seed_from(1);
    let values = bayes
        .planner
        .propose(&observations, &mut rng)
        .into_iter()
        .map(|s| s.value)
        .collect();
    let run = bayes.planner.plan(values).unwrap();
    assert!((0.001..=0.5).contains(&run.config.lr));
    // A bayes search with fewer runs than the random start is all random.
    let (few, _) = parsed(&yaml.replace("run_cap: 30", "run_cap: 4"));
    assert_eq!(few.runs.len(), 4);
}

#[test]
fn a_bayes_search_refuses_variants_and_varying_where_runs_go() {
    let base = "name: b\nmethod: bayes\nrun_cap: 30\nparameters:\n  lr: {min: 0.001, max: 0.5}\n";
    let err = error(&format!("{base}variants:\n  - {{label: a}}\n")).to_string();
    assert!(err.contains("a `bayes` search does not take variants yet"), "{err}");
    let err = error(&format!("{base}  backend: {{values: [flex, ndarray]}}\n")).to_string();
    assert!(err.contains("a `bayes` search varies training settings only"), "{err}");
}

#[test]
fn a_grid_beyond_run_cap_keeps_the_first_runs() {
    let (spec, warnings) = parsed("name: c\nrun_cap: 2\nparameters:\n  seed: {values: [1, 2, 3]}\n");
    assert_eq!(spec.runs.iter().map(|r| r.config.seed).collect::<Vec<_>>(), [1, 2]);
    assert!(warnings[0].contains("keeps the first 2 of 3"));
}

#[test]
fn every_example_sweep_in_the_repository_is_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sweeps");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let loaded = crate::spec::load(&path).unwrap_or_else(|err| panic!("{err}"));
            assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
            assert!(!loaded.spec.runs.is_empty());
            checked += 1;
        }
    }
    assert!(checked >= 3, "{checked} example sweeps");
}

#[test]
fn min_and_max_alone_are_a_uniform_distribution_as_in_wandb() {
    let (spec, _) = parsed(
        "name: w\nmethod: random\nrun_cap: 20\nparameters:\n  lr: {min: 0.01, max: 0.1}\n  n_hidden: {min: 32, max: 40}\n",
    );
    let lrs: Vec<f64> = spec.runs.iter().map(|r| r.config.lr).collect();
    assert!(lrs.iter().all(|lr| (0.01..=0.1).contains(lr)), "{lrs:?}");
    assert!(
        lrs.iter().any(|lr| lr.fract() != 0.0 && (lr * 1000.0).fract() != 0.0),
        "continuous: {lrs:?}"
    );
    for run in &spec.runs {
        let n = run.config.net["n_hidden"]
            .as_u64()
            .expect("whole numbers give int_uniform");
        assert!((32..=40).contains(&n));
    }
    assert_eq!(
        spec.parameters,
        [
            "lr: uniform over [0.01, 0.1] (inferred from min and max)",
            "n_hidden: int_uniform over [32, 40] (inferred from min and max)"
        ]
    );
    // A grid enumerates an inferred int_uniform.
    let (grid, _) = parsed("name: g\nparameters:\n  n_hidden: {min: 8, max: 10}\n");
    assert_eq!(
        grid.runs.iter().map(|r| net(r, "n_hidden")).collect::<Vec<_>>(),
        [8, 9, 10]
    );
}
