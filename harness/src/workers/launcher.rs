//! Starting workers. `Launcher` is what the scheduler needs (start a job, then stop or
//! kill it, answer its evaluations); `ProcessLauncher` runs `harness worker` as a child
//! process in its own process group (so a terminal's Ctrl-C reaches only the scheduler,
//! which forwards one SIGTERM), set to get SIGTERM if the scheduler dies, and relays its
//! JSON-line events; its stdin stays open for verdicts.
//! `spawn` does that for any command that ends in `harness worker` (`slurm` wraps it in
//! `srun`).

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use results::RunId;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use model::Verdict;

use crate::workers::protocol::{Event, Job};

/// Lines of a worker's stderr kept for the run's error message.
const STDERR_TAIL_LINES: usize = 20;

/// What a worker tells the scheduler; `Exited` comes last, after every event.
#[derive(Debug)]
pub enum WorkerMessage {
    Event(Event),
    /// A stdout line that is not an event (kept for the log).
    Garbled(String),
    Exited(Exit),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// How it ended, as a sentence's end: "exited with status 1", "was killed by signal 9".
    pub description: String,
    /// It exited with status 0.
    pub succeeded: bool,
    /// The last lines it wrote on stderr.
    pub stderr_tail: String,
}

pub type MessageSender = mpsc::UnboundedSender<(RunId, WorkerMessage)>;

pub trait Launcher {
    /// Starts a worker on `job`; its messages arrive on `messages`, tagged with the run.
    fn start(&self, job: &Job, messages: MessageSender) -> io::Result<Box<dyn WorkerControl>>;

    /// Puts the checkpoint at `from` in `to`'s place, whole or not at all (population-based
    /// training's exploit). Workers read checkpoints where the scheduler's machine writes
    /// them: here, or on a cluster's shared file system.
    fn copy_checkpoint(&self, from: &Path, to: &Path) -> io::Result<()> {
        copy_whole(from, to)
    }
}

/// Copies `from` beside `to`, flushes it to disk, renames it over `to` and flushes the
/// folder: a crash leaves the old file or the new one, never half of it.
fn copy_whole(from: &Path, to: &Path) -> io::Result<()> {
    let mut partial = to.as_os_str().to_owned();
    partial.push(".copying");
    let partial = PathBuf::from(partial);
    std::fs::copy(from, &partial)?;
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, to)?;
    if let Some(folder) = to.parent().filter(|folder| !folder.as_os_str().is_empty()) {
        std::fs::File::open(folder)?.sync_all()?;
    }
    Ok(())
}

pub trait WorkerControl {
    /// Ask the worker to checkpoint and stop at its next log point.
    fn stop(&mut self);
    /// End it at once.
    fn kill(&mut self);
    /// Answer the evaluation it waits at (`Event::AwaitingVerdict`).
    fn send_verdict(&mut self, verdict: Verdict);
}

/// Runs each job in `exe worker` (the harness binary itself).
pub struct ProcessLauncher {
    pub exe: PathBuf,
}

impl Launcher for ProcessLauncher {
    fn start(&self, job: &Job, messages: MessageSender) -> io::Result<Box<dyn WorkerControl>> {
        let mut command = tokio::process::Command::new(&self.exe);
        command.arg("worker");
        let spawned = spawn(command, job, messages)?;
        Ok(Box::new(spawned.process))
    }
}

/// A started worker: its process, and the Slurm job it reported (once it has started).
pub struct Spawned {
    pub process: ProcessControl,
    pub slurm_job: Arc<OnceLock<String>>,
}

