//! A `pbt:` population's decisions about one member, for `explain`: at each exploit step, how
//! it ranked on its validation loss among the members there, and whether it went on as it was,
//! went on from a donor's checkpoint with changed settings, or gave its checkpoint to others —
//! ranked again from the stored verdicts, as the scheduler ranked them.

use results::{ExploitRecord, RunId, VerdictRecord};

use crate::pbt::Pbt;
use crate::spec::Goal;
use crate::view::table::significant;

/// The lines about `run`, from the sweep's stored verdicts and exploits.
pub fn lines(
    pbt: &Pbt,
    goal: Goal,
    (verdicts, exploits): (&[VerdictRecord], &[ExploitRecord]),
    run: RunId,
) -> Vec<String> {
    let mut lines = vec![pbt.describe()];
    for step in pbt.exploit_steps() {
        let there: Vec<&VerdictRecord> = verdicts.iter().filter(|v| v.step == step).collect();
        let ranked = Pbt::ranked(&there, |v| (v.run, goal.minimized(v.value)));
        let place = |member: RunId| ranked.iter().position(|v| v.run == member).map(|at| at + 1);
        let Some(own) = place(run) else {
            continue;
        };
        let value = |member: RunId| {
            let verdict = ranked.iter().find(|v| v.run == member);
            verdict.map_or("-".to_string(), |v| significant(v.value, 5))
        };
        let standing = format!("ranked {own} of {} (val {})", ranked.len(), value(run));
        let at_step = exploits.iter().filter(|e| e.step == step);
        let took = at_step.clone().find(|e| e.run == run);
        let gave: Vec<String> = at_step.filter(|e| e.donor == run).map(|e| e.run.to_string()).collect();
        let what = match took {
            Some(e) => format!(
                "went on from run {}'s checkpoint (ranked {}, val {}): {}",
                e.donor,
                place(e.donor).unwrap_or(0),
                value(e.donor),
                e.changes.join(", ")
            ),
            None if !gave.is_empty() => {
                format!("went on as it was, and gave its checkpoint to run {}", gave.join(", "))
            }
            None => "went on as it was".to_string(),
        };
        lines.push(format!("  step {step}: {standing}; {what}"));
    }
    lines
}
