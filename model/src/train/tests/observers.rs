//! What an observer can do: stop a run, and gate evaluations (the scheduler's verdicts) —
//! evaluations and logs keep their own intervals, a stopped run is evaluated on the weights
//! it had, and a resumed run is asked again at a judged evaluation.

use super::*;

#[test]
fn an_observer_can_stop_the_run() {
    let outcome = Trainer::new(small(ModelKind::Mlp, |_| {}), &names(), cpu(Backend::Flex))
        .run(&mut StopAt(100))
        .unwrap();
    assert_eq!((outcome.ending, outcome.steps_done), (Ending::Interrupted, 100));
}

/// Gates every evaluation and answers from a script: `Stop` at `stop_at`, else `Continue`;
/// records the steps it was asked about and the checkpoints written.
struct Judge {
    stop_at: u64,
    asked: Vec<u64>,
    checkpoints: Vec<u64>,
}

impl Judge {
    fn stopping_at(stop_at: u64) -> Self {
        Self {
            stop_at,
            asked: Vec::new(),
            checkpoints: Vec::new(),
        }
    }
}

impl Observer for Judge {
    fn observe(&mut self, _: &Progress) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    fn checkpointed(&mut self, step: u64) {
        self.checkpoints.push(step);
    }
    fn gates_evaluations(&self) -> bool {
        true
    }
    fn verdict(&mut self, step: u64) -> Verdict {
        self.asked.push(step);
        if step == self.stop_at {
            Verdict::Stop
        } else {
            Verdict::Continue
        }
    }
}

#[test]
fn evaluations_and_logs_keep_their_own_intervals() {
    // Every 30 steps an evaluation, every 50 a log: neither waits for the other, and the last
    // step is both.
    let config = small(ModelKind::Mlp, |o| {
        o.steps = 100;
        o.eval_every = 30;
    });
    let (_, curve) = train(config, Backend::Flex);
    let steps = |val: bool| -> Vec<u64> {
        curve
            .iter()
            .filter_map(|p| match *p {
                Progress::Val { step, .. } if val => Some(step),
                Progress::Train { step, .. } if !val => Some(step),
                _ => None,
            })
            .collect()
    };
    assert_eq!(steps(true), [0, 30, 60, 90, 100]);
    assert_eq!(steps(false), [50, 100]);
}

#[test]
fn a_run_stopped_at_an_evaluation_is_evaluated_on_the_weights_it_had() {
    // Evaluations at 100, 200, 300 (and 400, the last, which is never judged).
    let config = small(ModelKind::Mlp, |o| o.eval_every = 100);
    let (_, whole_curve) = train(config.clone(), Backend::Flex);
    let file = ScratchFile::new("verdict");
    let mut judge = Judge::stopping_at(200);
    let stopped = Trainer::new(config, &names(), cpu(Backend::Flex))
        .checkpoint_to(file.0.clone(), 1000)
        .run(&mut judge)
        .unwrap();
    assert_eq!((stopped.ending, stopped.steps_done), (Ending::Stopped, 200));
    assert_eq!(judge.asked, [100, 200], "asked once per evaluation, up to the stop");
    assert_eq!(judge.checkpoints, [100, 200], "checkpointed before each verdict");
    let losses = stopped.losses.expect("a stopped run has final losses");
    let val_at_200 = whole_curve
        .iter()
        .find_map(|p| match *p {
            Progress::Val { step: 200, loss } => Some(loss),
            _ => None,
        })
        .unwrap();
    assert_eq!(losses.val, val_at_200, "its val is the evaluation it stopped at");
    assert!(losses.train.is_finite() && losses.test.is_finite());
    assert_eq!(stopped.samples.len(), FINAL_SAMPLES);
}

#[test]
fn a_run_resumed_at_a_judged_evaluation_is_asked_again_and_can_stop_there() {
    let config = small(ModelKind::Mlp, |o| o.eval_every = 100);
    let file = ScratchFile::new("verdict-resume");
    // The first session is lost while it waits at 200: its verdict is an interrupt.
    struct LostAt(u64);
    impl Observer for LostAt {
        fn observe(&mut self, _: &Progress) -> ControlFlow<()> {
            ControlFlow::Continue(())
        }
        fn gates_evaluations(&self) -> bool {
            true
        }
        fn verdict(&mut self, step: u64) -> Verdict {
            if step == self.0 {
                Verdict::Interrupt
            } else {
                Verdict::Continue
            }
        }
    }
    let lost = Trainer::new(config.clone(), &names(), cpu(Backend::Flex))
        .checkpoint_to(file.0.clone(), 1000)
        .run(&mut LostAt(200))
        .unwrap();
    assert_eq!((lost.ending, lost.steps_done), (Ending::Interrupted, 200));

    let mut judge = Judge::stopping_at(200);
    let resumed = Trainer::resume(&file.0, &names(), cpu(Backend::Flex)).unwrap();
    let stopped = resumed.run(&mut judge).unwrap();
    assert_eq!(judge.asked, [200], "the evaluation it waited at is judged again");
    assert_eq!((stopped.ending, stopped.steps_done), (Ending::Stopped, 200));

    // Without a verdict to wait for, the same checkpoint simply goes on to the end.
    let rest = Trainer::resume(&file.0, &names(), cpu(Backend::Flex))
        .unwrap()
        .run(&mut Record::default())
        .unwrap();
    assert_eq!((rest.ending, rest.steps_done), (Ending::Completed, 400));
}
