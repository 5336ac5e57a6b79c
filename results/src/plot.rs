//! Loss-plot PNGs: line charts (curves, optionally with a min–max band per series) and
//! error-bar charts (a final loss against a parameter). Text is drawn in DejaVu Sans, which
//! ships in `results/assets` with its licence, so no system font is needed. A log axis is
//! drawn as log10 of the values with ticks labelled in the values' own units.

use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

pub const WIDTH: u32 = 1200;
pub const HEIGHT: u32 = 800;
pub(crate) const FONT: &str = "sans-serif";

/// Ten distinct colours (matplotlib's tab10, its grey made black: grey is `Ink::Faint`), so
/// a configuration keeps its colour in every figure of a report.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(0, 0, 0),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("nothing to plot")]
    Empty,
    #[error("the embedded font could not be loaded")]
    Font,
    #[error("cannot draw {path}: {message}")]
    Draw { path: String, message: String },
}

/// Axis titles, the figure's title, and which axes are logarithmic.
pub struct Chart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub log_x: bool,
    pub log_y: bool,
    /// The x values are whole numbers 1..=n naming these categories (configurations): one
    /// tick each, labelled with the name, written upwards.
    pub x_names: Option<&'a [String]>,
}

/// How a series or bar is drawn: in a colour of the palette, or faint grey beneath the
/// coloured ones (the many configurations of a large sweep that are not among its best).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ink {
    Palette(usize),
    Faint,
}

impl Ink {
    fn colour(self) -> RGBColor {
        match self {
            Self::Palette(index) => PALETTE[index % PALETTE.len()],
            Self::Faint => RGBColor(150, 150, 150),
        }
    }
}

/// One curve: `points` (x, y), joined by a line or drawn as `dots`, and `band`
/// (x, low, high) drawn as a shaded area; `stops` (x, y) marked with a cross: where early
/// termination stopped one of its runs.
pub struct Series {
    pub label: String,
    pub ink: Ink,
    pub points: Vec<(f64, f64)>,
    pub dots: bool,
    pub band: Vec<(f64, f64, f64)>,
    pub stops: Vec<(f64, f64)>,
}

/// One mark of an error-bar chart: `mean` with a bar from `low` to `high`.
pub struct Bar {
    pub label: String,
    pub ink: Ink,
    pub x: f64,
    pub mean: f64,
    pub low: f64,
    pub high: f64,
}

pub(crate) fn font() -> Result<(), PlotError> {
    static LOADED: OnceLock<bool> = OnceLock::new();
    let ok = *LOADED
        .get_or_init(|| register_font(FONT, FontStyle::Normal, include_bytes!("../assets/DejaVuSans.ttf")).is_ok());
    if ok { Ok(()) } else { Err(PlotError::Font) }
}

/// `value` on the axis: log10 for a log axis.
fn axis(value: f64, log: bool) -> f64 {
    if log {
        value.max(f64::MIN_POSITIVE).log10()
    } else {
        value
    }
}

/// Tick labels in the data's units, whatever the axis.
fn tick(value: f64, log: bool) -> String {
    let v = if log { 10f64.powf(value) } else { value };
    let text = if v != 0.0 && (v.abs() >= 1e7 || v.abs() < 1e-3) {
        format!("{v:.1e}")
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() < 1.0 {
        // Three significant digits: a log axis from 0.001 to 0.003 ticks 0.00126, 0.00158, …
        crate::summary::significant(v, 3)
    } else {
        format!("{v:.3}")
    };
    if text.contains('.') && !text.contains('e') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Room above the data for a legend of `entries` lines, so it never covers a curve.
fn with_legend_room(range: Range<f64>, entries: usize) -> Range<f64> {
    let height = range.end - range.start;
    range.start..range.end + height * (0.065 * entries as f64 + 0.04)
}

/// The range of `values` with 3% margin on each side (a little more when flat).
fn range(values: impl Iterator<Item = f64>) -> Option<Range<f64>> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return None;
    }
    let pad = if hi > lo {
        (hi - lo) * 0.03
    } else {
        lo.abs().max(1.0) * 0.05
    };
    Some(lo - pad..hi + pad)
}

