//! Where each run computes: backend and device per run, by parameters, variants or the sweep,
//! and a backend this binary lacks.

use super::*;

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
