//! Builds a large synthetic sweep for `bench/scale.sh`, through the store's own writes: the
//! one run of a template sweep (a real `harness launch`) copied N times, each copy with its
//! own `lr`, `n_hidden` and `seed` (three seeds per configuration), losses and curves moved
//! by a smooth function of them plus noise. Most copies complete; a few fail, two are still
//! running and the last ones wait, as in a sweep seen while it runs.
//!
//! cargo run --release -p results --example synthetic_sweep -- TEMPLATE_DB SWEEP RUNS OUT_DB

use std::path::PathBuf;

use results::{CurvePoint, NewRun, NewSweep, RanOn, RunResult, RunStatus, Split, Store, SweepKind};
use serde_json::{Map, Value};

/// Runs at the end of the sweep that have not started.
const PENDING: usize = 20;
/// Runs training when the sweep is looked at.
const RUNNING: usize = 2;
/// One run in this many failed.
const FAILED_EVERY: usize = 97;
const SEEDS: usize = 3;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [template, sweep_name, runs, out] = args.as_slice() else {
        return Err("usage: synthetic_sweep TEMPLATE_DB SWEEP RUNS OUT_DB".into());
    };
    let runs: usize = runs.parse()?;
    let template = Store::open_read_only(&PathBuf::from(template))?;
    let sweep = template
        .find_sweep(sweep_name)?
        .ok_or_else(|| format!("no sweep `{sweep_name}` in the template"))?;
    let model = template
        .sweep_runs(sweep.id)?
        .into_iter()
        .find(|r| r.status == RunStatus::Completed)
        .ok_or("the template sweep has no completed run")?;
    let train = (Split::Train, template.curve(model.id, Split::Train)?);
    let val = (Split::Val, template.curve(model.id, Split::Val)?);
    let samples = template.samples(model.id)?;
    let config: Map<String, Value> = serde_json::from_str(&model.config_json)?;

    let mut store = Store::open(&PathBuf::from(out))?;
    let mut rng = SplitMix(0x5ca1e);
    let planned: Vec<(NewRun, f64)> = (0..runs)
        .map(|i| {
            let group = i / SEEDS;
            // One draw per configuration, shared by its seeds.
            let mut draw = SplitMix(group as u64 + 1);
            let lr = 10f64.powf(-3.0 + 2.5 * draw.unit());
            let n_hidden = [32, 48, 64, 96, 128, 192, 256][(draw.unit() * 7.0) as usize % 7];
            let mut config = config.clone();
            config.insert("lr".into(), lr.into());
            config.insert("n_hidden".into(), n_hidden.into());
            config.insert("seed".into(), (i % SEEDS + 1).into());
            // Best near lr 0.1 and more hidden units; a seed moves it by ~0.01.
            let shift = 0.08 * (lr.log10() + 1.0).powi(2) + 6.0 / n_hidden as f64;
            let run = NewRun {
                run_key: format!("synthetic-{i}"),
                config_json: Value::Object(config).to_string(),
                backend: model.backend.clone(),
                requested_device: model.requested_device.clone().unwrap_or_else(|| "cpu".into()),
                threads: model.threads,
                data_path: model.data_path.clone(),
                data_sha256: model.data_sha256.clone(),
                git_commit: model.git_commit.clone(),
                trainable_params: model.trainable_params,
                variant: model.variant.clone(),
            };
            (run, shift)
        })
        .collect();
    let new_runs: Vec<NewRun> = planned.iter().map(|(run, _)| run.clone()).collect();
    let created = store.create_sweep(
        &NewSweep {
            name: Some(format!("{}-{runs}", sweep.name)),
            kind: SweepKind::Sweep,
            spec: sweep.spec.clone(),
            spec_sha256: sweep.spec_sha256.clone(),
            settings_json: sweep.settings_json.clone(),
        },
        &new_runs,
    )?;
    let ran_on = RanOn {
        device: "cpu".into(),
        device_name: model.device_name.clone().unwrap_or_default(),
        host: model.host.clone().unwrap_or_default(),
        slurm_job: None,
    };
    let started = runs.saturating_sub(PENDING);
    for (i, (&id, (_, shift))) in created.runs.iter().zip(&planned).enumerate().take(started) {
        store.mark_running(id)?;
        store.record_ran_on(id, &ran_on)?;
        let scale = 1.0 + shift / 2.0 + 0.005 * rng.normal();
        let mut points: Vec<CurvePoint> = Vec::new();
        for (split, curve) in [&train, &val] {
            for &(step, loss) in curve {
                let loss = loss * scale * (1.0 + 0.01 * rng.normal());
                points.push(CurvePoint {
                    split: *split,
                    step,
                    loss,
                });
            }
        }
        if i + RUNNING >= started {
            let half: Vec<CurvePoint> = points.into_iter().filter(|p| p.step * 2 <= model.steps_done).collect();
            store.append_curve(id, &half)?;
            continue;
        }
        let failed = i % FAILED_EVERY == FAILED_EVERY - 1;
        let losses = [model.train_loss, model.val_loss, model.test_loss].map(|l| l.unwrap_or(2.0) * scale);
        let result = RunResult {
            status: if failed {
                RunStatus::Failed
            } else {
                RunStatus::Completed
            },
            steps_done: if failed { model.steps_done / 3 } else { model.steps_done },
            losses: (!failed).then_some(losses),
            train_seconds: model.wall_seconds.unwrap_or(1.0) * 0.9,
            eval_seconds: model.wall_seconds.unwrap_or(1.0) * 0.1,
            wall_seconds: model.wall_seconds.unwrap_or(1.0),
            steps_per_sec: model.steps_per_sec.unwrap_or(1000.0) * (1.0 + 0.05 * rng.normal()),
            samples: if failed { Vec::new() } else { samples.clone() },
            error: failed.then(|| "worker exited with signal 9 (SIGKILL)".to_string()),
        };
        let kept: Vec<CurvePoint> = points.into_iter().filter(|p| p.step <= result.steps_done).collect();
        store.finish_run(id, &result, &kept)?;
    }
    println!("{}", created.name);
    Ok(())
}

/// A small, seeded generator (SplitMix64): the same sweep every time.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit().max(1e-300), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}
