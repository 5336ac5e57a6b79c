//! Mistakes in a sweep file: one error each, naming the file, line, column and key, with the
//! line and a caret; relative data paths.

use super::*;

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
        (
            "name: x\nmethod: random\nrun_cap: 2\nrandom_fraction: 0.3\n",
            Some("random_fraction"),
            4,
            "a `random` search takes no `random_fraction`",
        ),
        (
            "name: x\nmethod: bayes\nrun_cap: 20\nrandom_fraction: 1\nparameters:\n  lr: {min: 0.01, max: 0.1}\n",
            Some("random_fraction"),
            4,
            "must be at least 0 and below 1",
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
