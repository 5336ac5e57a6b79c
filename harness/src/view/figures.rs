//! The curve figures of a report, from a sweep's runs and curves: training loss (smoothed
//! as in the lecture) and validation loss; and the configurations they are drawn by. Runs
//! that differ only in their seed are one configuration: one colour, a mean curve with a
//! min–max band. A sweep of more configurations than the palette has colours draws its best
//! in colour and the rest as one faint band (median and 10–90% of their curves), so 10,000
//! runs stay readable. `final_losses` draws the final losses by the same configurations.

use std::path::{Path, PathBuf};

use results::plot::{self, Chart, Ink, Series};
use results::summary::{self, Config};
use results::{RunRecord, RunStatus, Split, Store};

use crate::spec::Metric;
use crate::view::labels;

/// How many configurations are drawn in colour (the palette's distinct colours); the rest
/// of a larger sweep are drawn faint.
const COLOURED: usize = 10;
/// The quantiles of the faint configurations' curves that bound their band.
const FAINT_BAND: (f64, f64) = (0.1, 0.9);

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

/// A configuration: its runs (the seeds), label and ink.
pub struct Group<'a> {
    pub label: String,
    pub ink: Ink,
    pub runs: Vec<&'a RunRecord>,
    pub config: &'a Config,
}

/// The runs grouped into configurations, labelled by their variant and the values that
/// vary between the configurations of that variant (the seed left out). Each has its own
/// colour, in first-seen order; of more than `COLOURED`, the best `COLOURED` by `metric`
/// (the mean over their seeds) have one each, best first, and the rest are faint.
pub fn groups<'a>(runs: &'a [RunRecord], configs: &'a [Config], metric: &Metric) -> Vec<Group<'a>> {
    let keyed: Vec<(&str, Option<&str>, &Config)> = runs
        .iter()
        .zip(configs)
        .map(|(r, c)| (r.sweep_name.as_str(), r.variant.as_deref(), c))
        .collect();
    let labels = labels::labels_without(runs, configs, &["seed"]);
    let mut groups: Vec<Group> = summary::replicate_groups(&keyed)
        .into_iter()
        .enumerate()
        .map(|(index, members)| {
            let label = &labels[members[0]];
            Group {
                label: if label.is_empty() {
                    "all runs".into()
                } else {
                    label.clone()
                },
                ink: Ink::Palette(index),
                runs: members.iter().map(|&i| &runs[i]).collect(),
                config: &configs[members[0]],
            }
        })
        .collect();
    if groups.len() > COLOURED {
        let mut ranked: Vec<(usize, f64)> = groups
            .iter()
            .enumerate()
            .map(|(i, group)| {
                let values: Vec<f64> = group.runs.iter().filter_map(|r| metric.loss.of(r)).collect();
                let mean = summary::spread(&values).map(|s| metric.goal.minimized(s.mean));
                (i, mean.filter(|m| !m.is_nan()).unwrap_or(f64::INFINITY))
            })
            .collect();
        ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
        groups.iter_mut().for_each(|group| group.ink = Ink::Faint);
        for (rank, &(i, _)) in ranked.iter().take(COLOURED).enumerate() {
            groups[i].ink = Ink::Palette(rank);
        }
    }
    groups
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
    Ok(figures)
}

/// One series per coloured configuration: its run's curve, or the mean of its runs with a
/// band; first, beneath them, one faint series for all the faint configurations' runs.
fn curves(store: &Store, groups: &[Group], split: Split, options: &Options) -> anyhow::Result<Vec<Series>> {
    let mut series = Vec::new();
    let mut faint = Faint::default();
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
        if group.ink == Ink::Faint {
            faint.curves.extend(members);
            faint.seconds_per_step.extend(seconds_per_step);
            continue;
        }
        let scale = x_scale(options.x, &seconds_per_step);
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
            ink: group.ink,
            points,
            dots: false,
            band,
            stops: stopped_ends.into_iter().map(|(s, l)| (x(s), l)).collect(),
        });
    }
    if !faint.curves.is_empty() {
        let configurations = groups.iter().filter(|g| g.ink == Ink::Faint).count();
        series.push(faint.series(options.x, configurations));
    }
    // The faint series beneath, then the coloured ones, best first in the legend.
    series.sort_by_key(|s| drawing_order(s.ink));
    Ok(series)
}