pub(crate) fn draw_error(path: &Path, err: impl std::fmt::Display) -> PlotError {
    PlotError::Draw {
        path: path.display().to_string(),
        message: err.to_string(),
    }
}

/// Draws `series` as lines (with their bands) into a PNG at `path`.
pub fn lines(path: &Path, chart: &Chart, series: &[Series]) -> Result<(), PlotError> {
    font()?;
    let xs = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| axis(p.0, chart.log_x)));
    let ys = series.iter().flat_map(|s| {
        s.points
            .iter()
            .map(|p| p.1)
            .chain(s.band.iter().flat_map(|b| [b.1, b.2]))
            .map(|y| axis(y, chart.log_y))
    });
    let (Some(x_range), Some(y_range)) = (range(xs), range(ys)) else {
        return Err(PlotError::Empty);
    };
    let y_range = with_legend_room(y_range, series.len());
    let root = BitMapBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
    let mut plot = axes(&root, path, chart, x_range, y_range)?;
    for s in series {
        let c = s.ink.colour();
        if s.band.len() > 1 {
            let upper = s.band.iter().map(|b| (axis(b.0, chart.log_x), axis(b.2, chart.log_y)));
            let lower = s
                .band
                .iter()
                .rev()
                .map(|b| (axis(b.0, chart.log_x), axis(b.1, chart.log_y)));
            plot.draw_series(std::iter::once(Polygon::new(
                upper.chain(lower).collect::<Vec<_>>(),
                c.mix(0.18),
            )))
            .map_err(|e| draw_error(path, e))?;
        }
        let points: Vec<(f64, f64)> = s
            .points
            .iter()
            .map(|p| (axis(p.0, chart.log_x), axis(p.1, chart.log_y)))
            .collect();
        let style = c.stroke_width(2);
        let drawn = if points.len() == 1 || s.dots {
            plot.draw_series(points.iter().map(|p| Circle::new(*p, 4, c.filled())))
        } else {
            plot.draw_series(LineSeries::new(points, style))
        };
        drawn
            .map_err(|e| draw_error(path, e))?
            .label(s.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)));
        let stops = s.stops.iter().map(|p| (axis(p.0, chart.log_x), axis(p.1, chart.log_y)));
        plot.draw_series(stops.map(|p| Cross::new(p, 7, c.stroke_width(3))))
            .map_err(|e| draw_error(path, e))?;
    }
    legend(&mut plot, path)?;
    root.present().map_err(|e| draw_error(path, e))
}

/// Draws `bars` (mean with a low–high bar) into a PNG at `path`.
pub fn error_bars(path: &Path, chart: &Chart, bars: &[Bar]) -> Result<(), PlotError> {
    font()?;
    let (Some(x_range), Some(y_range)) = (
        range(bars.iter().map(|b| axis(b.x, chart.log_x))),
        range(
            bars.iter()
                .flat_map(|b| [b.low, b.high, b.mean])
                .map(|y| axis(y, chart.log_y)),
        ),
    ) else {
        return Err(PlotError::Empty);
    };
    let labels: HashSet<&str> = bars.iter().map(|b| b.label.as_str()).collect();
    // Named categories on the x axis need no legend.
    let legend_entries = if chart.x_names.is_some() { 0 } else { labels.len() };
    let y_range = with_legend_room(y_range, legend_entries);
    let x_range = match chart.x_names {
        Some(names) => 0.5..names.len() as f64 + 0.5,
        None => x_range,
    };
    let root = BitMapBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
    let bottom = y_range.start;
    let mut plot = axes(&root, path, chart, x_range, y_range)?;
    if let Some(names) = chart.x_names {
        name_categories(&root, &plot, names, bottom, path)?;
    }
    let mut labelled: HashSet<&str> = HashSet::new();
    for bar in bars {
        let c = bar.ink.colour();
        let x = axis(bar.x, chart.log_x);
        let (lo, mean, hi) = (
            axis(bar.low, chart.log_y),
            axis(bar.mean, chart.log_y),
            axis(bar.high, chart.log_y),
        );
        // A faint mark is a small dot: there are many, and the coloured ones matter.
        let marks = match bar.ink {
            Ink::Faint => vec![Circle::new((x, mean), 3, c.mix(0.5).filled()).into_dyn()],
            Ink::Palette(_) => vec![
                ErrorBar::new_vertical(x, lo, mean, hi, c.stroke_width(2), 12).into_dyn(),
                Circle::new((x, mean), 6, c.filled()).into_dyn(),
            ],
        };
        let drawn = plot.draw_series(marks).map_err(|e| draw_error(path, e))?;
        if chart.x_names.is_none() && labelled.insert(&bar.label) {
            drawn
                .label(bar.label.clone())
                .legend(move |(x, y)| Circle::new((x + 12, y), 6, c.filled()));
        }
    }
    if chart.x_names.is_none() {
        legend(&mut plot, path)?;
    }
    root.present().map_err(|e| draw_error(path, e))
}

