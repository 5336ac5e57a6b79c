//! The figures of a report, from a sweep's runs and curves: training loss (smoothed as in
//! the lecture), validation loss, and the final validation loss against each varied
//! parameter and per configuration. Runs that differ only in their seed are one
//! configuration: one colour, a mean curve with a min–max band, an error bar.

use std::path::{Path, PathBuf};

use results::plot::{self, Bar, Chart, Series};
use results::summary::{self, Config};
use results::{RunRecord, RunStatus, Split, Store};

use crate::view::labels;

/// How the x axis of curves is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum XAxis {
    Step,
    /// Training seconds, from the runs' steps/s (evaluation time left out); runs still
    /// training have no steps/s yet and are left out.
    Time,
}

pub struct Options {
    pub smooth: u64,
    pub log_y: bool,
    pub x: XAxis,
}

/// A configuration: its runs (the seeds), label and colour.
pub struct Group<'a> {
    pub label: String,
    pub color: usize,
    pub runs: Vec<&'a RunRecord>,
    pub config: &'a Config,
}

/// The runs grouped into configurations, labelled by their variant and the values that
/// vary between the configurations of that variant (the seed left out).
pub fn groups<'a>(runs: &'a [RunRecord], configs: &'a [Config]) -> Vec<Group<'a>> {
    let keyed: Vec<(&str, Option<&str>, &Config)> = runs
        .iter()
        .zip(configs)
        .map(|(r, c)| (r.sweep_name.as_str(), r.variant.as_deref(), c))
        .collect();
    let labels = labels::labels_without(runs, configs, &["seed"]);
    summary::replicate_groups(&keyed)
        .into_iter()
        .enumerate()
        .map(|(color, members)| {
            let label = &labels[members[0]];
            Group {
                label: if label.is_empty() {
                    "all runs".into()
                } else {
                    label.clone()
                },
                color,
                runs: members.iter().map(|&i| &runs[i]).collect(),
                config: &configs[members[0]],
            }
        })
        .collect()
}

/// Draws every figure into `dir`; returns (file name, caption) of each.
pub fn draw(
    store: &Store,
    sweep: &str,
    groups: &[Group],
    options: &Options,
    dir: &Path,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut figures = Vec::new();
    let (x_label, against) = match options.x {
        XAxis::Step => ("step", ""),
        XAxis::Time => ("training time (s)", " against training time"),
    };
    let any_stopped = groups
        .iter()
        .flat_map(|g| &g.runs)
        .any(|run| run.status == RunStatus::Stopped);
    let stops = if any_stopped {
        "; × where a run was stopped early"
    } else {
        ""
    };
    for (split, file, title, y_label) in [
        (
            Split::Train,
            "train.png",
            format!(
                "{sweep}: training loss{against} (geometric mean per {} steps){stops}",
                options.smooth
            ),
            "train loss",
        ),
        (
            Split::Val,
            "val.png",
            format!("{sweep}: validation loss{against}, from the first evaluation after step 0{stops}"),
            "val loss",
        ),
    ] {
        let series = curves(store, groups, split, options)?;
        if series.iter().all(|s| s.points.is_empty()) {
            continue;
        }
        let chart = Chart {
            title: &title,
            x_label,
            y_label,
            log_x: false,
            log_y: options.log_y,
            x_names: None,
        };
        plot::lines(&dir.join(file), &chart, &series)?;
        figures.push((file.to_string(), title));
    }
    figures.extend(final_losses(sweep, groups, options, dir)?);
    Ok(figures)
}

/// One series per configuration: its run's curve, or the mean of its runs with a band.
fn curves(store: &Store, groups: &[Group], split: Split, options: &Options) -> anyhow::Result<Vec<Series>> {
    let mut series = Vec::new();
    for group in groups {
        let mut members: Vec<Vec<(u64, f64)>> = Vec::new();
        let mut seconds_per_step = Vec::new();
        // The last point of each member stopped early.
        let mut stopped_ends = Vec::new();
        for run in &group.runs {
            let curve = store.curve(run.id, split)?;
            let pace = run.steps_per_sec.filter(|r| *r > 0.0).map(|r| 1.0 / r);
            // On a time axis a run without a measured pace (still training) has no place.
            if curve.is_empty() || (options.x == XAxis::Time && pace.is_none()) {
                continue;
            }
            let member = match split {
                Split::Train => summary::smooth(&curve, options.smooth),
                Split::Val => after_step_zero(curve),
            };
            if run.status == RunStatus::Stopped {
                stopped_ends.extend(member.last().copied());
            }
            members.push(member);
            seconds_per_step.extend(pace);
        }
        if members.is_empty() {
            continue;
        }
        let scale = match options.x {
            XAxis::Step => 1.0,
            XAxis::Time => summary::spread(&seconds_per_step).map_or(1.0, |s| s.mean),
        };
        let x = |step: u64| step as f64 * scale;
        let (points, band) = if members.len() == 1 {
            (members[0].iter().map(|&(s, l)| (x(s), l)).collect(), Vec::new())
        } else {
            let band = summary::band(&members);
            (
                band.iter().map(|b| (x(b.step), b.mean)).collect(),
                band.iter().map(|b| (x(b.step), b.min, b.max)).collect(),
            )
        };
        series.push(Series {
            label: seeds_label(group),
            color: group.color,
            points,
            dots: false,
            band,
            stops: stopped_ends.into_iter().map(|(s, l)| (x(s), l)).collect(),
        });
    }
    Ok(series)
}

