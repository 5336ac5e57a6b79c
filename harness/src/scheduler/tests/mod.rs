//! The scheduler against fake workers (scripted tasks, no training), a store in memory
//! and a display that records what it was told.

mod early;
mod fakes;
mod proposals;

use std::path::PathBuf;
use std::time::Duration;

use fakes::{FakeLauncher, FakeStore, Script, Transcript};
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

#[test]
fn a_failed_worker_is_retried_from_its_checkpoint_and_the_sweep_goes_on() {
    // Run 1 crashes after 3 points, then resumes from a checkpoint at point 2.
    let launcher = FakeLauncher::new(|run, attempt| match (run.0, attempt) {
        (1, 0) => Script::Crash { points: 3 },
        (1, _) => Script::Complete {
            points: 5,
            resume_at: 2,
        },
        _ => Script::Complete {
            points: 2,
            resume_at: 0,
        },
    });
    let (tally, store, transcript) = schedule(queue(3), limits(1), &launcher, &[]);
    assert_eq!(
        tally.unwrap(),
        Tally {
            completed: 3,
            retried: 1,
            ..Tally::default()
        }
    );
    let run = &store.0[&RunId(1)];
    assert_eq!(run.attempts, 2);
    // The crashed attempt's point 300 is replaced by the checkpoint's curve: no duplicates.
    let steps: Vec<u64> = run.curve.iter().map(|p| p.step).collect();
    assert_eq!(steps, [100, 200, 300, 400, 500]);
    assert!(
        run.error
            .as_deref()
            .unwrap()
            .contains("exited with status 1; its last output:\nerror: boom")
    );
    // The retry goes to the back of the queue.
    assert_eq!(
        launcher.counters.borrow().starts,
        [RunId(1), RunId(2), RunId(3), RunId(1)]
    );
    assert!(
        transcript
            .0
            .iter()
            .any(|l| l.contains("retrying from its last checkpoint"))
    );
}

#[test]
fn a_worker_stopped_by_a_signal_nobody_here_sent_is_retried_from_its_checkpoint() {
    for stopped in [
        Script::StoppedFromOutside { points: 2 },
        Script::ResultLost { points: 2 },
    ] {
        stopped_from_outside_then_completed(stopped);
    }
}

/// Run 1's first attempt ends as `stopped` says (at a Slurm time limit, or cancelled with
/// its last lines lost); the second completes.
fn stopped_from_outside_then_completed(stopped: Script) {
    let launcher = FakeLauncher::new(move |run, attempt| match (run.0, attempt) {
        (1, 0) => stopped,
        (1, _) => Script::Complete {
            points: 4,
            resume_at: 2,
        },
        _ => Script::Complete {
            points: 4,
            resume_at: 0,
        },
    });
    let (tally, store, transcript) = schedule(queue(2), limits(1), &launcher, &[]);
    assert_eq!(
        tally.unwrap(),
        Tally {
            completed: 2,
            retried: 1,
            ..Tally::default()
        }
    );
    let run = &store.0[&RunId(1)];
    assert_eq!((run.status, run.attempts), (Some(RunStatus::Completed), 2));
    assert!(
        transcript
            .0
            .iter()
            .any(|l| l.contains("a signal this scheduler did not send")),
        "{:?}",
        transcript.0
    );
}

#[test]
fn a_run_failing_more_than_max_retries_stays_failed() {
    let launcher = FakeLauncher::new(|run, _| match run.0 {
        1 => Script::Crash { points: 1 },
        _ => Script::Complete {
            points: 1,
            resume_at: 0,
        },
    });
    let (tally, store, _) = schedule(queue(2), limits(2), &launcher, &[]);
    assert_eq!(
        tally.unwrap(),
        Tally {
            completed: 1,
            failed: 1,
            retried: 1,
            ..Tally::default()
        }
    );
    assert_eq!((status(&store, 1), store.0[&RunId(1)].attempts), (RunStatus::Failed, 2));
}

#[test]
fn a_diverged_run_is_recorded_and_not_retried() {
    let launcher = FakeLauncher::new(|_, _| Script::Diverge);
    let (tally, store, _) = schedule(queue(1), limits(1), &launcher, &[]);
    assert_eq!(
        tally.unwrap(),
        Tally {
            diverged: 1,
            ..Tally::default()
        }
    );
    assert_eq!(
        (status(&store, 1), store.0[&RunId(1)].attempts),
        (RunStatus::Diverged, 1)
    );
}

#[test]
fn a_run_past_its_timeout_is_killed_and_failed_without_retry() {
    let launcher = FakeLauncher::new(|run, _| match run.0 {
        1 => Script::Endless,
        _ => Script::Complete {
            points: 2,
            resume_at: 0,
        },
    });
    let limits = Limits {
        timeout: Some(Duration::from_millis(60)),
        ..limits(2)
    };
    let (tally, store, _) = schedule(queue(2), limits, &launcher, &[]);
    assert_eq!(
        tally.unwrap(),
        Tally {
            completed: 1,
            failed: 1,
            ..Tally::default()
        }
    );
    assert_eq!(status(&store, 1), RunStatus::Failed);
    assert!(store.0[&RunId(1)].error.as_deref().unwrap().contains("timeout"));
}

