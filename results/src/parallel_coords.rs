//! The parallel-coordinates figure of a search (W&B's signature plot): one vertical axis per
//! parameter and a last one for the metric, each run a line across them, coloured by its
//! metric from dark (best) to light (worst); many runs translucent, the best opaque on top.
//! Each axis spans its own values (log where asked); a categorical axis spaces its
//! categories evenly.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::plot::{FONT, HEIGHT, PlotError, WIDTH, draw_error, font};

/// Up to this many runs every line is opaque; past it they are drawn translucent (down to
/// `FAINTEST`), so their overlap shows where runs crowd, and the best `HIGHLIGHTED` opaque
/// on top.
const OPAQUE_UP_TO: usize = 50;
const FAINTEST: f64 = 0.04;
const HIGHLIGHTED: usize = 10;

/// One vertical axis: its name and each run's value on it.
pub struct Axis {
    pub name: String,
    pub values: Vec<AxisValue>,
    /// Spaced by powers of ten (learning rates).
    pub log: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AxisValue {
    Number(f64),
    Category(String),
}

/// Draws the runs (`metric[i]` and each axis's `values[i]`) into a PNG at `path`; lower
/// metric values are better when `minimize`.
pub fn parallel_coordinates(
    path: &Path,
    title: &str,
    axes: &[Axis],
    metric: (&str, &[f64]),
    minimize: bool,
) -> Result<(), PlotError> {
    font()?;
    let (metric_name, metric_values) = metric;
    if metric_values.is_empty() || axes.is_empty() {
        return Err(PlotError::Empty);
    }
    let mut all: Vec<Scale> = axes.iter().map(Scale::of).collect();
    all.push(Scale::of(&Axis {
        name: metric_name.to_string(),
        values: metric_values.iter().map(|v| AxisValue::Number(*v)).collect(),
        log: false,
    }));
    let last = (all.len() - 1) as f64;
    let root = BitMapBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| draw_error(path, e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 30))
        .margin(40)
        .build_cartesian_2d(-0.15..last + 0.15, -0.12..1.1)
        .map_err(|e| draw_error(path, e))?;
    let (best, worst) = bounds(metric_values, minimize);
    // Worst first, so the best lines lie on top.
    let mut order: Vec<usize> = (0..metric_values.len()).collect();
    order.sort_by(|&a, &b| shade(metric_values[b], best, worst).total_cmp(&shade(metric_values[a], best, worst)));
    let opacity = (OPAQUE_UP_TO as f64 / order.len() as f64).clamp(FAINTEST, 1.0);
    let highlighted = order.len().saturating_sub(HIGHLIGHTED);
    for (rank, run) in order.into_iter().enumerate() {
        let points: Vec<(f64, f64)> = all
            .iter()
            .enumerate()
            .map(|(i, scale)| (i as f64, scale.position(run)))
            .collect();
        let colour = gradient(shade(metric_values[run], best, worst));
        let style = if rank >= highlighted {
            colour.stroke_width(2)
        } else {
            colour.mix(opacity).stroke_width(if opacity < 1.0 { 1 } else { 2 })
        };
        chart
            .draw_series(LineSeries::new(points, style))
            .map_err(|e| draw_error(path, e))?;
    }
    let name_style = TextStyle::from((FONT, 20).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    let tick_style = TextStyle::from((FONT, 16).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, scale) in all.iter().enumerate() {
        let x = i as f64;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x, 0.0), (x, 1.0)],
                BLACK.stroke_width(2),
            )))
            .map_err(|e| draw_error(path, e))?;
        let mut labels = vec![(x, -0.04, scale.name.clone(), &name_style)];
        labels.extend(
            scale
                .marks
                .iter()
                .map(|(position, text)| (x + 0.02, *position, text.clone(), &tick_style)),
        );
        for (x, y, text, style) in labels {
            chart
                .draw_series(std::iter::once(Text::new(text, (x, y), style.clone())))
                .map_err(|e| draw_error(path, e))?;
        }
    }
    root.present().map_err(|e| draw_error(path, e))
}

/// An axis placed on [0, 1].
struct Scale {
    name: String,
    /// Each run's position.
    positions: Vec<f64>,
    /// (position, label) of the marks beside the axis.
    marks: Vec<(f64, String)>,
}

