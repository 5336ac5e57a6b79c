//! The `pbt:` section: a population drawn at random, Ray's defaults, and each mistake named
//! with its line and key — a setting that cannot change part-way above all.

use super::*;

/// A population of 4 with `pbt` added to its `pbt:` section and `top` to the file's start.
fn sweep(top: &str, pbt: &str) -> String {
    format!(
        "name: p\nmethod: random\n{top}parameters:\n  optimizer: {{value: adamw}}\n  lr: {{distribution: \
         log_uniform_values, min: 0.001, max: 0.1}}\n  weight_decay: {{values: [0.0, 0.01, 0.1]}}\n  n_embd: \
         {{values: [8, 16]}}\n  steps: {{value: 1000}}\n  eval_every: {{value: 100}}\npbt:\n  population: 4\n{pbt}"
    )
}

#[test]
fn a_population_is_drawn_at_random_with_rays_defaults() {
    let (spec, _) = parsed(&sweep(
        "sampler_seed: 3\n",
        "  interval: 2\n  mutate: [lr, weight_decay]\n",
    ));
    assert_eq!(spec.runs.len(), 4);
    let pbt = spec.settings.pbt.clone().expect("a pbt section");
    assert_eq!((pbt.population, pbt.interval, pbt.every, pbt.steps), (4, 2, 200, 1000));
    assert_eq!(
        (pbt.quantile, pbt.resample, pbt.factors.clone()),
        (0.25, 0.25, vec![0.8, 1.2])
    );
    assert_eq!(pbt.seed, 3);
    let mutated: Vec<&str> = pbt.mutations.iter().map(|m| m.setting.as_str()).collect();
    assert_eq!(mutated, ["lr", "weight_decay"]);
    let stored: crate::spec::SweepSettings =
        serde_json::from_str(&serde_json::to_string(&spec.settings).unwrap()).unwrap();
    assert_eq!(stored.pbt, Some(pbt), "stored with the sweep and read back the same");
}

#[test]
fn each_pbt_mistake_names_its_line_and_key() {
    let mutate = "  interval: 2\n  mutate: [lr]\n";
    let cases: Vec<(String, &str, u64, &str)> = vec![
        (
            sweep("", "  mutate: [lr, n_embd]\n  interval: 2\n"),
            "pbt.mutate",
            12,
            "cannot change part-way",
        ),
        (
            sweep("", "  interval: 2\n  mutate: [lr, lr]\n"),
            "pbt.mutate",
            13,
            "listed twice",
        ),
        (
            sweep("", "  interval: 2\n  mutate: [learning_rate]\n"),
            "pbt.mutate",
            13,
            "not a setting",
        ),
        (
            sweep("", "  interval: 2\n  mutate: [dropout]\n"),
            "pbt.mutate",
            13,
            "give `dropout` a range",
        ),
        (sweep("", "  interval: 2\n"), "pbt.mutate", 11, "missing"),
        (sweep("", "  mutate: [lr]\n"), "pbt.interval", 11, "missing"),
        (
            sweep("", "  interval: 10\n  mutate: [lr]\n"),
            "pbt.interval",
            12,
            "no exploit would come",
        ),
        (
            sweep("", &format!("{mutate}  quantile: 0.6\n")),
            "pbt.quantile",
            14,
            "at most 0.5",
        ),
        (
            sweep("", &format!("{mutate}  resample: 1.5\n")),
            "pbt.resample",
            14,
            "between 0 and 1",
        ),
        (
            sweep("", &format!("{mutate}  factors: [0.8, -1]\n")),
            "pbt.factors",
            14,
            "positive",
        ),
        (sweep("run_cap: 4\n", mutate), "run_cap", 3, "remove `run_cap`"),
        (
            sweep("early_terminate: {type: hyperband, min_iter: 1}\n", mutate),
            "early_terminate",
            3,
            "not both",
        ),
        (
            sweep("", &format!("{mutate}  elite: 2\n")),
            "",
            14,
            "unknown field `elite`",
        ),
        (
            sweep("", mutate).replace("population: 4", "population: 1"),
            "pbt.population",
            11,
            "at least 2",
        ),
        (
            sweep("", mutate).replace("method: random", "method: grid"),
            "method",
            2,
            "use `method: random`",
        ),
        (
            sweep("", mutate).replace("steps: {value: 1000}", "steps: {values: [1000, 2000]}"),
            "pbt",
            11,
            "the same `steps`",
        ),
    ];
    let transformer = "name: t\nmethod: random\nparameters:\n  model: {value: transformer}\n  dropout: {distribution: \
                       uniform, min: 0.0, max: 1.0}\n  steps: {value: 1000}\n  eval_every: {value: 100}\npbt:\n  \
                       population: 4\n  interval: 2\n  mutate: [dropout]\n";
    let cases = [
        cases,
        vec![
            (transformer.to_string(), "pbt.mutate", 11, "can set `dropout` to 1"),
            (
                sweep("", mutate)
                    .replace(
                        "lr: {distribution: log_uniform_values, min: 0.001, max: 0.1}",
                        "lr: {values: [0.01, 0.02]}",
                    )
                    .replace("n_embd: {values: [8, 16]}", "n_embd: {value: 8}")
                    .replace(
                        "weight_decay: {values: [0.0, 0.01, 0.1]}",
                        "weight_decay: {value: 0.01}",
                    ),
                "pbt.population",
                11,
                "only 2 distinct configurations",
            ),
        ],
    ]
    .concat();
    for (yaml, key, line, words) in &cases {
        let err = error(yaml);
        assert_eq!(err.key().unwrap_or(""), *key, "key of {err} for\n{yaml}");
        assert_eq!(err.line().unwrap_or(0), *line, "line of {err} for\n{yaml}");
        assert!(err.message().contains(words), "`{words}` not in {err}");
    }
}
