//! Fakes for the scheduler's tests: workers that follow a script (no training) and answer
//! stop and kill, and a display that keeps what it was told (the store: `fake_store`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use model::{ComputeDevice, Ending, Outcome, Progress, Verdict};
use results::RunId;
use tokio::sync::mpsc;

use super::super::*;
use crate::workers::launcher::MessageSender;

/// What a fake worker does with its job.
#[derive(Clone, Copy, Debug)]
pub enum Script {
    /// Trains `points` log points of 100 steps each (resuming after `resume_at` of them).
    Complete {
        points: u64,
        resume_at: u64,
    },
    /// Writes `points` points, then exits with status 1.
    Crash {
        points: u64,
    },
    Diverge,
    /// Writes points until stopped or killed.
    Endless,
    /// Writes `points` points, then stops as on a SIGTERM nobody here sent (Slurm's time
    /// limit): an `interrupted` outcome, exit status 0.
    StoppedFromOutside {
        points: u64,
    },
    /// Writes `points` points and exits with status 0, its result lost on the way (srun cut
    /// off by scancel).
    ResultLost {
        points: u64,
    },
    /// A judged run: at point i (step 100·i) a training and a validation point (`val[i-1]`),
    /// then, before its last, it waits for a verdict; resumed at `resume_at` points, it first
    /// waits for the verdict on that evaluation.
    Judged {
        val: &'static [f64],
        resume_at: u64,
        /// How long each 100 steps take, in ms.
        step_ms: u64,
        /// The worker dies (as if killed) right after reporting this point.
        dies_after: Option<u64>,
    },
}

#[derive(Debug)]
enum Signal {
    Stop,
    Kill,
    Verdict(Verdict),
}

struct FakeControl(mpsc::UnboundedSender<Signal>);

impl WorkerControl for FakeControl {
    fn stop(&mut self) {
        let _ = self.0.send(Signal::Stop);
    }
    fn kill(&mut self) {
        let _ = self.0.send(Signal::Kill);
    }
    fn send_verdict(&mut self, verdict: Verdict) {
        let _ = self.0.send(Signal::Verdict(verdict));
    }
}

#[derive(Default)]
pub struct Counters {
    running: HashMap<ComputeDevice, usize>,
    pub most_running: usize,
    /// The most workers at once on each device.
    pub most_on: HashMap<ComputeDevice, usize>,
    pub starts: Vec<RunId>,
    /// The device each start was given.
    pub devices: Vec<(RunId, ComputeDevice)>,
    /// Checkpoints copied (from, to), and how many starts had been made before each.
    pub copies: Vec<(PathBuf, PathBuf, usize)>,
}

pub struct FakeLauncher {
    script: Box<dyn Fn(RunId, usize) -> Script>,
    pub counters: Rc<RefCell<Counters>>,
    /// Points each judged run has reached: where its next attempt resumes.
    reached: Rc<RefCell<HashMap<RunId, u64>>>,
}

impl FakeLauncher {
    pub fn new(script: impl Fn(RunId, usize) -> Script + 'static) -> Self {
        Self {
            script: Box::new(script),
            counters: Rc::default(),
            reached: Rc::default(),
        }
    }
}

fn outcome(ending: Ending, steps_done: u64) -> Outcome {
    Outcome {
        ending,
        steps_done,
        losses: matches!(ending, Ending::Completed | Ending::Stopped).then_some(model::train::FinalLosses {
            train: 1.9,
            val: 2.0,
            test: 2.1,
        }),
        samples: vec!["ada".into()],
        train_seconds: 1.0,
        eval_seconds: 0.5,
    }
}

impl Launcher for FakeLauncher {
    fn copy_checkpoint(&self, from: &Path, to: &Path) -> std::io::Result<()> {
        let mut counters = self.counters.borrow_mut();
        let started = counters.starts.len();
        counters.copies.push((from.to_path_buf(), to.to_path_buf(), started));
        Ok(())
    }