impl Scale {
    fn of(axis: &Axis) -> Self {
        let mut categories: Vec<&str> = axis
            .values
            .iter()
            .filter_map(|v| match v {
                AxisValue::Category(c) => Some(c.as_str()),
                AxisValue::Number(_) => None,
            })
            .collect();
        categories.sort_unstable();
        categories.dedup();
        let numbers: Vec<f64> = axis
            .values
            .iter()
            .filter_map(|v| match v {
                AxisValue::Number(x) if x.is_finite() && (!axis.log || *x > 0.0) => {
                    Some(if axis.log { x.log10() } else { *x })
                }
                _ => None,
            })
            .collect();
        let (low, high) = numbers.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
        let span = if high > low { high - low } else { 1.0 };
        let spot = |i: usize| {
            if categories.len() > 1 {
                i as f64 / (categories.len() - 1) as f64
            } else {
                0.5
            }
        };
        let positions = axis
            .values
            .iter()
            .map(|value| match value {
                AxisValue::Category(c) => spot(categories.binary_search(&c.as_str()).unwrap_or(0)),
                AxisValue::Number(x) if x.is_finite() && (!axis.log || *x > 0.0) => {
                    let v = if axis.log { x.log10() } else { *x };
                    if high > low { (v - low) / span } else { 0.5 }
                }
                // Not a number here (NaN, or ≤ 0 on a log axis): below the axis.
                AxisValue::Number(_) => -0.08,
            })
            .collect();
        let number = |v: f64| format_number(if axis.log { 10f64.powf(v) } else { v });
        let marks = if categories.is_empty() {
            match (low.is_finite(), high > low) {
                (true, true) => vec![(0.0, number(low)), (1.0, number(high))],
                (true, false) => vec![(0.5, number(low))],
                _ => Vec::new(),
            }
        } else {
            categories
                .iter()
                .enumerate()
                .map(|(i, c)| (spot(i), c.to_string()))
                .collect()
        };
        Self {
            name: axis.name.clone(),
            positions,
            marks,
        }
    }

    fn position(&self, run: usize) -> f64 {
        self.positions[run]
    }
}

/// Four significant digits, without trailing zeros.
fn format_number(x: f64) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    if x.abs() < 1e-3 || x.abs() >= 1e5 {
        let text = format!("{x:.3e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
        return format!("{mantissa}e{exponent}");
    }
    let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 8) as usize;
    let text = format!("{x:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// The best and worst finite metric values.
fn bounds(values: &[f64], minimize: bool) -> (f64, f64) {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if minimize { (lo, hi) } else { (hi, lo) }
}

/// 0 for the best value, 1 for the worst (and for what is not a number).
fn shade(value: f64, best: f64, worst: f64) -> f64 {
    if !value.is_finite() {
        1.0
    } else if worst == best {
        0.0
    } else {
        ((value - best) / (worst - best)).clamp(0.0, 1.0)
    }
}

/// Dark purple (best) through teal to yellow (worst), as viridis.
fn gradient(t: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 3] = [(68.0, 1.0, 84.0), (33.0, 145.0, 140.0), (253.0, 231.0, 37.0)];
    let (from, to, local) = if t < 0.5 {
        (STOPS[0], STOPS[1], t * 2.0)
    } else {
        (STOPS[1], STOPS[2], (t - 0.5) * 2.0)
    };
    let mix = |a: f64, b: f64| (a + (b - a) * local).round() as u8;
    RGBColor(mix(from.0, to.0), mix(from.1, to.1), mix(from.2, to.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_axis_spans_its_values_and_categories_are_spaced_evenly() {
        let lr = Scale::of(&Axis {
            name: "lr".into(),
            values: [0.001, 0.01, 0.1].map(AxisValue::Number).to_vec(),
            log: true,
        });
        let positions: Vec<f64> = (0..3).map(|i| (lr.position(i) * 1e9).round() / 1e9).collect();
        assert_eq!(
            positions,
            [0.0, 0.5, 1.0],
            "powers of ten are evenly spaced on a log axis"
        );
        assert_eq!(lr.marks, [(0.0, "0.001".to_string()), (1.0, "0.1".to_string())]);
        let model = Scale::of(&Axis {
            name: "model".into(),
            values: ["wavenet", "mlp", "wavenet"]
                .map(|c| AxisValue::Category(c.into()))
                .to_vec(),
            log: false,
        });
        assert_eq!((0..3).map(|i| model.position(i)).collect::<Vec<_>>(), [1.0, 0.0, 1.0]);
    }

    #[test]
    fn the_best_run_is_darkest_whichever_the_goal() {
        let (best, worst) = bounds(&[2.0, 1.5, 3.0], true);
        assert_eq!((shade(1.5, best, worst), shade(3.0, best, worst)), (0.0, 1.0));
        let (best, worst) = bounds(&[0.2, 0.9], false);
        assert_eq!(shade(0.9, best, worst), 0.0);
        assert_eq!(gradient(0.0), RGBColor(68, 1, 84));
        assert_eq!(shade(f64::NAN, best, worst), 1.0);
    }

    #[test]
    fn numbers_are_written_short() {
        assert_eq!(format_number(0.0031415), "0.003142");
        assert_eq!(format_number(128.0), "128");
        assert_eq!(format_number(2.5), "2.5");
        assert_eq!(format_number(0.00001), "1e-5");
        assert_eq!(format_number(0.000125), "1.25e-4");
        // An axis running from 0 (warmup_steps 0 against 2,000) marks it as 0, not a panic.
        assert_eq!(
            (format_number(0.0), format_number(-0.0)),
            ("0".to_string(), "0".to_string())
        );
    }
}
