//! Shows a sweep in progress on stderr: an overall bar (runs settled of the total, ETA)
//! and one bar per active run (step, steps/s, latest losses) when stderr is a terminal;
//! otherwise plain lines (run started, each validation point, run ended) for logs.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use model::{ComputeDevice, Progress};
use results::RunId;

use crate::scheduler::{QueuedRun, SweepDisplay};

pub struct SweepProgress {
    multi: MultiProgress,
    overall: ProgressBar,
    runs: HashMap<RunId, RunBar>,
    live: bool,
}

struct RunBar {
    bar: ProgressBar,
    total: u64,
    started: Instant,
    first_step: u64,
    train: Option<f64>,
    val: Option<f64>,
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("the template is valid")
        .progress_chars("█▉▊▋▌▍▎▏ ")
}

impl SweepProgress {
    /// `settled` of `total` runs are already done (a resumed sweep).
    pub fn new(total: usize, settled: usize) -> Self {
        let live = std::io::stderr().is_terminal();
        let target = if live {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let multi = MultiProgress::with_draw_target(target);
        let overall = multi.add(ProgressBar::new(total as u64));
        overall.set_style(style("sweep {bar:25} {pos}/{len} runs  {elapsed_precise}  eta {eta}"));
        overall.set_position(settled as u64);
        if live {
            // Keeps the elapsed time and ETA moving between events.
            overall.enable_steady_tick(Duration::from_millis(500));
        }
        Self {
            multi,
            overall,
            runs: HashMap::new(),
            live,
        }
    }

    fn say(&self, line: String) {
        if self.live {
            self.multi.suspend(|| eprintln!("{line}"));
        } else {
            eprintln!("{line}");
        }
    }

    pub fn finish(&self) {
        self.overall.finish_and_clear();
    }
}

impl SweepDisplay for SweepProgress {
    fn started(&mut self, run: &QueuedRun, steps_done: u64) {
        let total = run.job.config.steps;
        let bar = self.multi.insert_before(&self.overall, ProgressBar::new(total));
        bar.set_style(style("{prefix:>8} {bar:25} {pos}/{len}  {msg}"));
        bar.set_prefix(format!("run {}", run.id));
        bar.set_position(steps_done);
        let from = if steps_done > 0 {
            format!(" from step {steps_done}")
        } else {
            String::new()
        };
        // Which GPU of the pool it got (the CPU goes without saying).
        let on = match run.job.device {
            ComputeDevice::Cpu => String::new(),
            gpu => format!(" on {gpu}"),
        };
        let label = if run.label.is_empty() {
            String::new()
        } else {
            format!(": {}", run.label)
        };
        self.say(format!("run {} started{on}{from}{label}", run.id));
        self.runs.insert(
            run.id,
            RunBar {
                bar,
                total,
                started: Instant::now(),
                first_step: steps_done,
                train: None,
                val: None,
            },
        );
    }

    fn progress(&mut self, run: RunId, progress: &Progress) {
        let Some(state) = self.runs.get_mut(&run) else { return };
        let step = match *progress {
            Progress::Train { step, loss } => {
                state.train = Some(loss);
                step
            }
            Progress::Val { step, loss } => {
                state.val = Some(loss);
                step
            }
        };
        let rate = step.saturating_sub(state.first_step) as f64 / state.started.elapsed().as_secs_f64().max(1e-9);
        let loss = |l: Option<f64>| l.map_or("-".into(), |l| format!("{l:.4}"));
        let message = format!(
            "{rate:.0} steps/s  train {}  val {}",
            loss(state.train),
            loss(state.val)
        );
        state.bar.set_position(step);
        if !self.live && matches!(progress, Progress::Val { .. }) && step > 0 {
            eprintln!("run {run} step {step}/{}  {message}", state.total);
        }
        state.bar.set_message(message);
    }

    fn ended(&mut self, run: RunId, outcome: &str, settled: bool) {
        if let Some(state) = self.runs.remove(&run) {
            state.bar.finish_and_clear();
            self.multi.remove(&state.bar);
        }
        if settled {
            self.overall.inc(1);
        }
        self.say(format!("run {run} {outcome}"));
    }

    fn notice(&mut self, message: &str) {
        self.say(message.to_string());
    }
}