/// A validation curve without its step-0 point (the untrained model, ≈ ln of the
/// vocabulary), which would otherwise set the y range and squeeze the differences that
/// matter into the bottom of the plot; kept while it is the only point.
fn after_step_zero(curve: Vec<(u64, f64)>) -> Vec<(u64, f64)> {
    match curve.as_slice() {
        [(0, _), _, ..] => curve[1..].to_vec(),
        _ => curve,
    }
}

fn seeds_label(group: &Group) -> String {
    match group.runs.len() {
        1 => group.label.clone(),
        n => format!("{} ({n} seeds)", group.label),
    }
}

/// Final val loss per configuration, and against each numeric parameter that varies.
fn final_losses(sweep: &str, groups: &[Group], options: &Options, dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut figures = Vec::new();
    let bar = |group: &Group, x: f64| {
        let values: Vec<f64> = group.runs.iter().filter_map(|r| r.val_loss).collect();
        summary::spread(&values).map(|s| Bar {
            label: seeds_label(group),
            color: group.color,
            x,
            mean: s.mean,
            low: s.min,
            high: s.max,
        })
    };
    // Best first, each configuration named on the axis under its bar.
    let mut ranked: Vec<Bar> = groups.iter().filter_map(|g| bar(g, 0.0)).collect();
    if ranked.is_empty() {
        return Ok(figures);
    }
    ranked.sort_by(|a, b| a.mean.total_cmp(&b.mean));
    for (rank, bar) in ranked.iter_mut().enumerate() {
        bar.x = (rank + 1) as f64;
    }
    let names: Vec<String> = ranked.iter().map(|b| b.label.clone()).collect();
    let title = format!("{sweep}: final validation loss per configuration (min–max over seeds)");
    let chart = Chart {
        title: &title,
        x_label: "configuration, best first",
        y_label: "final val loss",
        log_x: false,
        log_y: options.log_y,
        x_names: Some(&names),
    };
    plot::error_bars(&dir.join("final-val.png"), &chart, &ranked)?;
    figures.push(("final-val.png".to_string(), title));
    let configs: Vec<&Config> = groups.iter().map(|g| g.config).collect();
    for key in labels::varied_settings(configs.iter().copied()) {
        let numeric: Option<Vec<f64>> = configs.iter().map(|c| c.get(&key).and_then(|v| v.as_f64())).collect();
        let Some(xs) = numeric.filter(|_| key != "seed") else {
            continue;
        };
        let bars: Vec<Bar> = groups.iter().zip(&xs).filter_map(|(g, &x)| bar(g, x)).collect();
        let log_x = key.starts_with("lr") && key != "lr_decay_at" && xs.iter().all(|x| *x > 0.0);
        let title = format!("{sweep}: final validation loss against {key}");
        let chart = Chart {
            title: &title,
            x_label: &key,
            y_label: "final val loss",
            log_x,
            log_y: options.log_y,
            x_names: None,
        };
        let file = format!("final-val-{key}.png");
        plot::error_bars(&dir.join(&file), &chart, &bars)?;
        figures.push((file, title));
    }
    Ok(figures)
}

/// Where a report goes by default: `report-<sweep>` in the working directory.
pub fn default_dir(sweep: &str) -> PathBuf {
    PathBuf::from(format!("report-{sweep}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_validation_plot_starts_after_step_zero_unless_nothing_else_is_there() {
        assert_eq!(
            after_step_zero(vec![(0, 3.3), (100, 2.5), (200, 2.4)]),
            [(100, 2.5), (200, 2.4)]
        );
        assert_eq!(after_step_zero(vec![(0, 3.3)]), [(0, 3.3)]);
        assert_eq!(after_step_zero(vec![(100, 2.5)]), [(100, 2.5)]);
    }
}
