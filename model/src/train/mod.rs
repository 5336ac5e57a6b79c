//! The training loop: minibatches of windows or of items (as the model reads them), drawn
//! uniformly, stepped with the run's optimizer and learning-rate schedule — by the model's
//! hand-derived backward pass (the fast path), or by Burn's autodiff —, a windowed training loss and
//! periodic whole-split validation reported to an `Observer`, ending in final train/val/test
//! losses and samples.
//! With `checkpoint_to`, it saves its whole state as it goes; `resume` continues from such a
//! file exactly as if the run had never stopped. It knows nothing of where progress goes.

pub mod checkpoint;
pub mod evaluate;
mod report;
pub mod sample;
mod stepper;
#[cfg(test)]
mod tests;

use report::Window;
pub use report::{Ending, FinalLosses, Observer, Outcome, Progress, Verdict};

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};

use crate::config::TrainConfig;
use crate::dataset::{Dataset, Splits, Vocabulary};
use crate::models::Network;
use crate::optim;
use crate::rng::Rng;
use checkpoint::{CheckpointError, RunState};
use evaluate::split_loss;
use sample::sample;
use stepper::Stepper;

/// Items sampled from the model at the end of a completed run.
pub const FINAL_SAMPLES: usize = 20;

/// Where and how often to save the run's state.
struct CheckpointPlan {
    path: PathBuf,
    every: u64,
    /// Step of the last checkpoint written (or resumed from).
    last: u64,
}

/// One run's training state.
pub struct Trainer {
    config: TrainConfig,
    vocab: Vocabulary,
    splits: Splits,
    /// Where data and evaluation live (the model too on the fast path).
    device: Device,
    stepper: Stepper,
    model: Network,
    rng: Rng,
    /// Steps done.
    step: u64,
    /// Every curve point reported so far.
    history: Vec<Progress>,
    train_seconds: f64,
    eval_seconds: f64,
    checkpoints: Option<CheckpointPlan>,
}

impl Trainer {
    /// Splits the data and initialises the model from `config.seed`, on `device` (see
    /// `Backend::device`).
    pub fn new(config: TrainConfig, dataset: &Dataset, device: Device) -> Self {
        let mut rng = Rng::seed_from(config.seed);
        let stepper = Stepper::for_config(&config, &device);
        let model = Network::new(
            config.model,
            &config.net,
            dataset.vocab().size(),
            &mut rng,
            stepper.model_device(&device),
        )
        .expect("a configuration's model settings were checked when it was made");
        let model = optim::number_parameters(model);
        Self {
            splits: dataset.split(config.split_seed, config.model.reading(), config.context()),
            vocab: dataset.vocab().clone(),
            config,
            device,
            stepper,
            model,
            rng,
            step: 0,
            history: Vec::new(),
            train_seconds: 0.0,
            eval_seconds: 0.0,
            checkpoints: None,
        }
    }

    /// The run saved in the checkpoint at `path`, ready to continue on `device`.
    pub fn resume(path: &Path, dataset: &Dataset, device: Device) -> Result<Self, CheckpointError> {
        Self::resume_with(path, dataset, device, None)
    }

    /// The run saved at `path`, to continue with `config` instead of the configuration it
    /// was saved with: weights, optimizer state, step, RNG and curve as saved, and from the
    /// next step the new values of the settings that may change part-way (`Setting::mid_run`:
    /// learning rate, weight decay, dropout…). Refused if any other setting differs.
    pub fn resume_as(
        path: &Path,
        dataset: &Dataset,
        device: Device,
        config: TrainConfig,
    ) -> Result<Self, CheckpointError> {
        Self::resume_with(path, dataset, device, Some(config))
    }

    fn resume_with(
        path: &Path,
        dataset: &Dataset,
        device: Device,
        config: Option<TrainConfig>,
    ) -> Result<Self, CheckpointError> {
        let (state, mut tensors) = checkpoint::load(path)?;
        if state.vocab != dataset.vocab().chars() {
            return Err(CheckpointError::OtherDataset {
                path: path.to_path_buf(),
            });
        }
        let config = match config {
            Some(config) => {
                state
                    .config
                    .check_change_to(&config)
                    .map_err(|source| CheckpointError::OtherConfiguration {
                        path: path.to_path_buf(),
                        source,
                    })?;
                config
            }
            None => state.config,
        };
        let mut trainer = Self::new(config, dataset, device);
        let optimizer_state = tensors.optimizer.take();
        trainer.model = checkpoint::restore(trainer.model, tensors, path)?;
        let stepper = std::mem::replace(&mut trainer.stepper, Stepper::Fast);
        trainer.stepper = stepper.restore(optimizer_state, path)?;
        trainer.step = state.step;
        trainer.rng = state.rng;
        trainer.history = state.curve;
        trainer.train_seconds = state.train_seconds;
        trainer.eval_seconds = state.eval_seconds;
        Ok(trainer)
    }