/// Starts `command` (which runs `harness worker`, perhaps through another program) with the
/// job on its stdin, relays its events to `messages` until it exits, and writes the
/// verdicts sent to its control on its stdin (closed when the control is dropped).
pub fn spawn(mut command: tokio::process::Command, job: &Job, messages: MessageSender) -> io::Result<Spawned> {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    let mut child = command.spawn()?;
    let pid = child
        .id()
        .ok_or_else(|| io::Error::other("the worker exited at once"))?;
    let (Some(mut stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(io::Error::other("the worker's pipes are missing"));
    };
    let (stdin_lines, mut to_stdin) = mpsc::unbounded_channel::<Vec<u8>>();
    stdin_lines
        .send(json_line(job)?)
        .map_err(|_| io::Error::other("the worker's stdin is closed"))?;
    let run = RunId(job.run_id);
    let exited = Arc::new(AtomicBool::new(false));
    let exited_flag = Arc::clone(&exited);
    let slurm_job = Arc::new(OnceLock::new());
    let reported_job = Arc::clone(&slurm_job);
    tokio::spawn(async move {
        // A worker that dies before reading shows up in its exit status.
        while let Some(line) = to_stdin.recv().await {
            if stdin.write_all(&line).await.is_err() || stdin.flush().await.is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move {
        let tail = tokio::spawn(stderr_tail(stderr));
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let message = match serde_json::from_str::<Event>(&line) {
                Ok(event) => {
                    if let Event::Started {
                        slurm_job: Some(id), ..
                    } = &event
                    {
                        let _ = reported_job.set(id.clone());
                    }
                    WorkerMessage::Event(event)
                }
                Err(_) => WorkerMessage::Garbled(line),
            };
            let _ = messages.send((run, message));
        }
        let (description, succeeded) = match child.wait().await {
            Ok(status) => (describe(status), status.success()),
            Err(err) => (format!("could not be waited for: {err}"), false),
        };
        exited_flag.store(true, Ordering::SeqCst);
        let stderr_tail = tail.await.unwrap_or_default();
        let _ = messages.send((
            run,
            WorkerMessage::Exited(Exit {
                description,
                succeeded,
                stderr_tail,
            }),
        ));
    });
    Ok(Spawned {
        process: ProcessControl {
            pid,
            exited,
            stdin: stdin_lines,
        },
        slurm_job,
    })
}

fn json_line(value: &impl serde::Serialize) -> io::Result<Vec<u8>> {
    let mut line = serde_json::to_vec(value).map_err(io::Error::other)?;
    line.push(b'\n');
    Ok(line)
}

async fn stderr_tail(stderr: impl AsyncRead + Unpin) -> String {
    let mut lines = BufReader::new(stderr).lines();
    let mut tail = std::collections::VecDeque::with_capacity(STDERR_TAIL_LINES);
    while let Ok(Some(line)) = lines.next_line().await {
        if tail.len() == STDERR_TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(line);
    }
    Vec::from(tail).join("\n")
}

fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(signal)) => format!("was killed by signal {signal}"),
        (None, None) => "ended".into(),
    }
}

pub struct ProcessControl {
    pid: u32,
    /// Set once the child is reaped: its pid may then belong to another process.
    exited: Arc<AtomicBool>,
    /// Lines for its stdin.
    stdin: mpsc::UnboundedSender<Vec<u8>>,
}

impl ProcessControl {
    fn signal(&self, signal: libc::c_int) {
        if !self.exited.load(Ordering::SeqCst) {
            // SAFETY: kill(2) on our own child's pid; no memory is touched.
            unsafe { libc::kill(self.pid as libc::pid_t, signal) };
        }
    }
}

impl WorkerControl for ProcessControl {
    fn stop(&mut self) {
        self.signal(libc::SIGTERM);
    }

    fn kill(&mut self) {
        self.signal(libc::SIGKILL);
    }

    fn send_verdict(&mut self, verdict: Verdict) {
        // A worker that is gone needs no answer; its exit tells the rest.
        if let Ok(line) = json_line(&verdict) {
            let _ = self.stdin.send(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_is_copied_whole_over_the_one_in_its_place() {
        let dir = std::env::temp_dir().join(format!("harness-copy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (from, to) = (dir.join("run-1.ckpt"), dir.join("run-2.ckpt"));
        let bytes: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&from, &bytes).unwrap();
        std::fs::write(&to, b"the member's own, shorter").unwrap();
        copy_whole(&from, &to).unwrap();
        assert_eq!(std::fs::read(&to).unwrap(), bytes);
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 2, "nothing half-copied left beside them: {left:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