#[test]
fn the_first_interrupt_stops_workers_gracefully_and_launches_nothing_more() {
    let launcher = FakeLauncher::new(|_, _| Script::Endless);
    let (tally, store, transcript) = schedule(queue(4), limits(2), &launcher, &[30]);
    assert_eq!(
        tally.unwrap(),
        Tally {
            interrupted: 2,
            not_started: 2,
            ..Tally::default()
        }
    );
    assert_eq!(launcher.counters.borrow().starts, [RunId(1), RunId(2)]);
    assert_eq!(
        (status(&store, 1), status(&store, 2)),
        (RunStatus::Interrupted, RunStatus::Interrupted)
    );
    assert!(!store.0.contains_key(&RunId(3)), "run 3 never started");
    // Stopped gracefully: each worker reported its steps.
    assert!(store.0[&RunId(1)].result.as_ref().unwrap().steps_done > 0);
    assert!(transcript.0.iter().any(|l| l.starts_with("stopping")));
}

/// A worker that ignores SIGTERM, as one stuck in a long evaluation would.
struct Stubborn(FakeLauncher);

impl Launcher for Stubborn {
    fn start(&self, job: &Job, messages: MessageSender) -> std::io::Result<Box<dyn WorkerControl>> {
        struct IgnoresStop(Box<dyn WorkerControl>);
        impl WorkerControl for IgnoresStop {
            fn stop(&mut self) {}
            fn kill(&mut self) {
                self.0.kill();
            }
            fn send_verdict(&mut self, verdict: model::Verdict) {
                self.0.send_verdict(verdict);
            }
        }
        Ok(Box::new(IgnoresStop(self.0.start(job, messages)?)))
    }
}

#[test]
fn a_second_interrupt_kills_the_workers_and_marks_their_runs_interrupted() {
    let launcher = Stubborn(FakeLauncher::new(|_, _| Script::Endless));
    let (tally, store, transcript) = schedule(queue(2), limits(2), &launcher, &[20, 40]);
    assert_eq!(
        tally.unwrap(),
        Tally {
            interrupted: 2,
            ..Tally::default()
        }
    );
    assert_eq!(status(&store, 1), RunStatus::Interrupted);
    assert!(store.0[&RunId(1)].result.is_none(), "killed: no result");
    assert!(!store.0[&RunId(1)].curve.is_empty(), "the points received are kept");
    assert!(transcript.0.iter().any(|l| l == "killing the workers"));
}

#[test]
fn runs_that_finish_after_an_interrupt_leave_the_rest_of_the_queue_not_started() {
    // Both workers are in their final evaluation when Ctrl-C comes: they finish anyway.
    let launcher = Stubborn(FakeLauncher::new(|_, _| Script::Complete {
        points: 5,
        resume_at: 0,
    }));
    let (tally, store, _) = schedule(queue(5), limits(2), &launcher, &[5]);
    assert_eq!(
        tally.unwrap(),
        Tally {
            completed: 2,
            not_started: 3,
            ..Tally::default()
        }
    );
    assert_eq!(launcher.0.counters.borrow().starts, [RunId(1), RunId(2)]);
    assert!(!store.0.contains_key(&RunId(3)));
}

/// `limits(workers)` whose metric stops the search at val_loss ≤ `target`.
fn with_target(workers: usize, target: f64) -> Limits {
    Limits {
        metric: Metric {
            target: Some(target),
            ..Metric::default()
        },
        ..limits(workers)
    }
}

#[test]
fn a_run_reaching_the_target_starts_no_new_run_and_lets_running_ones_finish() {
    // Run 1 finishes first (the fakes end at val 2.0); run 2 is still training then.
    let launcher = FakeLauncher::new(|run, _| Script::Complete {
        points: if run.0 == 1 { 1 } else { 5 },
        resume_at: 0,
    });
    let (tally, store, transcript) = schedule(queue(5), with_target(2, 2.0), &launcher, &[]);
    assert_eq!(
        tally.unwrap(),
        Tally {
            completed: 2,
            after_target: 3,
            ..Tally::default()
        }
    );
    assert_eq!(launcher.counters.borrow().starts, [RunId(1), RunId(2)]);
    assert_eq!(status(&store, 2), RunStatus::Completed);
    assert!(
        transcript
            .0
            .iter()
            .any(|l| l.contains("reached the target val_loss ≤ 2"))
    );
}

#[test]
fn a_target_no_run_reaches_lets_every_run_train() {
    let launcher = FakeLauncher::new(|_, _| Script::Complete {
        points: 2,
        resume_at: 0,
    });
    let (tally, _, _) = schedule(queue(4), with_target(2, 1.99), &launcher, &[]);
    assert_eq!(
        tally.unwrap(),
        Tally {
            completed: 4,
            ..Tally::default()
        }
    );
}

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
