//! Numbers for tables and plots, made from runs and curves as stored: the keys that vary
//! between runs, replicate groups (runs that differ only in their seed), mean ± std, the
//! lecture's smoothing of training curves, and mean curves with min–max bands.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value};

/// A run's configuration as a JSON object (what `runs.config` holds).
pub type Config = Map<String, Value>;

/// The keys, in first-seen order, whose values differ between `configs` (a key a config
/// lacks counts as a value of its own). One pass over the keys of every config, then one
/// lookup per config and key: linear in the configs.
pub fn varied_keys<'a>(configs: impl IntoIterator<Item = &'a Config> + Clone) -> Vec<String> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut keys: Vec<&str> = Vec::new();
    for config in configs.clone() {
        for key in config.keys() {
            if seen.insert(key) {
                keys.push(key);
            }
        }
    }
    let first = configs.clone().into_iter().next();
    keys.into_iter()
        .filter(|key| {
            let value = first.and_then(|c| c.get(*key));
            configs.clone().into_iter().any(|other| other.get(*key) != value)
        })
        .map(String::from)
        .collect()
}

/// Indices of runs grouped by (sweep, variant, configuration without `seed`), groups and
/// members in first-seen order: the replicates of one configuration.
pub fn replicate_groups(runs: &[(&str, Option<&str>, &Config)]) -> Vec<Vec<usize>> {
    let mut group_of: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, (sweep, variant, config)) in runs.iter().enumerate() {
        let mut without_seed = (*config).clone();
        without_seed.remove("seed");
        let key = format!(
            "{sweep}\u{0}{}\u{0}{}",
            variant.unwrap_or(""),
            Value::Object(without_seed)
        );
        let next = groups.len();
        let g = *group_of.entry(key).or_insert(next);
        if g == next {
            groups.push(Vec::new());
        }
        groups[g].push(i);
    }
    groups
}

/// Summary of a sample: mean, sample standard deviation (n − 1), range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub n: usize,
    pub mean: f64,
    /// `None` for one value: a spread over one value does not exist.
    pub std: Option<f64>,
    pub min: f64,
    pub max: f64,
}

pub fn spread(values: &[f64]) -> Option<Spread> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let std = (n > 1).then(|| (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt());
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some(Spread { n, mean, std, min, max })
}

/// The lecture's smoothing, `torch.tensor(lossi).view(-1, 1000).mean(1)` over log10 losses:
/// the mean of log10(loss) of the points in each window of `window` steps, as
/// (the window's last step, 10^mean). Points are (step, loss) with step counted from 1.
pub fn smooth(points: &[(u64, f64)], window: u64) -> Vec<(u64, f64)> {
    let window = window.max(1);
    let mut smoothed: Vec<(u64, f64)> = Vec::new();
    let mut current: Option<(u64, f64, usize)> = None;
    for &(step, loss) in points {
        let bucket = step.saturating_sub(1) / window;
        match &mut current {
            Some((b, sum, n)) if *b == bucket => {
                *sum += loss.log10();
                *n += 1;
            }
            _ => {
                if let Some((b, sum, n)) = current.take() {
                    smoothed.push(((b + 1) * window, 10f64.powf(sum / n as f64)));
                }
                current = Some((bucket, loss.log10(), 1));
            }
        }
    }
    if let Some((b, sum, n)) = current {
        smoothed.push((
            ((b + 1) * window).min(points.last().map_or(0, |p| p.0)),
            10f64.powf(sum / n as f64),
        ));
    }
    smoothed
}

/// One step of a replicate band.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BandPoint {
    pub step: u64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
}

/// Mean, min and max over `curves` at each step that every curve has.
pub fn band(curves: &[Vec<(u64, f64)>]) -> Vec<BandPoint> {
    let Some(first) = curves.first() else { return Vec::new() };
    first
        .iter()
        .filter_map(|&(step, _)| {
            let values: Option<Vec<f64>> = curves
                .iter()
                .map(|c| c.binary_search_by_key(&step, |p| p.0).ok().map(|i| c[i].1))
                .collect();
            let s = spread(&values?)?;
            Some(BandPoint {
                step,
                mean: s.mean,
                min: s.min,
                max: s.max,
            })
        })
        .collect()
}

/// One step of a quantile band.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuantilePoint {
    pub step: u64,
    pub median: f64,
    pub low: f64,
    pub high: f64,
}

/// At each step that some curve has: the median and the `low` and `high` quantiles (as
/// numpy's default, linear between the two nearest values) of the curves' values there.
pub fn quantile_band(curves: &[Vec<(u64, f64)>], low: f64, high: f64) -> Vec<QuantilePoint> {
    let mut by_step: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    for &(step, value) in curves.iter().flatten() {
        by_step.entry(step).or_default().push(value);
    }
    by_step
        .into_iter()
        .map(|(step, mut values)| {
            values.sort_by(f64::total_cmp);
            QuantilePoint {
                step,
                median: quantile(&values, 0.5),
                low: quantile(&values, low),
                high: quantile(&values, high),
            }
        })
        .collect()
}

