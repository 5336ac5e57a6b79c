//! End-to-end tests of the libtorch backend (`--features tch`): on the CPU it trains like
//! flex from the same weights and batches and runs a sweep (alone and mixed with flex); a
//! sweep of GPU runs trains on the GPUs where libtorch sees some, and is refused before
//! anything is stored where it sees none; a GPU that is not there is refused in `train`.
//! Built and run only with the feature: `cargo test --release --features tch --test tch`.

mod common;

use common::{Sandbox, open_store, stderr};
use results::{RunId, RunRecord, RunStatus};

/// 200 steps of a small wavenet, evaluated at the end only.
fn train(sandbox: &Sandbox, name: &str, backend: &[&str]) -> RunRecord {
    let data = sandbox.names(300);
    let db = sandbox.db();
    let mut args = vec!["train", "--data", data.to_str().unwrap(), "--db", db.to_str().unwrap()];
    args.extend_from_slice(&["--name", name, "--n-embd", "8", "--n-hidden", "32", "--steps", "200"]);
    args.extend_from_slice(&["--log-every", "200", "--eval-every", "200"]);
    args.extend_from_slice(backend);
    let out = sandbox.run(&args);
    assert!(out.status.success(), "{backend:?}: {}", stderr(&out));
    let store = open_store(&db);
    let sweep = store.find_sweep(name).unwrap().expect("the run is stored");
    store.sweep_runs(sweep.id).unwrap().remove(0)
}

#[test]
fn tch_on_the_cpu_trains_like_flex_from_the_same_weights_and_batches() {
    let sandbox = Sandbox::new();
    let flex = train(&sandbox, "flex", &["--backend", "flex"]);
    let tch = train(&sandbox, "tch", &["--backend", "tch", "--device", "cpu"]);
    assert_eq!((flex.status, tch.status), (RunStatus::Completed, RunStatus::Completed));
    assert_eq!(tch.backend, "tch");
    assert_eq!(flex.trainable_params, tch.trainable_params);
    let losses = |run: &RunRecord| [run.train_loss, run.val_loss, run.test_loss].map(Option::unwrap);
    for (f, t) in losses(&flex).into_iter().zip(losses(&tch)) {
        assert!((f - t).abs() <= 1e-4 * f, "flex {f} vs tch {t}");
    }
}

#[test]
fn a_short_sweep_on_tch_runs_end_to_end() {
    let sandbox = Sandbox::new();
    sandbox.names(300);
    let spec = sandbox.path("tch.yaml");
    let text = "name: tch\nmethod: grid\ndata: names.txt\nbackend: tch\nparameters:\n  n_embd: {value: 4}\n  n_hidden: {values: [8, 16]}\n  steps: {value: 100}\n  log_every: {value: 50}\n  eval_every: {value: 50}\nvariants:\n  - {label: libtorch}\n  - {label: flex, backend: flex}\n";
    std::fs::write(&spec, text).unwrap();
    let out = sandbox.run(&["launch", spec.to_str().unwrap(), "--workers", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let store = open_store(&sandbox.db());
    for (id, backend) in [(1, "tch"), (2, "tch"), (3, "flex"), (4, "flex")] {
        let run = store.run(RunId(id)).unwrap();
        assert_eq!(
            (run.status, run.backend.as_str(), run.device.as_deref(), run.steps_done),
            (RunStatus::Completed, backend, Some("cpu"), 100)
        );
    }
}

/// A sweep of two short tch runs on any GPU, launched with `extra` arguments.
fn launch_on_gpus(sandbox: &Sandbox, extra: &[&str]) -> std::process::Output {
    sandbox.names(100);
    let spec = sandbox.path("gpu.yaml");
    let text = "name: gpu\ndata: names.txt\nbackend: tch\ndevice: cuda\nparameters:\n  seed: {values: [1, 2]}\n  steps: {value: 200}\n  eval_every: {value: 100}\n";
    std::fs::write(&spec, text).unwrap();
    sandbox.run(&[&["launch", spec.to_str().unwrap()][..], extra].concat())
}

#[test]
fn a_sweep_of_gpu_runs_trains_on_the_gpus_libtorch_sees() {
    if model::Backend::Tch.gpu_count() == 0 {
        eprintln!("skipped: libtorch sees no GPU here (the refusal is tested instead)");
        return;
    }
    let sandbox = Sandbox::new();
    let out = launch_on_gpus(&sandbox, &["--runs-per-gpu", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let store = open_store(&sandbox.db());
    for id in [1, 2] {
        let run = store.run(RunId(id)).unwrap();
        assert_eq!((run.status, run.steps_done), (RunStatus::Completed, 200));
        let device = run.device.unwrap_or_default();
        assert!(device.starts_with("cuda:"), "run {id} ran on {device}");
        let name = run.device_name.unwrap_or_default();
        let cpu = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        assert!(
            !name.is_empty() && !cpu.contains(&name),
            "run {id}: the GPU's name, not the processor's: {name:?}"
        );
    }
}

#[test]
fn a_sweep_of_gpu_runs_without_a_gpu_is_one_error_before_anything_is_stored() {
    if model::Backend::Tch.gpu_count() > 0 {
        eprintln!("skipped: libtorch sees a GPU here (the GPU runs are tested instead)");
        return;
    }
    let sandbox = Sandbox::new();
    let out = launch_on_gpus(&sandbox, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the runs on backend `tch`, device `cuda`: no GPU to run on"),
        "{}",
        stderr(&out)
    );
    let out = launch_on_gpus(&sandbox, &["--gpus", "0,1", "--runs-per-gpu", "2"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no usable CUDA GPU 0 for backend `tch`: libtorch sees no GPU"),
        "{}",
        stderr(&out)
    );
    assert!(!sandbox.db().exists(), "nothing may be written for a refused sweep");
}

#[test]
fn a_gpu_that_is_not_there_is_one_error_before_anything_is_written() {
    let sandbox = Sandbox::new();
    let data = sandbox.names(100);
    let db = sandbox.db();
    let args = ["train", "--data", data.to_str().unwrap(), "--db", db.to_str().unwrap()];
    let out = sandbox.run(&[&args[..], &["--backend", "tch", "--device", "cuda:99"]].concat());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no usable CUDA GPU 99 for backend `tch`"),
        "{}",
        stderr(&out)
    );
    assert!(!db.exists(), "nothing may be written for a refused run");
}