    fn start(&self, job: &Job, messages: MessageSender) -> std::io::Result<Box<dyn WorkerControl>> {
        let run = RunId(job.run_id);
        let mut counters = self.counters.borrow_mut();
        let attempt = counters.starts.iter().filter(|r| **r == run).count();
        counters.starts.push(run);
        counters.devices.push((run, job.device));
        *counters.running.entry(job.device).or_default() += 1;
        let (on_device, in_all) = (counters.running[&job.device], counters.running.values().sum());
        let most_on = counters.most_on.entry(job.device).or_default();
        *most_on = (*most_on).max(on_device);
        counters.most_running = counters.most_running.max(in_all);
        let device = job.device;
        let script = (self.script)(run, attempt);
        let (control, mut signals) = mpsc::unbounded_channel();
        let counters = Rc::clone(&self.counters);
        if let Script::Judged {
            val,
            resume_at,
            step_ms,
            dies_after,
        } = script
        {
            let reached = Rc::clone(&self.reached);
            let resume_at = resume_at.max(reached.borrow().get(&run).copied().unwrap_or(0));
            let worker = JudgedWorker {
                run,
                device,
                val,
                step_ms,
                dies_after,
                messages,
                counters,
                reached,
            };
            tokio::task::spawn_local(worker.run(resume_at, signals));
            return Ok(Box::new(FakeControl(control)));
        }
        tokio::task::spawn_local(async move {
            let send = |event| messages.send((run, WorkerMessage::Event(event))).unwrap();
            let point = |i: u64| Progress::Train {
                step: i * 100,
                loss: 3.0 / i as f64,
            };
            let resume_at = match script {
                Script::Complete { resume_at, .. } => resume_at,
                _ => 0,
            };
            send(started(device, resume_at, (1..=resume_at).map(point).collect()));
            let limit = match script {
                Script::Complete { points, .. } => points,
                Script::Crash { points } | Script::StoppedFromOutside { points } | Script::ResultLost { points } => {
                    points
                }
                Script::Diverge | Script::Judged { .. } => 1,
                Script::Endless => u64::MAX,
            };
            let mut exit = None;
            let mut i = resume_at;
            while i < limit {
                tokio::select! {
                    signal = signals.recv() => {
                        exit = Some(signal);
                        break;
                    }
                    () = tokio::time::sleep(Duration::from_millis(2)) => {
                        i += 1;
                        send(Event::Point { progress: point(i) });
                    }
                }
            }
            let status = match (script, exit) {
                (_, Some(Some(Signal::Kill))) => Some("was killed by signal 9"),
                (_, Some(_)) => {
                    send(Event::Finished {
                        outcome: outcome(Ending::Interrupted, i * 100),
                    });
                    None
                }
                (Script::Crash { .. }, None) => Some("exited with status 1"),
                (Script::ResultLost { .. }, None) => None,
                (Script::StoppedFromOutside { .. }, None) => {
                    send(Event::Finished {
                        outcome: outcome(Ending::Interrupted, i * 100),
                    });
                    None
                }
                (Script::Diverge, None) => {
                    send(Event::Finished {
                        outcome: outcome(Ending::Diverged, 100),
                    });
                    None
                }
                _ => {
                    send(Event::Finished {
                        outcome: outcome(Ending::Completed, i * 100),
                    });
                    None
                }
            };
            *counters.borrow_mut().running.entry(device).or_default() -= 1;
            let exit = Exit {
                description: status.unwrap_or("exited with status 0").into(),
                succeeded: status.is_none(),
                stderr_tail: if status.is_some() {
                    "error: boom".into()
                } else {
                    String::new()
                },
            };
            let _ = messages.send((run, WorkerMessage::Exited(exit)));
        });
        Ok(Box::new(FakeControl(control)))
    }
}

