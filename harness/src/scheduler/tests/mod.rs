//! The scheduler against fake workers (scripted tasks, no training), a store in memory
//! and a display that records what it was told (`fakes`): queue order here, then by topic —
//! failures, how a session ends, placement on GPUs, early termination, proposals, and
//! population-based training.

mod early;
mod ending;
mod failures;
mod fake_store;
mod fakes;
mod placement;
mod population;
mod proposals;

use std::path::PathBuf;
use std::time::Duration;

use fake_store::FakeStore;
use fakes::{FakeLauncher, Script, Transcript};
use model::{Backend, ComputeDevice, TrainConfig, TrainOptions};
use results::{RunId, RunStatus};
use tokio::sync::mpsc;

use super::*;
use crate::workers::launcher::MessageSender;
use crate::workers::placement::GpuPool;

fn queue(n: i64) -> Vec<QueuedRun> {
    (1..=n)
        .map(|id| QueuedRun {
            id: RunId(id),
            label: format!("run {id}"),
            request: DeviceRequest::Cpu,
            failures: 0,
            job: Job {
                run_id: id,
                config: TrainConfig::try_from(TrainOptions::default()).unwrap(),
                backend: Backend::Flex,
                device: ComputeDevice::Cpu,
                threads: 1,
                data_path: PathBuf::from("names.txt"),
                data_sha256: String::new(),
                checkpoint: PathBuf::from(format!("run-{id}.ckpt")),
                checkpoint_every: 100,
                judged: false,
                settings_change: false,
            },
        })
        .collect()
}

fn limits(workers: usize) -> Limits {
    Limits {
        slots: Slots::local(
            workers,
            GpuPool {
                gpus: vec![],
                runs_per_gpu: 1,
            },
        ),
        max_retries: 1,
        timeout: None,
        metric: Metric::default(),
        judge: None,
    }
}

/// Runs the scheduler; `interrupt_after` sends interrupts after those delays.
fn schedule(
    runs: Vec<QueuedRun>,
    limits: Limits,
    launcher: &impl Launcher,
    interrupt_after: &[u64],
) -> (anyhow::Result<Tally>, FakeStore, Transcript) {
    let work = Work {
        queue: runs,
        paused: Vec::new(),
        proposer: None,
    };
    schedule_on(FakeStore::default(), work, limits, launcher, interrupt_after)
}

/// `schedule` on a store that already holds what earlier sessions wrote, with `work` (runs
/// they left paused, a proposer).
fn schedule_on(
    mut store: FakeStore,
    work: Work<'_>,
    limits: Limits,
    launcher: &impl Launcher,
    interrupt_after: &[u64],
) -> (anyhow::Result<Tally>, FakeStore, Transcript) {
    // Paused: time advances only when every task waits, straight to the next timer.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    let mut display = Transcript::default();
    let (interrupts, receiver) = mpsc::unbounded_channel();
    let tally = tokio::task::LocalSet::new().block_on(&runtime, async {
        for &ms in interrupt_after {
            let interrupts = interrupts.clone();
            tokio::task::spawn_local(async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                let _ = interrupts.send(());
            });
        }
        drop(interrupts);
        Scheduler::run(work, limits, launcher, &mut store, &mut display, receiver).await
    });
    (tally, store, display)
}

fn status(store: &FakeStore, id: i64) -> RunStatus {
    store.0[&RunId(id)].status.unwrap()
}

#[test]
fn every_run_completes_in_queue_order_with_at_most_n_workers() {
    let launcher = FakeLauncher::new(|_, _| Script::Complete {
        points: 5,
        resume_at: 0,
    });
    let (tally, store, _) = schedule(queue(6), limits(2), &launcher, &[]);
    assert_eq!(
        tally.unwrap(),
        Tally {
            completed: 6,
            ..Tally::default()
        }
    );
    let counters = launcher.counters.borrow();
    assert_eq!(counters.most_running, 2);
    assert_eq!(counters.starts, (1..=6).map(RunId).collect::<Vec<_>>());
    for id in 1..=6 {
        let run = &store.0[&RunId(id)];
        assert_eq!((run.status, run.attempts), (Some(RunStatus::Completed), 1));
        let steps: Vec<u64> = run.curve.iter().map(|p| p.step).collect();
        assert_eq!(steps, [100, 200, 300, 400, 500]);
        assert_eq!(run.result.as_ref().unwrap().losses, Some([1.9, 2.0, 2.1]));
        assert_eq!(
            run.device.as_deref(),
            Some("cpu (fake cpu)"),
            "as the worker reported it"
        );
    }
}