/// The curves of the configurations drawn faint, gathered for one band.
#[derive(Default)]
struct Faint {
    curves: Vec<Vec<(u64, f64)>>,
    seconds_per_step: Vec<f64>,
}

impl Faint {
    /// Their median curve and 10–90% band, step by step, labelled for the `configurations`
    /// drawn faint. On a time axis every point is placed at their mean pace: runs of
    /// different speeds share a band by step, not by second.
    fn series(&self, x_axis: XAxis, configurations: usize) -> Series {
        let scale = x_scale(x_axis, &self.seconds_per_step);
        let (low, high) = FAINT_BAND;
        let band = summary::quantile_band(&self.curves, low, high);
        Series {
            label: format!(
                "{}: median, {:.0}–{:.0}%",
                faint_label(configurations),
                100.0 * low,
                100.0 * high
            ),
            ink: Ink::Faint,
            points: band.iter().map(|b| (b.step as f64 * scale, b.median)).collect(),
            dots: false,
            band: band.iter().map(|b| (b.step as f64 * scale, b.low, b.high)).collect(),
            stops: Vec::new(),
        }
    }
}

/// What the legend calls the `n` configurations drawn faint.
pub fn faint_label(n: usize) -> String {
    format!("the other {n} configurations")
}

/// Faint first (beneath the others), then by palette index: of a large sweep, best first.
pub fn drawing_order(ink: Ink) -> usize {
    match ink {
        Ink::Faint => 0,
        Ink::Palette(index) => index + 1,
    }
}

/// Seconds per step on a time axis (the mean pace of the runs), else 1.
fn x_scale(x_axis: XAxis, seconds_per_step: &[f64]) -> f64 {
    match x_axis {
        XAxis::Step => 1.0,
        XAxis::Time => summary::spread(seconds_per_step).map_or(1.0, |s| s.mean),
    }
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

pub fn seeds_label(group: &Group) -> String {
    match group.runs.len() {
        1 => group.label.clone(),
        n => format!("{} ({n} seeds)", group.label),
    }
}

/// Where a report goes by default: `report-<sweep>` in the working directory.
pub fn default_dir(sweep: &str) -> PathBuf {
    PathBuf::from(format!("report-{sweep}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Goal;
    use crate::view::test_run;

    #[test]
    fn a_large_sweep_colours_its_best_configurations_and_draws_the_rest_faint() {
        // 12 configurations (lr) × 2 seeds; configuration k's mean val loss is 2 + |k − 5| / 10.
        let runs: Vec<RunRecord> = (0..24)
            .map(|i| {
                let (k, seed) = (i / 2, i % 2);
                let val = 2.0 + (k as f64 - 5.0).abs() / 10.0 + 0.01 * seed as f64;
                let config = format!(r#"{{"lr": {}, "seed": {seed}}}"#, 0.01 * (k + 1) as f64);
                test_run(i as i64 + 1, RunStatus::Completed, Some(val), &config)
            })
            .collect();
        let configs = labels::configs(&runs).unwrap();
        let inks = |metric: &Metric| -> Vec<Ink> { groups(&runs, &configs, metric).iter().map(|g| g.ink).collect() };
        let minimize = inks(&Metric::default());
        assert_eq!(minimize.len(), 12, "one group per configuration");
        // Best first: k = 5, then 4 and 6 (a tie, kept in the groups' order), 3 and 7, …
        let rank_of = |k: usize| match minimize[k] {
            Ink::Palette(rank) => Some(rank),
            Ink::Faint => None,
        };
        assert_eq!(
            (rank_of(5), rank_of(4), rank_of(6), rank_of(0)),
            (Some(0), Some(1), Some(2), Some(9))
        );
        assert_eq!((rank_of(10), rank_of(11)), (None, None), "the two worst are faint");
        let maximize = inks(&Metric {
            goal: Goal::Maximize,
            ..Metric::default()
        });
        assert_eq!((maximize[11], maximize[5]), (Ink::Palette(0), Ink::Faint));
        // Ten configurations or fewer: each its own colour, in order.
        let few = groups(&runs[..20], &configs[..20], &Metric::default());
        assert!(few.iter().enumerate().all(|(i, g)| g.ink == Ink::Palette(i)));
    }

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