/// The `q` quantile of sorted, non-empty `values`.
fn quantile(values: &[f64], q: f64) -> f64 {
    let at = q * (values.len() - 1) as f64;
    let (below, above) = (at.floor() as usize, at.ceil() as usize);
    values[below] + (values[above] - values[below]) * (at - below as f64)
}

/// A JSON value as a table cell: strings without quotes, fractions to 5 significant digits
/// (a drawn learning rate reads 0.060166, not 0.060166173641848696).
pub fn cell(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) if n.is_f64() => significant(n.as_f64().unwrap_or(f64::NAN), 5),
        Some(Value::Null) | None => "-".into(),
        Some(other) => other.to_string(),
    }
}

/// `x` to `digits` significant digits, without trailing zeros.
pub fn significant(x: f64, digits: i32) -> String {
    if x == 0.0 || !x.is_finite() {
        return x.to_string();
    }
    let decimals = (digits - 1 - x.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let text = format!("{x:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(value: Value) -> Config {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn only_keys_that_differ_between_runs_are_varied() {
        let configs = [
            config(json!({"lr": 0.1, "n_hidden": 68, "seed": 1})),
            config(json!({"lr": 0.1, "n_hidden": 128, "seed": 1})),
            config(json!({"lr": 0.1, "n_hidden": 128, "seed": 2})),
        ];
        assert_eq!(varied_keys(&configs), ["n_hidden", "seed"]);
        assert!(varied_keys(&configs[..1]).is_empty());
    }

    #[test]
    fn replicates_are_the_runs_that_differ_only_in_their_seed() {
        let a1 = config(json!({"lr": 0.1, "seed": 1}));
        let a2 = config(json!({"lr": 0.1, "seed": 2}));
        let b1 = config(json!({"lr": 0.3, "seed": 1}));
        let runs = [
            ("s", None, &a1),
            ("s", None, &b1),
            ("s", None, &a2),
            ("s", Some("other"), &a1),
            ("t", None, &a1),
        ];
        assert_eq!(replicate_groups(&runs), vec![vec![0, 2], vec![1], vec![3], vec![4]]);
    }

    #[test]
    fn spread_is_the_mean_and_sample_std() {
        // numpy: np.mean([2.0, 2.1, 2.3]) = 2.1333, np.std([2.0, 2.1, 2.3], ddof=1) = 0.152753
        let s = spread(&[2.0, 2.1, 2.3]).unwrap();
        assert!((s.mean - 2.133_333).abs() < 1e-6);
        assert!((s.std.unwrap() - 0.152_753).abs() < 1e-6);
        assert_eq!((s.n, s.min, s.max), (3, 2.0, 2.3));
        assert_eq!(spread(&[1.5]).unwrap().std, None);
        assert!(spread(&[]).is_none());
    }

    #[test]
    fn smoothing_averages_log10_losses_per_window() {
        // Points every 100 steps; windows of 200 steps: {100, 200}, {300, 400}, {500}.
        let points = [(100, 1.0), (200, 100.0), (300, 10.0), (400, 10.0), (500, 2.0)];
        let smoothed = smooth(&points, 200);
        assert_eq!(smoothed.iter().map(|p| p.0).collect::<Vec<_>>(), [200, 400, 500]);
        // 10^mean(log10 1, log10 100) = 10^1 = 10: the geometric mean.
        assert!((smoothed[0].1 - 10.0).abs() < 1e-12);
        assert!((smoothed[1].1 - 10.0).abs() < 1e-12);
        assert!((smoothed[2].1 - 2.0).abs() < 1e-12);
    }

    #[test]
    fn a_quantile_band_interpolates_as_numpy_does() {
        // numpy: np.quantile([1, 2, 3, 4, 10], [0.1, 0.5, 0.9]) = [1.4, 3.0, 7.6]
        let curves: Vec<Vec<(u64, f64)>> = [1.0, 2.0, 3.0, 4.0, 10.0].iter().map(|&v| vec![(5, v)]).collect();
        let mut with_short = curves.clone();
        with_short.push(vec![(0, 7.0)]);
        let band = quantile_band(&with_short, 0.1, 0.9);
        assert_eq!(band.len(), 2, "one point per step any curve has");
        assert_eq!((band[0].step, band[0].median, band[0].low), (0, 7.0, 7.0));
        let at5 = band[1];
        assert_eq!((at5.step, at5.median), (5, 3.0));
        assert!(
            (at5.low - 1.4).abs() < 1e-12 && (at5.high - 7.6).abs() < 1e-12,
            "{at5:?}"
        );
    }

    #[test]
    fn a_band_covers_the_steps_every_curve_has() {
        let curves = vec![vec![(0, 3.0), (100, 2.0), (200, 1.0)], vec![(0, 3.2), (100, 2.4)]];
        let band = band(&curves);
        assert_eq!(band.len(), 2);
        assert_eq!(
            band[1],
            BandPoint {
                step: 100,
                mean: 2.2,
                min: 2.0,
                max: 2.4
            }
        );
    }
}
