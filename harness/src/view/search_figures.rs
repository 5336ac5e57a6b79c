//! The figures of a search, beside the loss plots of `figures`: the optimization history
//! (each run's metric and the best so far, against run number and against time since the
//! sweep began, as Optuna draws it), the parallel coordinates of the varied parameters
//! against the metric (W&B's), and the table of early-termination verdicts each run got.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::Path;

use results::parallel_coords::{self, Axis, AxisValue};
use results::plot::{self, Chart, Ink, Series};
use results::summary::Config;
use results::{Decision, RunId, RunRecord, Store, SweepId, VerdictRecord};

use crate::spec::{Goal, Metric};
use crate::view::labels;

/// Draws the search figures into `dir`; returns (file name, caption) of each. Nothing for
/// fewer than two runs with a result.
pub fn draw(
    store: &Store,
    sweep: (SweepId, &str),
    runs: &[RunRecord],
    configs: &[Config],
    metric: &Metric,
    dir: &Path,
) -> anyhow::Result<Vec<(String, String)>> {
    let (sweep_id, name) = sweep;
    let scored: Vec<(usize, f64)> = runs
        .iter()
        .enumerate()
        .filter_map(|(i, run)| Some((i, metric.loss.of(run)?)))
        .filter(|(_, value)| value.is_finite())
        .collect();
    if scored.len() < 2 {
        return Ok(Vec::new());
    }
    let mut figures = Vec::new();
    let by_number: Vec<(f64, f64)> = scored.iter().map(|&(i, v)| ((i + 1) as f64, v)).collect();
    let finished: HashMap<RunId, f64> = store.finish_seconds(sweep_id)?.into_iter().collect();
    let minutes = |run: RunId| finished.get(&run).map(|s| s / 60.0);
    let mut by_time: Vec<(f64, f64)> = scored
        .iter()
        .filter_map(|&(i, v)| Some((minutes(runs[i].id)?, v)))
        .collect();
    by_time.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (file, x_label, points) in [
        ("history.png", "run", by_number),
        ("history-time.png", "minutes since the sweep began", by_time),
    ] {
        if points.len() < 2 {
            continue;
        }
        let title = format!("{name}: {} of each run, and the best so far", metric.loss);
        let chart = Chart {
            title: &title,
            x_label,
            y_label: metric.loss.column(),
            log_x: false,
            log_y: false,
            x_names: None,
        };
        plot::lines(&dir.join(file), &chart, &history(&points, metric.goal))?;
        figures.push((file.to_string(), format!("{title} (against {x_label})")));
    }
    let axes = parameter_axes(scored.iter().map(|&(i, _)| &configs[i]));
    if !axes.is_empty() {
        let values: Vec<f64> = scored.iter().map(|&(_, v)| v).collect();
        let title = format!("{name}: parameters of each run against its {}", metric.loss);
        let file = "parallel.png";
        let minimize = metric.goal == Goal::Minimize;
        parallel_coords::parallel_coordinates(
            &dir.join(file),
            &title,
            &axes,
            (metric.loss.column(), &values),
            minimize,
        )?;
        figures.push((file.to_string(), title));
    }
    Ok(figures)
}

/// Each run's value as dots, and the best so far as a line of steps.
fn history(points: &[(f64, f64)], goal: Goal) -> Vec<Series> {
    let better = |a: f64, b: f64| if goal == Goal::Maximize { a.max(b) } else { a.min(b) };
    let mut best: Vec<(f64, f64)> = Vec::with_capacity(2 * points.len());
    for &(x, value) in points {
        if let Some(&(_, so_far)) = best.last() {
            best.push((x, so_far));
            best.push((x, better(so_far, value)));
        } else {
            best.push((x, value));
        }
    }
    let series = |label: &str, color, points, dots| Series {
        label: label.into(),
        ink: Ink::Palette(color),
        points,
        dots,
        band: Vec::new(),
        stops: Vec::new(),
    };
    vec![
        series("each run", 0, points.to_vec(), true),
        series("best so far", 3, best, false),
    ]
}

/// One axis per varied setting (the seed left out), numbers or categories.
fn parameter_axes<'a>(configs: impl Iterator<Item = &'a Config> + Clone) -> Vec<Axis> {
    labels::varied_settings(configs.clone())
        .into_iter()
        .filter(|key| key != "seed")
        .map(|key| {
            let values: Vec<AxisValue> = configs
                .clone()
                .map(|config| match config.get(&key) {
                    Some(value) => match value.as_f64() {
                        Some(x) => AxisValue::Number(x),
                        None => AxisValue::Category(value.to_string().trim_matches('"').to_string()),
                    },
                    None => AxisValue::Category("-".into()),
                })
                .collect();
            let positive = values.iter().all(|v| matches!(v, AxisValue::Number(x) if *x > 0.0));
            let log = key.starts_with("lr") && key != "lr_decay_at" && positive;
            Axis { name: key, values, log }
        })
        .collect()
}

/// The "Early termination" section of report.md lists at most this many runs.
const JUDGED_LISTED: usize = 50;

/// The "Early termination" section of report.md: each judged run's verdicts, by step.
pub fn verdicts_section(store: &Store, sweep: SweepId, runs: &[RunRecord]) -> anyhow::Result<String> {
    let verdicts = store.sweep_verdicts(sweep)?;
    let mut md = String::new();
    if verdicts.is_empty() {
        return Ok(md);
    }
    md.push_str("## Early termination\n\nThe verdict on each judged evaluation (step: verdict).\n\n");
    md.push_str("| run | status | verdicts |\n|---|---|---|\n");
    let mut by_run: HashMap<RunId, Vec<&VerdictRecord>> = HashMap::new();
    for verdict in &verdicts {
        by_run.entry(verdict.run).or_default().push(verdict);
    }
    let judged: Vec<(&RunRecord, &Vec<&VerdictRecord>)> = runs
        .iter()
        .filter_map(|run| Some((run, by_run.get(&run.id)?)))
        .collect();
    for (run, verdicts) in judged.iter().take(JUDGED_LISTED) {
        let mine: Vec<String> = verdicts
            .iter()
            .map(|v| {
                let word = match v.decision {
                    Decision::Continue => "went on",
                    Decision::Stop => "stopped",
                    Decision::Pause => "paused",
                };
                format!("{}: {word}", v.step)
            })
            .collect();
        let _ = writeln!(md, "| {} | {} | {} |", run.id, run.status, mine.join(", "));
    }
    if judged.len() > JUDGED_LISTED {
        let _ = writeln!(md, "\nThe first {JUDGED_LISTED} of {} judged runs.", judged.len());
    }
    md.push('\n');
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_so_far_only_improves_in_the_goal_s_direction() {
        let points = [(1.0, 2.0), (2.0, 2.5), (3.0, 1.8)];
        let best = |goal| history(&points, goal)[1].points.clone();
        // Steps: level until the next run, then down (or up) to its value if better.
        assert_eq!(
            best(Goal::Minimize),
            [(1.0, 2.0), (2.0, 2.0), (2.0, 2.0), (3.0, 2.0), (3.0, 1.8)]
        );
        assert_eq!(
            best(Goal::Maximize),
            [(1.0, 2.0), (2.0, 2.0), (2.0, 2.5), (3.0, 2.5), (3.0, 2.5)]
        );
    }
}