/// A judged worker (`Script::Judged`): follows its validation curve, waiting for a verdict
/// at each evaluation before the last; a stop signal interrupts it at the next point.
struct JudgedWorker {
    run: RunId,
    device: ComputeDevice,
    val: &'static [f64],
    step_ms: u64,
    dies_after: Option<u64>,
    messages: MessageSender,
    counters: Rc<RefCell<Counters>>,
    reached: Rc<RefCell<HashMap<RunId, u64>>>,
}

impl JudgedWorker {
    fn send(&self, event: Event) {
        self.messages.send((self.run, WorkerMessage::Event(event))).unwrap();
    }

    /// Point i (step 100·i): a training and a validation point at `val[i-1]`.
    fn points(&self, i: u64) -> [Progress; 2] {
        let (step, loss) = (i * 100, self.val[i as usize - 1]);
        [Progress::Train { step, loss }, Progress::Val { step, loss }]
    }

    async fn run(self, resume_at: u64, mut signals: mpsc::UnboundedReceiver<Signal>) {
        let history = (1..=resume_at).flat_map(|i| self.points(i)).collect();
        self.send(started(self.device, resume_at, history));
        let last = self.val.len() as u64;
        let mut i = resume_at;
        let ending = loop {
            if i > 0 && i < last {
                self.send(Event::AwaitingVerdict { step: i * 100 });
                let verdict = loop {
                    match signals.recv().await {
                        Some(Signal::Verdict(verdict)) => break verdict,
                        Some(Signal::Stop) => continue,
                        Some(Signal::Kill) | None => {
                            let _ = self.messages.send((self.run, WorkerMessage::Exited(killed())));
                            return;
                        }
                    }
                };
                match verdict {
                    Verdict::Continue => {}
                    Verdict::Stop => break Ending::Stopped,
                    Verdict::Interrupt => break Ending::Interrupted,
                }
            }
            if i == last {
                break Ending::Completed;
            }
            tokio::time::sleep(Duration::from_millis(self.step_ms)).await;
            i += 1;
            self.reached.borrow_mut().insert(self.run, i);
            for progress in self.points(i) {
                self.send(Event::Point { progress });
            }
            if self.dies_after == Some(i) {
                let _ = self.messages.send((self.run, WorkerMessage::Exited(killed())));
                return;
            }
            match signals.try_recv() {
                Ok(Signal::Stop) => break Ending::Interrupted,
                // Killed while training (a timeout): it dies there.
                Ok(Signal::Kill) => {
                    let _ = self.messages.send((self.run, WorkerMessage::Exited(killed())));
                    return;
                }
                _ => {}
            }
        };
        self.send(Event::Finished {
            outcome: outcome(ending, i * 100),
        });
        *self.counters.borrow_mut().running.entry(self.device).or_default() -= 1;
        let exit = Exit {
            description: "exited with status 0".into(),
            succeeded: true,
            stderr_tail: String::new(),
        };
        let _ = self.messages.send((self.run, WorkerMessage::Exited(exit)));
    }
}

/// A fake worker starts (or resumes after `resume_at` points of 100 steps) with `history`.
fn started(device: ComputeDevice, resume_at: u64, history: Vec<Progress>) -> Event {
    Event::Started {
        device,
        device_name: format!("fake {device}"),
        host: "fake-host".into(),
        slurm_job: None,
        steps_done: resume_at * 100,
        trainable_params: 10,
        history,
    }
}

fn killed() -> Exit {
    Exit {
        description: "was killed by signal 9".into(),
        succeeded: false,
        stderr_tail: String::new(),
    }
}

#[derive(Default)]
pub struct Transcript(pub Vec<String>);

impl SweepDisplay for Transcript {
    fn started(&mut self, run: &QueuedRun, steps_done: u64) {
        self.0.push(format!("{} started at {steps_done}", run.id));
    }
    fn progress(&mut self, _: RunId, _: &Progress) {}
    fn ended(&mut self, run: RunId, outcome: &str, _: bool) {
        self.0.push(format!("{run} {outcome}"));
    }
    fn notice(&mut self, message: &str) {
        self.0.push(message.into());
    }
}
