//! Every decision about one run and what it was made from, as text for `harness explain` and
//! the dashboard's run page: how the run came to be (planned, or proposed by `bayes`), each
//! attempt and how it ended, each early-termination verdict with what it was held against, and
//! its `halving:` rung and ranking, its `pbt:` exploits — all made again from the stored
//! curves and results, as `replay --verify` checks them, so the text is the decision's own
//! reasoning.

pub mod halving;
mod pbt;
mod proposal;

use std::collections::HashSet;

use results::{AttemptRecord, Decision, RunId, RunRecord, Store, SweepRecord};

use crate::scheduler::judge::{self, Basis};
use crate::session::proposer::halving::settled_runs;
use crate::session::proposer::search::Search;
use crate::spec::{self, SweepSettings};
use crate::stopping::{EarlyTerminate, Order};
use crate::stored;
use crate::view::table::significant;

/// The lines that explain `run`, of `sweep`.
pub fn lines(store: &Store, run: &RunRecord, sweep: &SweepRecord) -> anyhow::Result<Vec<String>> {
    let settings = stored::settings(sweep)?;
    let all = store.sweep_runs(sweep.id)?;
    let mut lines = vec![format!(
        "run {} of sweep `{}`: {}, {} steps",
        run.id, sweep.name, run.status, run.steps_done
    )];
    let search = Search::stored(store, sweep, settings.metric, &all)?;
    let method = match &sweep.spec {
        Some(text) => Some(spec::stored_method(text, &sweep.name)?),
        None => None,
    };
    let halved = match &settings.halving {
        Some(rule) => Some((rule, settled_runs(rule, settings.metric, &all)?)),
        None => None,
    };
    // Under `halving:` the sweep file planned (or `bayes` proposed) the first rung's runs.
    let first_rung: Vec<RunRecord> = match &halved {
        Some((_, runs)) => {
            let first: HashSet<RunId> = runs.iter().filter(|r| r.rung == 0).map(|r| r.id).collect();
            all.iter().filter(|r| first.contains(&r.id)).cloned().collect()
        }
        None => all.clone(),
    };
    if first_rung.iter().any(|r| r.id == run.id) {
        lines.extend(proposal::origin(
            run,
            &first_rung,
            (method, search.as_ref()),
            &sweep.name,
        ));
    }
    lines.extend(store.attempts(run.id)?.iter().map(attempt));
    if let Some(rule) = settings.early_terminate {
        lines.extend(verdicts(store, (sweep, &settings, rule), &all, run.id)?);
    }
    if let Some((rule, runs)) = &halved {
        lines.extend(halving::lines(rule, runs, run.id, settings.metric));
    }
    if let Some(rule) = &settings.pbt {
        let stored = (
            &store.sweep_verdicts(sweep.id)?[..],
            &store.sweep_exploits(sweep.id)?[..],
        );
        lines.extend(pbt::lines(rule, settings.metric.goal, stored, run.id));
    }
    Ok(lines)
}

/// `attempt 2: 17:02:11 → 17:02:15, failed (the worker was killed by signal 9) on cpu`
fn attempt(attempt: &AttemptRecord) -> String {
    let time = |at: &str| at.get(11..19).unwrap_or(at).to_string();
    let ended = attempt.ended_at.as_deref().map_or("…".to_string(), time);
    let outcome = attempt
        .outcome
        .map_or("running".to_string(), |status| status.to_string());
    let error = attempt
        .error
        .as_deref()
        .and_then(|error| error.lines().next())
        .map_or(String::new(), |first| format!(" ({first})"));
    let place = [attempt.device.as_deref(), attempt.host.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" on ");
    let place = if place.is_empty() {
        String::new()
    } else {
        format!(", {place}")
    };
    format!(
        "attempt {}: {} → {ended}, {outcome}{error}{place}",
        attempt.attempt,
        time(&attempt.started_at)
    )
}

