//! Early termination inside the scheduler: the verdict on each evaluation a judged run waits
//! at, made in run order (`in_order`, the default) or as runs arrive (`arrival`, W&B's way),
//! given once per (run, evaluation) — only ASHA's `pause` is revised —, recorded before the
//! worker hears it and read back by a resumed session. Population-based training (`population`)
//! comes through the same gate, recording its verdicts at exploit steps with its exploits.

mod arrival;
mod in_order;
pub mod population;

use std::collections::{BTreeMap, HashMap};

use model::Verdict;
use results::{Decision, RunId, RunStatus, VerdictRecord};

use crate::spec::Goal;
use crate::stopping::asha::nan_last;
use crate::stopping::{EarlyTerminate, Order};
pub use arrival::ByArrival;
pub use in_order::InRunOrder;
pub use population::{Population, StepDecision, StoredMember, StoredPopulation};

#[derive(Clone, Debug)]
pub enum Judge {
    InRunOrder(Box<InRunOrder>),
    ByArrival(Box<ByArrival>),
    Population(Box<Population>),
}

/// The verdict on one evaluation, and what to record before the worker hears it.
#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
    pub decision: Decision,
    /// The new verdict (none when it was given before), and the revisions of the paused
    /// runs it promotes.
    pub records: Vec<VerdictRecord>,
    /// Paused runs to resume now (ASHA).
    pub promoted: Vec<RunId>,
}

impl Judgement {
    /// A decision with nothing to record: given before, or between ASHA's rungs.
    fn unrecorded(decision: Decision) -> Self {
        Self {
            decision,
            records: Vec::new(),
            promoted: Vec::new(),
        }
    }
}

/// What a verdict in run order was made from, as `harness explain` tells it. Values are
/// losses as a minimizer sees them (the losses themselves when minimizing).
#[derive(Clone, Debug, PartialEq)]
pub enum Basis {
    /// Not judged at this evaluation: before hyperband's first band, in the median's warm-up,
    /// or past every rung for the run ASHA sent on.
    Unjudged,
    /// ASHA at a rung: the runs that had had their turn there, itself included, best first;
    /// how many of them may go on, and how many had gone on before it.
    Rung {
        evaluations: usize,
        ranked: Vec<(RunId, f64)>,
        may_go_on: usize,
        gone_on: usize,
    },
    /// ASHA: promoted from its pause when run `by` reached the rung, making it `place` of
    /// `ranked` runs there, of which `may_go_on` may.
    Promoted {
        evaluations: usize,
        by: RunId,
        place: usize,
        ranked: usize,
        may_go_on: usize,
    },
    /// ASHA: the best run paused at the highest rung reached, sent on to its budget when no
    /// run had trained to its end.
    SentOn { evaluations: usize },
    /// The sweep ended while the run was paused.
    SweepEnded,
    /// Hyperband: the run's value against the band's threshold over the `runs` runs up to it
    /// that reached the band.
    Band {
        band: usize,
        value: f64,
        threshold: f64,
        runs: usize,
    },
    /// The median: the run's best so far against the median of the `earlier` runs before it
    /// that reached the evaluation (`needed` of them before any is judged).
    Median {
        evaluations: usize,
        best: f64,
        median: Option<f64>,
        earlier: usize,
        needed: usize,
    },
}

/// A verdict on a run that waited for its turn at `step`.
#[derive(Clone, Debug, PartialEq)]
pub struct Decided {
    pub run: RunId,
    pub step: u64,
    pub judgement: Judgement,
}

/// What the store holds of a sweep when a session starts.
#[derive(Clone)]
pub struct Stored {
    /// Every run and its status.
    pub runs: Vec<(RunId, RunStatus)>,
    /// Each run's validation curve, (step, loss).
    pub curves: Vec<(RunId, Vec<(u64, f64)>)>,
    /// The verdicts given, in the order they were given or revised.
    pub given: Vec<VerdictRecord>,
}

impl Stored {
    /// Each run, whether it ended for good, and whether it completed.
    fn endings(&self) -> Vec<(RunId, bool, bool)> {
        let runs = self.runs.iter();
        runs.map(|&(run, status)| (run, status.has_ended(), status == RunStatus::Completed))
            .collect()
    }
}

/// Why a sweep's verdicts cannot be made again from what is stored.
#[derive(Debug, thiserror::Error)]
#[error(
    "its verdicts were made in arrival order (`early_terminate.order: arrival`): each depended on which \
     runs had got there first, which the database does not hold; verdicts in run order (the default) \
     can be replayed"
)]
pub struct NotReplayable;