    /// Saves the run's state to `path` at the first log point after every `every` steps,
    /// and when the run completes or is stopped.
    pub fn checkpoint_to(mut self, path: PathBuf, every: u64) -> Self {
        self.checkpoints = Some(CheckpointPlan {
            path,
            every,
            last: self.step,
        });
        self
    }

    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Steps done so far (more than 0 for a resumed run).
    pub fn steps_done(&self) -> u64 {
        self.step
    }

    /// The curve points reported so far (those of earlier sessions, for a resumed run).
    pub fn history(&self) -> &[Progress] {
        &self.history
    }

    pub fn trainable_params(&self) -> usize {
        self.model.trainable_params()
    }

    /// `count` items from the model as it is now (in eval mode), drawn from
    /// softmax(logits / `temperature`) with a generator of their own seeded by `seed`.
    pub fn sample(&self, count: usize, temperature: f64, seed: u64) -> Vec<String> {
        let model = self.model.valid();
        let mut rng = Rng::seed_from(seed);
        sample(
            &model,
            &self.vocab,
            (self.config.model.reading(), self.config.context()),
            count,
            temperature,
            &mut rng,
            &self.device,
        )
    }

    /// Trains to `config.steps`, reporting to `observer` (and waiting for its verdict at
    /// each evaluation, when it gates them). Fails only if a checkpoint cannot be written.
    pub fn run(mut self, observer: &mut impl Observer) -> Result<Outcome, CheckpointError> {
        let mut flow = ControlFlow::Continue(());
        let mut val = match self.last_val() {
            // Resumed at an evaluation whose verdict may not have been acted on.
            Some((step, loss)) if step == self.step => {
                if let Some(ending) = self.verdict(observer)? {
                    return Ok(self.finish(ending, loss));
                }
                loss
            }
            Some((_, loss)) => loss,
            None => {
                let loss = self.timed_val_loss();
                flow = self.report(observer, Progress::Val { step: self.step, loss });
                loss
            }
        };
        let mut window = Window::default();
        while flow.is_continue() && self.step < self.config.steps {
            let started = Instant::now();
            window.add(self.train_step());
            self.train_seconds += started.elapsed().as_secs_f64();
            self.step += 1;
            // The last step is always a log and an eval point, so a run ends with both. Each
            // keeps its own interval: an evaluation need not fall on a log point.
            let (step, last) = (self.step, self.config.steps);
            let due = |every: u64| step.is_multiple_of(every) || step == last;
            let (log_due, eval_due) = (due(self.config.log_every), due(self.config.eval_every));
            if !log_due && !eval_due {
                continue;
            }
            if log_due {
                let loss = window.take_mean();
                if !loss.is_finite() {
                    return Ok(self.finish(Ending::Diverged, val));
                }
                flow = self.report(observer, Progress::Train { step, loss });
            }
            if eval_due {
                val = self.timed_val_loss();
                if !val.is_finite() {
                    return Ok(self.finish(Ending::Diverged, val));
                }
                if self.report(observer, Progress::Val { step, loss: val }).is_break() {
                    flow = ControlFlow::Break(());
                } else if let Some(ending) = self.verdict(observer)? {
                    return Ok(self.finish(ending, val));
                }
            }
            if self
                .checkpoints
                .as_ref()
                .is_some_and(|plan| self.step >= plan.last + plan.every)
            {
                self.save_checkpoint(observer)?;
            }
        }
        if self.checkpoints.as_ref().is_some_and(|plan| plan.last < self.step) {
            self.save_checkpoint(observer)?;
        }
        let ending = if flow.is_break() {
            Ending::Interrupted
        } else {
            Ending::Completed
        };
        Ok(self.finish(ending, val))
    }

