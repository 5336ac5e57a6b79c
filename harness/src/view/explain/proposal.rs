//! How a run came to be, for `explain`: listed by the sweep file, drawn at random at launch,
//! or proposed by `bayes` — then which runs TPE learned from and which it counted as still
//! training, its good runs, and per parameter the proposed value's
//! score log l(x) − log g(x) against the other candidates, all drawn again from the stored
//! results (`Search::again`, as `replay --verify` does) and checked against the stored values.

use results::{RunId, RunRecord};

use super::nth;
use crate::session::proposer::search::{Drawn, Learned, Search};
use crate::spec::{Method, tpe};
use crate::view::table::{self, significant};

/// The lines that say how `run`, of the sweep whose runs are `all`, came to be: `search` for
/// a `bayes` one, else how its runs were planned (`None`: a run of `harness train`).
pub fn origin(
    run: &RunRecord,
    all: &[RunRecord],
    (method, search): (Option<Method>, Option<&Search>),
    sweep: &str,
) -> Vec<String> {
    let index = all.iter().position(|other| other.id == run.id).unwrap_or(0);
    let Some(search) = search else {
        return vec![match method {
            Some(Method::Random) => format!(
                "planned: the {} of the {} random draws the sweep file asked for, drawn at launch",
                nth(index + 1),
                all.len()
            ),
            Some(_) => format!("planned: run {} of the {} the sweep file lists", index + 1, all.len()),
            None => "planned: a run of `harness train`".to_string(),
        }];
    };
    if !search.proposes(index) {
        return vec![format!(
            "proposed: a random draw planned at launch, the {} of the search's first {}",
            nth(index + 1),
            search.startup()
        )];
    }
    let at_random = search.drawn_at_random(index);
    let mut lines = vec![if at_random {
        format!(
            "proposed: at random (run {} of the search), as `random_fraction` ({}) of TPE's turns are",
            index + 1,
            search.bayes.random_fraction
        )
    } else {
        let lag = search.bayes.proposal_lag;
        let known = index.saturating_sub(lag);
        format!(
            "proposed: by TPE (run {} of the search), from the results of {} and counting {} as still training \
             (proposal_lag {lag})",
            index + 1,
            ids(&search.ids(0..known)),
            ids(&search.ids(known..index)),
        )
    }];
    match search.again(index) {
        Some((learned, drawn)) => {
            if !at_random {
                lines.push(learned_from(search, &learned));
            }
            lines.extend(drawn_values(search, &drawn, at_random));
            lines.push(if drawn.values() == search.values(index) {
                "  drawn again from the stored results: the same values".to_string()
            } else {
                format!(
                    "  drawn again from the stored results it differs ({}; `harness replay {sweep} --verify`)",
                    search.label(&drawn.values())
                )
            });
        }
        None => lines.push("  (a result it learned from is not stored: it cannot be drawn again)".into()),
    }
    lines
}

/// `runs 1–9`, `run 4`, `no run`.
fn ids(ids: &[RunId]) -> String {
    match (ids.first(), ids.last()) {
        (Some(first), Some(last)) if first != last => format!("runs {first}–{last}"),
        (Some(only), _) => format!("run {only}"),
        _ => "no run".to_string(),
    }
}

/// The runs that made TPE's good density, best first, as TPE chose them (`tpe::good`).
fn learned_from(search: &Search, learned: &Learned) -> String {
    let results: Vec<Option<f64>> = learned.iter().map(|(_, result)| *result).collect();
    let known = results.iter().flatten().count();
    let good: Vec<String> = tpe::good(&results)
        .into_iter()
        .map(|i| {
            // As the metric reads it (results are minimized: a maximized metric's negated).
            let value = search.metric_value(results[i].unwrap_or(f64::INFINITY));
            format!("run {} {}", search.id(i), significant(value, 5))
        })
        .collect();
    format!(
        "  its good runs (the best {} of {known}, the density l): {}",
        good.len(),
        good.join(", ")
    )
}

/// Each varied parameter's value and, for TPE's draw, its score against the other candidates;
/// `at_random`: the run was one of `random_fraction`'s.
fn drawn_values(search: &Search, drawn: &Drawn, at_random: bool) -> Vec<String> {
    let mut lines = Vec::new();
    if drawn.attempt > 0 {
        let first = if at_random { "the random draw" } else { "TPE's draw" };
        lines.push(format!(
            "  {first} repeated an earlier run's values: drawn at random instead (draw {})",
            drawn.attempt + 1
        ));
    }
    for (key, scored) in search.bayes.planner.varied(&drawn.scored) {
        let value = table::cell(Some(&scored.value.to_json()));
        if scored.scores.is_empty() {
            lines.push(format!("  {key} = {value}"));
            continue;
        }
        let mut scores = scored.scores.clone();
        scores.sort_by(f64::total_cmp);
        let chosen = scores[scores.len() - 1];
        lines.push(format!(
            "  {key} = {value}: log l(x) − log g(x) = {}, the highest of {} candidates (median {}, lowest {})",
            significant(chosen, 3),
            scores.len(),
            significant(scores[scores.len() / 2], 3),
            significant(scores[0], 3)
        ));
    }
    lines
}
