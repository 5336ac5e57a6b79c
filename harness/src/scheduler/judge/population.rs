//! Population-based training inside the scheduler: each member pauses at an exploit step
//! until every member still training has arrived there (evaluated and checkpointed); then
//! `pbt::Pbt` decides, in run order, from their values alone — the same exploits whatever the
//! workers, their speed or crashes. The decision (exploits, new settings, a `continue` for
//! every member) is stored and the checkpoints copied before any member hears a verdict; a
//! member that exploited restarts from its donor's checkpoint.

use std::collections::{BTreeMap, BTreeSet};

use model::TrainConfig;
use results::{Decision, ExploitRecord, RunId, RunStatus, VerdictRecord};

use super::{Decided, Judgement};
use crate::pbt::{Exploit, Pbt, Standing};
use crate::spec::Goal;

/// What the scheduler does with the population's decision at `step`, in this order: store it
/// (unless it was stored before a crash), put each donor's checkpoint in its member's place,
/// mark those copied, and give the members their new settings.
#[derive(Clone, Debug, PartialEq)]
pub struct StepDecision {
    pub step: u64,
    pub exploits: Vec<ExploitRecord>,
    /// A `continue` for every member still training at `step`.
    pub verdicts: Vec<VerdictRecord>,
    /// Stored already: only the copies are left to make.
    pub stored: bool,
    /// Each exploiting member's new configuration.
    pub configs: Vec<(RunId, TrainConfig)>,
}

#[derive(Clone, Debug)]
struct Member {
    config: TrainConfig,
    /// Its own validation values, by step (never those of a donor's checkpoint).
    values: BTreeMap<u64, f64>,
    ended: bool,
    /// The step of its latest exploit: points up to there in its checkpoint are its donor's.
    exploited_at: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct Population {
    rule: Pbt,
    goal: Goal,
    members: BTreeMap<RunId, Member>,
    /// Exploit steps whose decision is made.
    decided: BTreeSet<u64>,
    /// Members at an exploit step not decided yet, with their checkpoint there: asked for
    /// their verdict (and told to pause until the decision), or paused there.
    arrived: BTreeSet<(RunId, u64)>,
    /// Members that exploited and have not restarted since: their worker must, to take the
    /// checkpoint.
    to_restart: BTreeSet<RunId>,
    out: Vec<Result<StepDecision, model::ConfigError>>,
    released: Vec<Decided>,
}

/// A member as the store holds it when a session starts.
pub struct StoredMember {
    pub run: RunId,
    pub status: RunStatus,
    /// Its latest settings.
    pub config: TrainConfig,
    /// Its validation curve, (step, loss).
    pub curve: Vec<(u64, f64)>,
}

/// What the store holds of a population when a session starts.
pub struct StoredPopulation {
    pub members: Vec<StoredMember>,
    pub verdicts: Vec<VerdictRecord>,
    pub exploits: Vec<ExploitRecord>,
}

impl Population {
    pub fn new(rule: Pbt, goal: Goal, stored: StoredPopulation) -> Self {
        let mut population = Self {
            rule,
            goal,
            members: BTreeMap::new(),
            decided: stored.verdicts.iter().map(|v| v.step).collect(),
            arrived: BTreeSet::new(),
            to_restart: BTreeSet::new(),
            out: Vec::new(),
            released: Vec::new(),
        };
        for StoredMember {
            run,
            status,
            config,
            curve,
        } in stored.members
        {
            let values: BTreeMap<u64, f64> = curve.into_iter().filter(|(step, _)| *step > 0).collect();
            if status == RunStatus::Paused
                && let Some((&step, _)) = values.last_key_value()
                && !population.decided.contains(&step)
            {
                population.arrived.insert((run, step));
            }
            let member = Member {
                config,
                values,
                ended: status.has_ended(),
                exploited_at: stored.exploits.iter().filter(|e| e.run == run).map(|e| e.step).max(),
            };
            population.members.insert(run, member);
        }
        let mut uncopied: BTreeMap<u64, Vec<ExploitRecord>> = BTreeMap::new();
        for exploit in stored.exploits.into_iter().filter(|e| !e.copied) {
            uncopied.entry(exploit.step).or_default().push(exploit);
        }
        for (step, exploits) in uncopied {
            population.out.push(Ok(StepDecision {
                step,
                exploits,
                verdicts: Vec::new(),
                stored: true,
                configs: Vec::new(),
            }));
        }
        population.try_decide(None);
        population
    }

    /// The step up to which a restarted member's checkpoint holds its donor's points.
    pub fn exploited_at(&self, run: RunId) -> Option<u64> {
        self.members.get(&run)?.exploited_at
    }

    pub fn is_held(&self, run: RunId) -> bool {
        self.arrived.iter().any(|(arrived, _)| *arrived == run)
    }

    pub fn observe(&mut self, run: RunId, step: u64, loss: f64) {
        let Some(member) = self.members.get_mut(&run) else {
            return;
        };
        if step == 0 || member.exploited_at.is_some_and(|at| step <= at) {
            return;
        }
        member.values.insert(step, loss);
    }

