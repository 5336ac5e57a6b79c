//! A `halving:` sweep's decisions about one run, for `explain`: the rung it trained at, the
//! run whose configuration it trains again and how that one ranked, and how it ranked at its
//! own rung and whether it went on — ranked again from the stored results by
//! `stopping::halving`, as the live proposer ranked them.

use results::RunId;

use crate::session::proposer::halving::{RunAtRung, at_rung, parent_of};
use crate::spec::Metric;
use crate::stopping::halving::Halving;
use crate::view::table::significant;

/// The lines about `run` (`runs`: the sweep's, from the store).
pub fn lines(halving: &Halving, runs: &[RunAtRung], run: RunId, metric: Metric) -> Vec<String> {
    let Some(this) = runs.iter().find(|r| r.id == run) else {
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
        lines.push(match parent_of(runs, this) {
            Some(from) => format!(
                "  sent on from run {}: {}",
                from.id,
                standing(halving, runs, from, metric)
            ),
            None => "  sent on from a run that is no longer stored".to_string(),
        });
    }
    lines.push(format!("  at its rung: {}", standing(halving, runs, this, metric)));
    if this.rung < last {
        match runs
            .iter()
            .find(|r| r.rung == this.rung + 1 && r.same_configuration(this))
        {
            Some(next) => lines.push(format!("  went on as run {}", next.id)),
            None if ranked(halving, runs, this.rung).is_some() => lines.push("  did not go on".to_string()),
            None => {}
        }
    }
    lines
}

/// The runs of rung `rung` with each one's standing, once each has its result.
fn ranked<'a>(halving: &Halving, runs: &'a [RunAtRung], rung: usize) -> Option<Vec<(&'a RunAtRung, (usize, bool))>> {
    let at = at_rung(runs, rung);
    let results = at.iter().map(|r| r.result).collect::<Option<Vec<f64>>>()?;
    Some(at.into_iter().zip(halving.standings(&results)).collect())
}

/// "ranked 2 of 29 (val_loss 2.2545); the best 9 went on" for `run` among its rung.
fn standing(halving: &Halving, runs: &[RunAtRung], run: &RunAtRung, metric: Metric) -> String {
    let Some(ranked) = ranked(halving, runs, run.rung) else {
        return "not ranked yet: runs of its rung are still training".to_string();
    };
    let place = ranked
        .iter()
        .find(|(r, _)| r.id == run.id)
        .map_or(0, |(_, (place, _))| *place);
    let value = match run.result {
        // Results are kept minimized: a maximized metric's are negated.
        Some(result) if result.is_finite() => {
            format!("{} {}", metric.loss, significant(metric.goal.minimized(result), 5))
        }
        _ => "no result".to_string(),
    };
    let verdict = if run.rung + 1 == halving.rungs.len() {
        "the last rung".to_string()
    } else {
        let went_on = ranked.iter().filter(|(_, (_, goes_on))| *goes_on).count();
        format!("the best {went_on} went on")
    };
    format!("ranked {} of {} ({value}); {verdict}", place + 1, ranked.len())
}
