//! A `halving:` sweep's decisions about one run, for `explain` and `replay`: the rung it
//! trained at, the run whose configuration it continues and how that one ranked, and how it
//! ranked at its own rung and whether it went on — ranked again from the stored results by
//! `stopping::halving`, as the live proposer ranked them.

use results::RunId;

use crate::session::proposer::halving::RunAtRung;
use crate::spec::Metric;
use crate::stopping::halving::Halving;
use crate::view::table::significant;

/// A rung's runs ranked again: each run's place (0 = best) and whether it goes on.
pub struct Ranked<'a> {
    pub runs: Vec<&'a RunAtRung>,
    /// Per run of `runs`, its place in the ranking.
    pub place: Vec<usize>,
    /// Per run of `runs`, whether it goes on.
    pub goes_on: Vec<bool>,
}

/// Rung `rung`'s runs ranked, once each has its result (`None` before).
pub fn ranked<'a>(halving: &Halving, rungs: &'a [RunAtRung], rung: usize) -> Option<Ranked<'a>> {
    let runs: Vec<&RunAtRung> = rungs.iter().filter(|r| r.rung == rung).collect();
    let results = runs.iter().map(|r| r.result).collect::<Option<Vec<f64>>>()?;
    let mut place = vec![0; runs.len()];
    for (at, i) in Halving::ranked(&results).into_iter().enumerate() {
        place[i] = at;
    }
    let mut goes_on = vec![false; runs.len()];
    for i in halving.promoted(&results) {
        goes_on[i] = true;
    }
    Some(Ranked { runs, place, goes_on })
}

/// The run at rung `rung - 1` whose configuration `run` trains again.
pub fn sent_from<'a>(rungs: &'a [RunAtRung], run: &RunAtRung) -> Option<&'a RunAtRung> {
    rungs
        .iter()
        .find(|r| r.rung + 1 == run.rung && r.same_configuration(run))
}

/// The lines about `run` (`rungs`: the sweep's, from the store).
pub fn lines(halving: &Halving, rungs: &[RunAtRung], run: RunId, metric: Metric) -> Vec<String> {
    let Some(this) = rungs.iter().find(|r| r.id == run) else {
        return vec!["halving: its steps are no rung's".to_string()];
    };
    let last = halving.rungs.len() - 1;
    let mut lines = vec![format!(
        "halving: rung {} of {}, {} of {} steps, its schedule scaled to them",
        this.rung + 1,
        last + 1,
        halving.rungs[this.rung],
        halving.rungs[last]
    )];
    if this.rung > 0 {
        lines.push(match sent_from(rungs, this) {
            Some(from) => format!(
                "  sent on from run {}: {}",
                from.id,
                standing(halving, rungs, from, metric)
            ),
            None => "  sent on from a run that is no longer stored".to_string(),
        });
    }
    lines.push(format!("  at its rung: {}", standing(halving, rungs, this, metric)));
    if this.rung < last {
        match rungs
            .iter()
            .find(|r| r.rung == this.rung + 1 && r.same_configuration(this))
        {
            Some(next) => lines.push(format!("  went on as run {}", next.id)),
            None if ranked(halving, rungs, this.rung).is_some() => lines.push("  did not go on".to_string()),
            None => {}
        }
    }
    lines
}

/// "ranked 2 of 29 (val_loss 2.2545); the best 9 went on" for `run` among its rung.
fn standing(halving: &Halving, rungs: &[RunAtRung], run: &RunAtRung, metric: Metric) -> String {
    let Some(ranked) = ranked(halving, rungs, run.rung) else {
        return "not ranked yet: runs of its rung are still training".to_string();
    };
    let at = ranked.runs.iter().position(|r| r.id == run.id).unwrap_or(0);
    let value = match run.result {
        Some(result) if result.is_finite() => {
            format!("{} {}", metric.loss, significant(metric.goal.minimized(result), 5))
        }
        _ => "no result".to_string(),
    };
    let went_on = ranked.goes_on.iter().filter(|&&on| on).count();
    let verdict = if run.rung + 1 == halving.rungs.len() {
        "the last rung".to_string()
    } else {
        format!("the best {went_on} went on")
    };
    format!(
        "ranked {} of {} ({value}); {verdict}",
        ranked.place[at] + 1,
        ranked.runs.len()
    )
}