    /// The member's worker started again (from the checkpoint in its place).
    pub fn restart(&mut self, run: RunId, curve: &[(u64, f64)]) {
        self.to_restart.remove(&run);
        for &(step, loss) in curve {
            self.observe(run, step, loss);
        }
    }

    pub fn ended(&mut self, run: RunId) {
        if let Some(member) = self.members.get_mut(&run) {
            member.ended = true;
        }
        self.arrived.retain(|(arrived, _)| *arrived != run);
        self.try_decide(None);
    }

    /// At an exploit step: `continue` once decided — the last member to arrive decides —,
    /// but `pause` for a member that exploited (it restarts from its new checkpoint); `None`
    /// before. At any other evaluation, `continue`.
    pub fn verdict(&mut self, run: RunId, step: u64) -> Option<Judgement> {
        if !self.rule.exploits_at(step) {
            return Some(Judgement::unrecorded(Decision::Continue));
        }
        if !self.decided.contains(&step) {
            self.arrived.insert((run, step));
            self.try_decide(Some(run));
        }
        if !self.decided.contains(&step) {
            return None;
        }
        let decision = if self.to_restart.contains(&run) {
            Decision::Pause
        } else {
            Decision::Continue
        };
        Some(Judgement::unrecorded(decision))
    }

    /// Decisions made since last asked, to carry out before the members they release go on.
    pub fn take_decisions(&mut self) -> Vec<Result<StepDecision, model::ConfigError>> {
        std::mem::take(&mut self.out)
    }

    /// The members still training that have not reached the first undecided exploit step.
    pub fn missing(&self) -> Vec<RunId> {
        let Some(step) = self.undecided() else {
            return Vec::new();
        };
        let live = self.members.iter().filter(|(_, member)| !member.ended);
        live.filter(|(run, _)| !self.arrived.contains(&(**run, step)))
            .map(|(run, _)| *run)
            .collect()
    }

    /// The first exploit step not decided yet (steps are decided in order).
    fn undecided(&self) -> Option<u64> {
        self.rule.exploit_steps().find(|step| !self.decided.contains(step))
    }

    pub fn take_decided(&mut self) -> Vec<Decided> {
        std::mem::take(&mut self.released)
    }

    /// The first exploit step not decided, once every member still training has arrived
    /// there with its value: decides it, releasing the members held there (but `asking`, which
    /// hears the decision as its answer).
    fn try_decide(&mut self, asking: Option<RunId>) {
        if let Some(step) = self.undecided() {
            let live: Vec<(&RunId, &Member)> = self.members.iter().filter(|(_, m)| !m.ended).collect();
            let ready = |(run, member): &(&RunId, &Member)| {
                self.arrived.contains(&(**run, step)) && member.values.contains_key(&step)
            };
            if live.is_empty() || !live.iter().all(ready) {
                return;
            }
            let standings: Vec<Standing> = live
                .iter()
                .map(|(run, member)| Standing {
                    run: **run,
                    value: self.goal.minimized(member.values[&step]),
                    config: member.config.clone(),
                })
                .collect();
            let verdicts = live
                .iter()
                .map(|(run, member)| VerdictRecord {
                    run: **run,
                    step,
                    value: member.values[&step],
                    decision: Decision::Continue,
                })
                .collect();
            self.decided.insert(step);
            let decision = self.rule.exploits(step, &standings).map(|exploits| {
                let configs = exploits.iter().map(|e| (e.run, e.after.clone())).collect();
                StepDecision {
                    step,
                    exploits: exploits.iter().map(|e| self.record(e)).collect(),
                    verdicts,
                    stored: false,
                    configs,
                }
            });
            if let Ok(decision) = &decision {
                for (run, config) in &decision.configs {
                    let member = self.members.get_mut(run).expect("an exploit is of a member");
                    member.config = config.clone();
                    member.exploited_at = Some(step);
                    self.to_restart.insert(*run);
                }
            }
            self.out.push(decision);
            let held: Vec<RunId> = self
                .arrived
                .iter()
                .filter(|(_, at)| *at == step)
                .map(|(run, _)| *run)
                .collect();
            self.arrived.retain(|(_, at)| *at != step);
            for run in held.into_iter().filter(|run| Some(*run) != asking) {
                self.released.push(Decided {
                    run,
                    step,
                    judgement: Judgement::unrecorded(Decision::Continue),
                });
            }
        }
    }

    /// An exploit as stored: the validation values as measured (the rule ranked them as a
    /// minimizer sees them), settings as a run's are stored (those that apply, as JSON).
    fn record(&self, exploit: &Exploit) -> ExploitRecord {
        let measured = |run: RunId| self.members[&run].values[&exploit.step];
        let json =
            |config: &TrainConfig| serde_json::to_string(&config.applicable_settings()).expect("settings serialize");
        ExploitRecord {
            run: exploit.run,
            step: exploit.step,
            value: measured(exploit.run),
            donor: exploit.donor,
            donor_value: measured(exploit.donor),
            config_before: json(&exploit.before),
            config_after: json(&exploit.after),
            changes: exploit.changes.iter().map(ToString::to_string).collect(),
            copied: false,
        }
    }
}