    /// One SGD step; returns the minibatch loss (not read back yet).
    fn train_step(&mut self) -> Tensor<1> {
        let n = self.splits.train.len();
        let indices = (0..self.config.batch_size).map(|_| self.rng.below(n));
        let batch = self
            .splits
            .train
            .batch(indices, self.stepper.model_device(&self.device));
        let lr = self.config.lr_at(self.step);
        match &mut self.stepper {
            Stepper::Fast => self
                .model
                .fast_step(batch, lr)
                .expect("the fast path is chosen only for a model that has one"),
            Stepper::Autodiff { optimizer, device } => {
                // Dropout's masks: the same for a step whether or not the run was resumed.
                device.seed(self.config.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ self.step);
                let loss = self.model.train_loss(batch);
                let mut gradients = GradientsParams::from_grads(loss.backward(), &self.model);
                if self.config.grad_clip > 0.0 {
                    gradients = optim::clip_global_norm(&self.model, gradients, self.config.grad_clip);
                }
                self.model = optimizer.step(lr, self.model.clone(), gradients);
                loss.detach()
            }
        }
    }

    /// The observer's verdict on the evaluation just made, when it gates them and the run
    /// has steps left (checkpointed first): `None` to go on, else how the run ends here.
    fn verdict(&mut self, observer: &mut impl Observer) -> Result<Option<Ending>, CheckpointError> {
        if !observer.gates_evaluations() || self.step == 0 || self.step >= self.config.steps {
            return Ok(None);
        }
        if self.checkpoints.as_ref().is_some_and(|plan| plan.last < self.step) {
            self.save_checkpoint(observer)?;
        }
        Ok(match observer.verdict(self.step) {
            Verdict::Continue => None,
            Verdict::Stop => Some(Ending::Stopped),
            Verdict::Interrupt => Some(Ending::Interrupted),
        })
    }

    fn report(&mut self, observer: &mut impl Observer, progress: Progress) -> ControlFlow<()> {
        let flow = observer.observe(&progress);
        self.history.push(progress);
        flow
    }

    /// The step and loss of the last evaluation.
    fn last_val(&self) -> Option<(u64, f64)> {
        self.history.iter().rev().find_map(|p| match *p {
            Progress::Val { step, loss } => Some((step, loss)),
            Progress::Train { .. } => None,
        })
    }

    /// Loss over the whole validation split, in eval mode, of the model as it is now.
    pub fn val_loss(&self) -> f64 {
        split_loss(&self.model.valid(), &self.splits.val, &self.device)
    }

    fn timed_val_loss(&mut self) -> f64 {
        let started = Instant::now();
        let loss = self.val_loss();
        self.eval_seconds += started.elapsed().as_secs_f64();
        loss
    }

    fn save_checkpoint(&mut self, observer: &mut impl Observer) -> Result<(), CheckpointError> {
        let Some(plan) = &mut self.checkpoints else {
            return Ok(());
        };
        let state = RunState {
            config: self.config.clone(),
            vocab: self.vocab.chars().to_vec(),
            step: self.step,
            rng: self.rng.clone(),
            curve: self.history.clone(),
            train_seconds: self.train_seconds,
            eval_seconds: self.eval_seconds,
        };
        // `valid()` first: it brings the BatchNorm running statistics up to date.
        checkpoint::save(&plan.path, state, &self.model.valid(), self.stepper.state())?;
        plan.last = self.step;
        observer.checkpointed(self.step);
        Ok(())
    }

    /// Which train-split examples `final_train_sample` draws: a stream of its own off
    /// `split_seed`, so seed replicates are scored on the same examples.
    fn train_sample_seed(&self) -> u64 {
        self.config.split_seed ^ 0x7472_6169_6e5f_7361
    }

    /// `val` is the validation loss at the last step (a completed run evaluates its last
    /// step; a stopped one stops at an evaluation).
    fn finish(mut self, ending: Ending, val: f64) -> Outcome {
        let (losses, samples) = match ending {
            Ending::Completed | Ending::Stopped => {
                let started = Instant::now();
                let model = self.model.valid();
                let loss = |split| split_loss(&model, split, &self.device);
                let train = self
                    .splits
                    .train
                    .sample(self.config.final_train_sample, self.train_sample_seed());
                let losses = FinalLosses {
                    train: loss(&train),
                    val,
                    test: loss(&self.splits.test),
                };
                let reads = (self.config.model.reading(), self.config.context());
                let samples = sample(
                    &model,
                    &self.vocab,
                    reads,
                    FINAL_SAMPLES,
                    1.0,
                    &mut self.rng,
                    &self.device,
                );
                self.eval_seconds += started.elapsed().as_secs_f64();
                (Some(losses), samples)
            }
            Ending::Diverged | Ending::Interrupted => (None, Vec::new()),
        };
        Outcome {
            ending,
            steps_done: self.step,
            losses,
            samples,
            train_seconds: self.train_seconds,
            eval_seconds: self.eval_seconds,
        }
    }
}
