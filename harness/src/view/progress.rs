//! Shows a run's progress on stderr: a live bar (step, steps/s, ETA, latest losses) when
//! stderr is a terminal, otherwise one plain line per validation point for logs and CI.

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use model::Progress;

pub struct TrainProgress {
    bar: ProgressBar,
    live: bool,
    total: u64,
    started: Instant,
    train_loss: Option<f64>,
}

impl TrainProgress {
    pub fn new(total_steps: u64) -> Self {
        let live = std::io::stderr().is_terminal();
        let target = if live {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(total_steps), target);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {msg}  eta {eta}")
                .expect("the template is valid")
                .progress_chars("█▉▊▋▌▍▎▏ "),
        );
        Self {
            bar,
            live,
            total: total_steps,
            started: Instant::now(),
            train_loss: None,
        }
    }

    pub fn update(&mut self, progress: &Progress) {
        match *progress {
            Progress::Train { step, loss } => {
                self.train_loss = Some(loss);
                self.bar.set_position(step);
                self.bar
                    .set_message(format!("{:.0} steps/s  train {loss:.4}", self.rate(step)));
            }
            Progress::Val { step, loss } => {
                let train = self.train_loss.map_or(String::from("-"), |l| format!("{l:.4}"));
                if self.live {
                    self.bar
                        .println(format!("step {step:>7}  train {train}  val {loss:.4}"));
                } else if step == 0 {
                    eprintln!("step 0/{}  val {loss:.4}", self.total);
                } else {
                    let rate = step as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
                    eprintln!(
                        "step {step}/{}  train {train}  val {loss:.4}  {rate:.0} steps/s",
                        self.total
                    );
                }
            }
        }
    }

    /// Steps per second since this display started (evaluation time included).
    fn rate(&self, step: u64) -> f64 {
        step as f64 / self.started.elapsed().as_secs_f64().max(1e-9)
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
