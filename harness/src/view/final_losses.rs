//! The final-loss figures of a report: each configuration's final validation loss with its
//! min–max over seeds as an error bar, ranked (every configuration of a small sweep, the
//! coloured best of a large one), and against each numeric parameter that varies (every
//! configuration, the faint ones as small dots). Groups and inks come from `figures`.

use std::path::Path;

use results::plot::{self, Bar, Chart, Ink};
use results::summary::{self, Config};

use crate::view::figures::{Group, Options, drawing_order, faint_label, seeds_label};
use crate::view::labels;

/// Draws both kinds into `dir`; returns (file name, caption) of each.
pub fn draw(sweep: &str, groups: &[Group], options: &Options, dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut figures = Vec::new();
    let faint = groups.iter().filter(|g| g.ink == Ink::Faint).count();
    let bar = |group: &Group, x: f64| {
        let values: Vec<f64> = group.runs.iter().filter_map(|r| r.val_loss).collect();
        summary::spread(&values).map(|s| Bar {
            label: match group.ink {
                Ink::Faint => faint_label(faint),
                Ink::Palette(_) => seeds_label(group),
            },
            ink: group.ink,
            x,
            mean: s.mean,
            low: s.min,
            high: s.max,
        })
    };
    // Best first, each configuration named on the axis under its bar.
    let mut ranked: Vec<Bar> = groups
        .iter()
        .filter(|g| g.ink != Ink::Faint)
        .filter_map(|g| bar(g, 0.0))
        .collect();
    if ranked.is_empty() {
        return Ok(figures);
    }
    // A small sweep's configurations by their mean val loss; a large one's coloured ones by
    // their rank in the sweep's metric, the order their colours were given in.
    if faint > 0 {
        ranked.sort_by_key(|b| drawing_order(b.ink));
    } else {
        ranked.sort_by(|a, b| a.mean.total_cmp(&b.mean));
    }
    for (rank, bar) in ranked.iter_mut().enumerate() {
        bar.x = (rank + 1) as f64;
    }
    let names: Vec<String> = ranked.iter().map(|b| b.label.clone()).collect();
    let title = if faint > 0 {
        format!(
            "{sweep}: final val loss, best {} of {} configurations (min–max)",
            ranked.len(),
            groups.len()
        )
    } else {
        format!("{sweep}: final validation loss per configuration (min–max over seeds)")
    };
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
        let mut bars: Vec<Bar> = groups.iter().zip(&xs).filter_map(|(g, &x)| bar(g, x)).collect();
        bars.sort_by_key(|b| drawing_order(b.ink));
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