/// The verdicts a sweep would get if it ran again on the same curves, by run and step, and
/// what those of the run explained were made from.
pub struct Replayed {
    pub verdicts: Vec<VerdictRecord>,
    /// By step, each verdict given on the run explained (a pause, then its revision), with
    /// what it was made from.
    pub bases: BTreeMap<u64, Vec<(Decision, Basis)>>,
    /// The run ASHA sent on to its budget past every rung (`finish_best`), once it did.
    pub finishing: Option<RunId>,
}

/// The verdicts the sweep `stored` holds would get if it ran again on the same curves (see
/// `InRunOrder::replay`).
/// With `explaining`, `bases` holds that run's verdicts and what each was made from.
pub fn replay(
    (rule, order, goal): (EarlyTerminate, Order, Goal),
    stored: Stored,
    explaining: Option<RunId>,
) -> Result<Replayed, NotReplayable> {
    if order == Order::Arrival {
        return Err(NotReplayable);
    }
    let mut runs = stored.endings();
    // A run that never started (the metric's target was reached first) holds no one up.
    let reported: HashMap<RunId, usize> = stored.curves.iter().map(|(run, curve)| (*run, curve.len())).collect();
    for ((run, ended, _), (_, status)) in runs.iter_mut().zip(&stored.runs) {
        if *status == RunStatus::Pending && reported.get(run).is_none_or(|n| *n == 0) {
            *ended = true;
        }
    }
    Ok(InRunOrder::replay(
        rule,
        goal,
        (runs, stored.curves),
        &stored.given,
        explaining,
    ))
}

impl Judge {
    pub fn new(rule: EarlyTerminate, order: Order, goal: Goal, stored: Stored) -> Self {
        let runs = stored.endings();
        let completed = runs.iter().filter(|run| run.2).map(|run| run.0);
        match order {
            Order::Arrival => Self::ByArrival(Box::new(ByArrival::new(
                rule,
                goal,
                stored.curves,
                completed.collect::<Vec<_>>(),
                stored.given,
            ))),
            Order::Run => {
                // Which run `finish_best` sent on is not stored, but the stored verdicts show it
                // when made again; it goes on past the rungs it has yet to reach.
                let finishing = match rule {
                    EarlyTerminate::Asha(_) => replay((rule, order, goal), stored.clone(), None)
                        .ok()
                        .and_then(|replayed| replayed.finishing),
                    _ => None,
                };
                let judge = InRunOrder::new(rule, goal, runs, stored.curves, stored.given);
                Self::InRunOrder(Box::new(judge.finishing(finishing).advanced()))
            }
        }
    }

    /// Whether a run waiting for its turn keeps its worker (hyperband and the median, whose
    /// turns come as fast as the runs before it train) or pauses (ASHA, whose later rungs
    /// wait for runs sent on after it).
    pub fn waits_in_place(&self) -> bool {
        match self {
            Self::InRunOrder(judge) => judge.waits_in_place(),
            Self::ByArrival(_) => true,
            Self::Population(_) => false,
        }
    }

    /// Population-based training's decisions since last asked (none under another rule).
    pub fn take_decisions(&mut self) -> Vec<Result<StepDecision, model::ConfigError>> {
        match self {
            Self::Population(judge) => judge.take_decisions(),
            _ => Vec::new(),
        }
    }

    /// The step up to which the run's checkpoint holds a donor's curve (it exploited there).
    pub fn exploited_at(&self, run: RunId) -> Option<u64> {
        match self {
            Self::Population(judge) => judge.exploited_at(run),
            _ => None,
        }
    }

    /// Why a held run waits, and how it goes on, as the display says them.
    pub fn hold_words(&self) -> (&'static str, &'static str) {
        match self {
            Self::Population(_) => (
                "until every member is there",
                "goes on: the population was ranked at its step",
            ),
            _ => ("until promoted", "promoted: it resumes at its rung"),
        }
    }

    /// The search added a run.
    pub fn add_run(&mut self, run: RunId) {
        if let Self::InRunOrder(judge) = self {
            judge.add_run(run);
        }
    }

    /// A validation point arrived.
    pub fn observe(&mut self, run: RunId, step: u64, loss: f64) {
        match self {
            Self::InRunOrder(judge) => judge.observe(run, step, loss),
            Self::ByArrival(judge) => judge.observe(run, step, loss),
            Self::Population(judge) => judge.observe(run, step, loss),
        }
    }

