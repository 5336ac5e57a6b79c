//! Where runs compute: GPU runs share the pool up to `runs_per_gpu` beside CPU slots, a run
//! asking for one GPU waits for a slot on it, and a run no slot can take fails.

use super::*;

/// `queue(n)` with run `id` asking for `requests(id)`.
fn placed(n: i64, requests: impl Fn(i64) -> DeviceRequest) -> Vec<QueuedRun> {
    queue(n)
        .into_iter()
        .map(|run| QueuedRun {
            request: requests(run.id.0),
            ..run
        })
        .collect()
}

fn gpus(gpus: &[usize], runs_per_gpu: usize, cpu_workers: usize) -> Limits {
    Limits {
        slots: Slots::local(
            cpu_workers,
            GpuPool {
                gpus: gpus.to_vec(),
                runs_per_gpu,
            },
        ),
        ..limits(cpu_workers)
    }
}

#[test]
fn gpu_runs_share_the_pool_up_to_runs_per_gpu_while_cpu_runs_use_cpu_slots() {
    // Runs 1–3 on the CPU, 4–11 on any GPU: 2 CPU slots, GPUs 0 and 3 with 2 runs each.
    let launcher = FakeLauncher::new(|_, _| Script::Complete {
        points: 5,
        resume_at: 0,
    });
    let requests = |id| {
        if id <= 3 {
            DeviceRequest::Cpu
        } else {
            DeviceRequest::AnyGpu
        }
    };
    let (tally, store, _) = schedule(placed(11, requests), gpus(&[0, 3], 2, 2), &launcher, &[]);
    assert_eq!(tally.unwrap().completed, 11);
    let counters = launcher.counters.borrow();
    let most_on = |device| counters.most_on.get(&device).copied().unwrap_or(0);
    assert_eq!(most_on(ComputeDevice::Cpu), 2);
    assert_eq!(most_on(ComputeDevice::Cuda(0)), 2);
    assert_eq!(most_on(ComputeDevice::Cuda(3)), 2);
    assert_eq!(counters.most_running, 6, "all slots busy at once");
    for (run, device) in &counters.devices {
        let on_gpu = matches!(device, ComputeDevice::Cuda(0 | 3));
        assert_eq!(on_gpu, run.0 > 3, "run {} got {device}", run.0);
    }
    // GPU runs did not wait behind the CPU runs queued before them.
    assert_eq!(&counters.starts[..6], [1, 2, 4, 5, 6, 7].map(RunId));
    assert_eq!(store.0[&RunId(4)].device.as_deref(), Some("cuda:0 (fake cuda:0)"));
}

#[test]
fn a_run_asking_for_one_gpu_waits_for_a_slot_on_that_gpu() {
    let launcher = FakeLauncher::new(|_, _| Script::Complete {
        points: 3,
        resume_at: 0,
    });
    let (tally, _, _) = schedule(
        placed(3, |_| DeviceRequest::Gpu(1)),
        gpus(&[0, 1], 1, 1),
        &launcher,
        &[],
    );
    assert_eq!(tally.unwrap().completed, 3);
    let counters = launcher.counters.borrow();
    assert!(counters.devices.iter().all(|(_, d)| *d == ComputeDevice::Cuda(1)));
    assert_eq!(counters.most_running, 1, "GPU 0 stays idle; one run at a time on GPU 1");
}

#[test]
fn a_run_no_slot_can_take_fails_instead_of_waiting_for_ever() {
    let launcher = FakeLauncher::new(|_, _| Script::Complete {
        points: 1,
        resume_at: 0,
    });
    let requests = |id| {
        if id == 1 {
            DeviceRequest::Gpu(7)
        } else {
            DeviceRequest::Cpu
        }
    };
    let (tally, store, _) = schedule(placed(2, requests), gpus(&[0], 1, 1), &launcher, &[]);
    let tally = tally.unwrap();
    assert_eq!((tally.completed, tally.failed), (1, 1));
    assert_eq!(status(&store, 1), RunStatus::Failed);
    assert!(store.0[&RunId(1)].error.as_deref().unwrap().contains("device `cuda:7`"));
}