/// Writes category `i`'s name under x = i + 1, downwards from just below the axis at `bottom`.
fn name_categories(
    root: &DrawingArea<BitMapBackend, Shift>,
    plot: &Plot,
    names: &[String],
    bottom: f64,
    path: &Path,
) -> Result<(), PlotError> {
    let style = TextStyle::from((FONT, 17))
        .transform(FontTransform::Rotate90)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (i, name) in names.iter().enumerate() {
        let (x, y) = plot.backend_coord(&((i + 1) as f64, bottom));
        root.draw(&Text::new(name.clone(), (x, y + 10), style.clone()))
            .map_err(|e| draw_error(path, e))?;
    }
    Ok(())
}

type Plot<'a, 'b> = ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A white canvas with the title, axes, their labels and a light grid.
fn axes<'a, 'b: 'a>(
    root: &'a DrawingArea<BitMapBackend<'b>, Shift>,
    path: &Path,
    chart: &Chart,
    x_range: Range<f64>,
    y_range: Range<f64>,
) -> Result<Plot<'a, 'b>, PlotError> {
    root.fill(&WHITE).map_err(|e| draw_error(path, e))?;
    // Upright category names need room below the axis: about 9 pixels a character.
    let longest = chart
        .x_names
        .map_or(0, |names| names.iter().map(|n| n.chars().count()).max().unwrap_or(0));
    let x_label_area = (60 + longest as u32 * 9).min(HEIGHT / 2);
    let mut plot = ChartBuilder::on(root)
        .caption(chart.title, (FONT, 30))
        .margin(20)
        .x_label_area_size(x_label_area)
        .y_label_area_size(90)
        .build_cartesian_2d(x_range, y_range)
        .map_err(|e| draw_error(path, e))?;
    let mut mesh = plot.configure_mesh();
    mesh.label_style((FONT, 17));
    if let Some(names) = chart.x_names {
        // Tick marks only: `name_categories` writes the names.
        mesh.x_labels(names.len() + 2);
    }
    mesh.x_desc(chart.x_label)
        .y_desc(chart.y_label)
        .axis_desc_style((FONT, 22))
        .x_label_formatter(&|v| match chart.x_names {
            Some(_) => String::new(),
            None => tick(*v, chart.log_x),
        })
        .y_label_formatter(&|v| tick(*v, chart.log_y))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()
        .map_err(|e| draw_error(path, e))?;
    Ok(plot)
}

fn legend<'a, 'b: 'a>(plot: &mut Plot<'a, 'b>, path: &Path) -> Result<(), PlotError> {
    plot.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .margin(12)
        .label_font((FONT, 17))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(|e| draw_error(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_read_in_the_datas_units_on_both_axes() {
        assert_eq!(tick(2.0, false), "2");
        assert_eq!(tick(2.05, false), "2.05");
        assert_eq!(tick(150_000.0, false), "150000");
        assert_eq!(tick(0.0001, false), "1.0e-4");
        assert_eq!(tick(1.0, true), "10");
        assert_eq!(tick(-1.0, true), "0.1");
        assert_eq!(range([1.0, 3.0].into_iter()), Some(0.94..3.06));
        assert_eq!(range(std::iter::empty()), None);
    }
}