    /// The run (re)started with `curve` (from its checkpoint).
    pub fn restart(&mut self, run: RunId, curve: &[(u64, f64)]) {
        match self {
            Self::InRunOrder(judge) => {
                for &(step, loss) in curve {
                    judge.observe(run, step, loss);
                }
            }
            Self::ByArrival(judge) => judge.restart(run, curve),
            Self::Population(judge) => judge.restart(run, curve),
        }
    }

    /// The run ended for good (`completed`: it trained to its end), or will never start.
    pub fn ended(&mut self, run: RunId, completed: bool) {
        match self {
            Self::InRunOrder(judge) => judge.ended(run, completed),
            Self::ByArrival(judge) if completed => judge.completed(run),
            Self::ByArrival(_) => {}
            Self::Population(judge) => judge.ended(run),
        }
    }

    /// Whether the run is held at an evaluation: paused at a rung or waiting for its turn.
    pub fn is_held(&self, run: RunId) -> bool {
        match self {
            Self::InRunOrder(judge) => judge.is_held(run),
            Self::ByArrival(judge) => judge.is_paused(run),
            Self::Population(judge) => judge.is_held(run),
        }
    }

    /// The verdict on `run`'s evaluation at `step`; `None` while it waits for its turn.
    pub fn verdict(&mut self, run: RunId, step: u64) -> Option<Judgement> {
        match self {
            Self::InRunOrder(judge) => judge.verdict(run, step),
            Self::ByArrival(judge) => Some(judge.verdict(run, step)),
            Self::Population(judge) => judge.verdict(run, step),
        }
    }

    /// Verdicts on runs that waited for their turn, made since last asked.
    pub fn take_decided(&mut self) -> Vec<Decided> {
        match self {
            Self::InRunOrder(judge) => judge.take_decided(),
            Self::ByArrival(_) => Vec::new(),
            Self::Population(judge) => judge.take_decided(),
        }
    }

    /// Nothing is left to start or promote and no run trained to its end: as successive
    /// halving keeps at least one configuration to the full budget, the best run paused at the
    /// highest rung reached goes on, and on past every later rung. Its revised verdict to
    /// record; `None` under another rule, once a run completed, or with no run paused.
    pub fn finish_best(&mut self) -> Option<VerdictRecord> {
        match self {
            Self::InRunOrder(judge) => judge.finish_best(),
            Self::ByArrival(judge) => judge.finish_best(),
            Self::Population(_) => None,
        }
    }

    /// The sweep ends: every pause becomes a stop (records to write, by run).
    pub fn stop_paused(&mut self) -> Vec<VerdictRecord> {
        match self {
            Self::InRunOrder(judge) => judge.stop_paused(),
            Self::ByArrival(judge) => judge.stop_paused(),
            Self::Population(_) => Vec::new(),
        }
    }
}

/// What both judges do with a verdict: give it (or revise a pause), and list the pauses.
trait Decides {
    /// The (run, step) of each pause not revised, by run.
    fn paused(&self) -> Vec<(RunId, u64)>;
    fn decide(&mut self, run: RunId, step: u64, decision: Decision) -> VerdictRecord;

    /// The sweep ends: every pause becomes a stop (records to write, by run).
    fn stop_paused(&mut self) -> Vec<VerdictRecord> {
        let paused = self.paused();
        paused
            .into_iter()
            .map(|(run, step)| self.decide(run, step, Decision::Stop))
            .collect()
    }
}

/// Of paused runs — (run, step, evaluations, value as a minimizer sees it) — the one to send
/// on: the highest rung; there the lowest value (NaN last), then the first run.
fn best_to_finish(paused: impl Iterator<Item = (RunId, u64, usize, f64)>) -> Option<(RunId, u64)> {
    paused
        .min_by(|a, b| {
            b.2.cmp(&a.2)
                .then(nan_last(a.3).total_cmp(&nan_last(b.3)))
                .then(a.0.cmp(&b.0))
        })
        .map(|(run, step, _, _)| (run, step))
}

fn stop_if(stop: bool) -> Decision {
    if stop { Decision::Stop } else { Decision::Continue }
}

/// What the worker hears: a paused run checkpoints and ends, to be resumed when promoted.
pub fn worker_verdict(decision: Decision) -> Verdict {
    match decision {
        Decision::Continue => Verdict::Continue,
        Decision::Stop => Verdict::Stop,
        Decision::Pause => Verdict::Interrupt,
    }
}
