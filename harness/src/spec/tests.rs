//! Sweep files in, runs or one located error out.

use std::path::Path;

use model::{Backend, ModelKind};

use super::{Method, SpecError, SweepSpec, parse};
use crate::workers::placement::DeviceRequest;

fn parsed(yaml: &str) -> (SweepSpec, Vec<String>) {
    parse(yaml, "sweep.yaml", Path::new(".")).unwrap_or_else(|err| panic!("{err}"))
}

/// A run's value of one of its model's settings, as a number.
fn net(run: &super::PlannedRun, name: &str) -> usize {
    run.config.net[name]
        .as_u64()
        .unwrap_or_else(|| panic!("{name} in {:?}", run.config.net)) as usize
}

fn error(yaml: &str) -> SpecError {
    match parse(yaml, "sweep.yaml", Path::new(".")) {
        Ok((spec, _)) => panic!("expected an error, got {} runs", spec.runs.len()),
        Err(err) => err,
    }
}

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
    let reference = super::Reference {
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
    let observations: Vec<(Vec<super::Scalar>, Option<f64>)> = spec
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
fn a_metric_target_is_reached_at_or_beyond_it_in_the_goal_s_direction() {
    let (spec, _) = parsed("name: t\nmetric: {name: val_loss, goal: minimize, target: 2.0}\n");
    let metric = spec.settings.metric;
    assert_eq!(metric.target, Some(2.0));
    assert!(metric.reaches_target(2.0) && metric.reaches_target(1.9));
    assert!(!metric.reaches_target(2.01));
    let maximize = super::Metric {
        goal: super::Goal::Maximize,
        ..metric
    };
    assert!(maximize.reaches_target(2.1) && !maximize.reaches_target(1.9));
    assert!(
        !super::Metric::default().reaches_target(0.0),
        "no target: never reached"
    );
}

#[test]
fn sweep_settings_have_defaults_and_take_units() {
    let (spec, _) = parsed("name: s\n");
    assert_eq!(spec.runs.len(), 1);
    assert_eq!(spec.settings, super::SweepSettings::default());
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
fn each_bad_spec_gets_one_error_naming_its_line_and_key() {
    let cases: &[(&str, Option<&str>, u64, &str)] = &[
        ("name: [unclosed\n", None, 1, ""),
        ("parameters: {}\n", Some("name"), 0, "needs a name"),
        ("name: x\nfoo: 1\n", None, 2, "unknown field `foo`"),
        ("name: x\nrun_cap: -1\n", None, 2, "invalid u64"),
        (
            "name: x\nparameters:\n  lr: {valu: 3}\n",
            None,
            3,
            "unknown field `valu`, expected one of value, values",
        ),
        (
            "name: x\nmethod: grid\nparameters:\n  n_embed: {value: 3}\n",
            Some("n_embed"),
            4,
            "not a run setting",
        ),
        (
            "name: x\nparameters:\n  n_hidden: {value: abc}\n",
            Some("n_hidden"),
            3,
            "expected a whole number",
        ),
        (
            "name: x\nparameters:\n  n_hidden: {values: []}\n",
            Some("n_hidden"),
            3,
            "empty",
        ),
        (
            "name: x\nparameters:\n  n_hidden:\n    values: [1, 2, 1]\n",
            Some("n_hidden"),
            4,
            "twice",
        ),
        (
            "name: x\nparameters:\n  n_hidden: {values: [0, 68]}\n",
            Some("n_hidden"),
            3,
            "at least 1",
        ),
        (
            "name: x\nparameters:\n  block_size: {values: [4, 6]}\n",
            Some("block_size"),
            3,
            "power of two",
        ),
        (
            "name: x\nmethod: random\nrun_cap: 3\nparameters:\n  lr:\n    distribution: uniform\n    min: 0.3\n    max: 0.02\n",
            Some("lr"),
            7,
            "greater than",
        ),
        (
            "name: x\nparameters:\n  lr: {distribution: log_uniform_values, min: 0.01, max: 0.1}\n",
            Some("lr"),
            3,
            "grid needs a finite list",
        ),
        (
            "name: x\nmethod: random\nparameters:\n  seed: {values: [1]}\n",
            Some("run_cap"),
            2,
            "run_cap",
        ),
        ("name: x\nmethod: hyperband\n", Some("method"), 2, "unknown method"),
        (
            "name: x\nmethod: random\nrun_cap: 2\nparameters:\n  lr: {distribution: normal, min: 0, max: 1}\n",
            Some("lr"),
            5,
            "unknown distribution",
        ),
        (
            "name: x\nparameters:\n  lr: {value: 0.1, values: [0.2]}\n",
            Some("lr"),
            3,
            "not both",
        ),
        (
            "name: x\nparameters:\n  lr: {min: 0.1}\n",
            Some("lr"),
            3,
            "give both `min` and `max`",
        ),
        (
            "name: x\nparameters:\n  n_embed:\n    value: 3\n",
            Some("n_embed"),
            3,
            "not a run setting",
        ),
        (
            "name: x\nmethod: bayes\nparameters:\n  lr: {min: 0.01, max: 0.1}\n",
            Some("run_cap"),
            2,
            "a `bayes` search needs `run_cap`",
        ),
        ("name: x\ndata: no-such-file.txt\n", Some("data"), 2, "no data file"),
        ("name: x\nbackend: cuda9\n", Some("backend"), 2, "cuda9"),
        ("name: x\ndevice: cuda\n", Some("device"), 2, "CPU only"),
        (
            "name: x\nvariants:\n  - {label: m, model: mlp, batchnorm_bug: true}\n",
            Some("batchnorm_bug"),
            3,
            "not a setting of model `mlp` (its own settings: n_embd, n_hidden, block_size) (in variant `m`)",
        ),
        (
            "name: x\nparameters:\n  model: {value: mlp}\n  batchnorm_bug: {values: [true, false]}\n",
            Some("batchnorm_bug"),
            4,
            "not a setting of model `mlp`",
        ),
        (
            "name: x\nvariants:\n  - {label: g, device: cuda:0}\n",
            Some("device"),
            3,
            "CPU only",
        ),
        (
            "name: x\nbackend: tch\ngpus: [0]\nparameters:\n  device: {values: [cuda:1]}\n",
            Some("device"),
            5,
            "GPU 1 is not in `gpus`",
        ),
        ("name: x\nworkers: 0\n", Some("workers"), 2, "between 1 and 1024"),
        ("name: x\nthreads: 5000\n", Some("threads"), 2, "between 1 and 1024"),
        ("name: x\ntimeout: soon\n", Some("timeout"), 2, "seconds"),
        (
            "name: x\nmetric: {name: accuracy}\n",
            Some("metric.name"),
            2,
            "unknown metric",
        ),
        (
            "name: x\nmetric: {name: val_loss, target: .nan}\n",
            Some("metric.target"),
            2,
            "not a number",
        ),
        (
            "name: x\nparameters:\n  n_embd: {values: [10]}\nvariants:\n  - {label: a, n_embd: 24}\n",
            Some("n_embd"),
            5,
            "both in this variant and in `parameters`",
        ),
        (
            "name: x\nvariants:\n  - {label: a, model: wavenet, block_size: 3}\n",
            Some("block_size"),
            3,
            "in variant `a`",
        ),
        (
            "name: x\nvariants:\n  - {label: a}\n  - {label: a, seed: 2}\n",
            Some("label"),
            4,
            "two variants",
        ),
        (
            "name: x\nvariants:\n  - {label: a, seed: 1}\n  - {label: b, seed: 1}\n",
            Some("variants"),
            4,
            "repeats",
        ),
        (
            "name: x\nparameters:\n  seed: {distribution: int_uniform, min: 0, max: 1000000}\n",
            Some("seed"),
            3,
            "over",
        ),
        (
            "name: x\nparameters:\n  seed: {value: 1}\n  seed: {value: 2}\n",
            None,
            4,
            "duplicate mapping key: seed",
        ),
    ];
    for (yaml, key, line, words) in cases {
        let err = error(yaml);
        assert_eq!(err.key(), *key, "key of {err} for\n{yaml}");
        assert_eq!(err.line().unwrap_or(0), *line, "line of {err} for\n{yaml}");
        assert!(err.message().contains(words), "`{words}` not in {err}");
        assert!(err.to_string().starts_with("sweep.yaml"), "{err}");
    }
}

#[test]
fn an_error_shows_the_line_with_a_caret_under_the_value() {
    let err = error("name: x\nparameters:\n  n_hidden: {values: [0, 68]}\n");
    assert_eq!(
        err.to_string(),
        "sweep.yaml:3:13: `n_hidden`: must be at least 1, got 0\n  |\n3 |   n_hidden: {values: [0, 68]}\n  |             ^"
    );
}

#[test]
fn a_relative_data_path_is_read_from_the_sweep_files_folder() {
    let dir = std::env::temp_dir().join(format!("harness-spec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("words.txt"), "ab\ncd\n").unwrap();
    let (spec, _) = parse("name: d\ndata: words.txt\n", "d.yaml", &dir).unwrap();
    assert_eq!(spec.data, Some(dir.join("words.txt")));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_example_sweep_in_the_repository_is_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sweeps");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let loaded = super::load(&path).unwrap_or_else(|err| panic!("{err}"));
            assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
            assert!(!loaded.spec.runs.is_empty());
            checked += 1;
        }
    }
    assert!(checked >= 3, "{checked} example sweeps");
}

#[test]
fn backend_and_device_are_set_per_run_by_parameters_variants_or_the_sweep() {
    let (spec, _) = parsed(
        "name: p
device: cpu
gpus: [1, 0]
runs_per_gpu: 3
parameters:
  backend: {values: [flex, ndarray]}
variants:
  - {label: a}
  - {label: b, device: cpu, seed: 7}
",
    );
    let placed: Vec<(Backend, DeviceRequest)> = spec.runs.iter().map(|r| (r.backend, r.device)).collect();
    let cpu = DeviceRequest::Cpu;
    assert_eq!(
        placed,
        [
            (Backend::Flex, cpu),
            (Backend::Ndarray, cpu),
            (Backend::Flex, cpu),
            (Backend::Ndarray, cpu)
        ]
    );
    assert_eq!((spec.settings.gpus, spec.settings.runs_per_gpu), (Some(vec![1, 0]), 3));
    assert_eq!(
        spec.runs[1].assigned,
        [("backend".to_string(), serde_json::json!("ndarray"))]
    );
    // The same configuration on two backends is two runs, not a repeat.
    assert_eq!(spec.runs[0].config, spec.runs[1].config);
    let (defaults, _) = parsed("name: d\n");
    assert_eq!(
        (defaults.runs[0].backend, defaults.runs[0].device),
        (Backend::Flex, cpu)
    );
    assert_eq!((defaults.settings.gpus, defaults.settings.runs_per_gpu), (None, 1));
}

/// GPU runs, where libtorch is built in: any GPU of the pool, a pinned one, the sweep's
/// device for runs that set none, and the CPU for a variant that says so.
#[cfg(feature = "tch")]
#[test]
fn gpu_devices_are_set_per_run_by_parameters_variants_or_the_sweep() {
    let (spec, _) = parsed(
        "name: p
backend: tch
device: cuda
gpus: [0, 1]
parameters:
  seed: {values: [1, 2]}
variants:
  - {label: any}
  - {label: pinned, device: cuda:1}
  - {label: cpu, device: cpu}
",
    );
    let placed: Vec<DeviceRequest> = spec.runs.iter().map(|r| r.device).collect();
    use DeviceRequest::{AnyGpu, Cpu, Gpu};
    assert_eq!(placed, [AnyGpu, AnyGpu, Gpu(1), Gpu(1), Cpu, Cpu]);
    assert!(spec.runs.iter().all(|r| r.backend == Backend::Tch));
}

#[cfg(not(feature = "cuda"))]
#[test]
fn a_backend_this_binary_lacks_is_refused_at_its_key() {
    let message = error("name: x\nbackend: cuda\n").to_string();
    assert!(
        message.starts_with("sweep.yaml:2:10: `backend`: backend `cuda` is not built"),
        "{message}"
    );
}

#[test]
fn the_fast_path_and_autodiff_can_be_compared_in_one_sweep() {
    let (spec, _) = parsed("name: paths\nparameters:\n  fast_path: {values: [true, false]}\n");
    let paths: Vec<bool> = spec.runs.iter().map(|r| r.config.fast_path).collect();
    assert_eq!(paths, [true, false]);
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
    let back: super::SweepSettings = serde_json::from_str(&stored).unwrap();
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