/// Each verdict on the run, with what it was made from (made again from the stored curves).
fn verdicts(
    store: &Store,
    (sweep, settings, rule): (&SweepRecord, &SweepSettings, EarlyTerminate),
    all: &[RunRecord],
    run: RunId,
) -> anyhow::Result<Vec<String>> {
    let judged = stored::judged(store, sweep, all)?;
    let longest = judged
        .curves
        .iter()
        .map(|(_, curve)| curve.len().saturating_sub(1))
        .max();
    let mut lines = vec![format!(
        "early termination: {}; {}",
        rule.describe(longest.unwrap_or(0), all.len()),
        settings.verdict_order.describe()
    )];
    if settings.verdict_order == Order::Arrival {
        lines.push(
            "  (each verdict depended on which runs had got there first, which the database does not hold: \
             only the verdicts are shown)"
                .into(),
        );
    }
    let stored: Vec<(u64, f64, Decision)> = judged
        .given
        .iter()
        .filter(|v| v.run == run)
        .map(|v| (v.step, v.value, v.decision))
        .collect();
    let replayed = match settings.verdict_order {
        Order::Run => judge::replay((rule, settings.verdict_order, settings.metric.goal), judged, Some(run)).ok(),
        Order::Arrival => None,
    };
    let mut stored = stored;
    stored.sort_by_key(|v| v.0);
    for (step, value, decision) in stored {
        let made = replayed.as_ref().and_then(|r| r.bases.get(&step));
        let head = format!("  step {step}, val {}:", significant(value, 5));
        match made {
            Some(made) if made.last().is_some_and(|(again, _)| *again == decision) => {
                for (i, (made, basis)) in made.iter().enumerate() {
                    let head = if i == 0 { head.clone() } else { "    then".to_string() };
                    lines.push(format!("{head} {} — {}", made.as_str(), because(basis, run)));
                }
            }
            Some(_) => lines.push(format!(
                "{head} {} — made again from the stored curves it differs (`harness replay {} --verify`)",
                decision.as_str(),
                sweep.name
            )),
            None => lines.push(format!("{head} {}", decision.as_str())),
        }
    }
    Ok(lines)
}

/// Why: the comparison the verdict was made from.
fn because(basis: &Basis, run: RunId) -> String {
    match basis {
        Basis::Unjudged => "not judged here".into(),
        Basis::Rung {
            evaluations,
            ranked,
            may_go_on,
            gone_on,
        } => {
            let place = 1 + ranked.iter().position(|(other, _)| *other == run).unwrap_or(0);
            let best: Vec<String> = ranked
                .iter()
                .take(5)
                .map(|(other, value)| format!("{other} {}", significant(*value, 5)))
                .collect();
            format!(
                "{} of the {} runs at the rung of {} so far (best: {}); the best {may_go_on} may go on, {gone_on} had",
                nth(place),
                ranked.len(),
                evaluations_text(*evaluations),
                best.join(", ")
            )
        }
        Basis::Promoted {
            evaluations,
            by,
            place,
            ranked,
            may_go_on,
        } => format!(
            "promoted when run {by} reached the rung of {}: {} of {ranked}, the best {may_go_on} may go on",
            evaluations_text(*evaluations),
            nth(*place)
        ),
        Basis::SentOn { evaluations } => format!(
            "no run had trained to its end: the best run paused at the highest rung reached ({}) goes on to \
             its budget",
            evaluations_text(*evaluations)
        ),
        Basis::SweepEnded => "the sweep ended while it was paused: it stops at its rung".into(),
        Basis::Band {
            band,
            value,
            threshold,
            runs,
        } => format!(
            "{} against the threshold {} of the band at {} (over the {runs} runs up to it there)",
            significant(*value, 5),
            significant(*threshold, 5),
            evaluations_text(*band)
        ),
        Basis::Median {
            evaluations,
            best,
            median,
            earlier,
            needed,
        } => match median {
            Some(median) if earlier >= needed => format!(
                "best so far {} against the median {} of the {earlier} earlier runs at evaluation {evaluations}",
                significant(*best, 5),
                significant(*median, 5)
            ),
            _ => format!("{earlier} earlier runs reached evaluation {evaluations}; {needed} are needed to judge"),
        },
    }
}

/// `1 evaluation`, `6 evaluations`.
fn evaluations_text(n: usize) -> String {
    format!("{n} evaluation{}", if n == 1 { "" } else { "s" })
}

/// 1st, 2nd, 3rd, 4th…
fn nth(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}
