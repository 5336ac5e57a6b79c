//! `harness compare RUN RUN…`: the runs' parameters and results side by side, rows that
//! differ marked `≠`, and one PNG with their validation curves.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use results::plot::{self, Chart, Ink, Series};
use results::{Loss, RunRecord, RunStatus, Split, Store};
use serde_json::Value;

use crate::stored;
use crate::view::table;
use crate::view::{labels, sweep_table};

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Two or more run ids
    #[arg(num_args = 2.., required = true)]
    pub runs: Vec<i64>,
    /// Where to draw the curves [default: compare-<ids>.png]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// SQLite database to read
    #[arg(long, env = "HARNESS_DB", default_value = "harness.db", value_name = "PATH")]
    pub db: PathBuf,
}

pub fn execute(args: CompareArgs) -> anyhow::Result<ExitCode> {
    let store = stored::open_existing(&args.db, Store::open_read_only)?;
    let runs = args
        .runs
        .iter()
        .map(|&id| stored::run(&store, id))
        .collect::<anyhow::Result<Vec<_>>>()?;
    print_side_by_side(&runs)?;
    let ids: Vec<String> = runs.iter().map(|r| r.id.to_string()).collect();
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from(format!("compare-{}.png", ids.join("-"))));
    let labels = labels::labels(&runs)?;
    let mut series = Vec::new();
    for (color, (run, label)) in runs.iter().zip(&labels).enumerate() {
        let curve = store.curve(run.id, Split::Val)?;
        series.push(Series {
            label: if label.is_empty() {
                format!("run {}", run.id)
            } else {
                format!("run {}: {label}", run.id)
            },
            ink: Ink::Palette(color),
            points: curve.iter().map(|&(s, l)| (s as f64, l)).collect(),
            dots: false,
            band: Vec::new(),
            stops: curve
                .last()
                .filter(|_| run.status == RunStatus::Stopped)
                .map(|&(s, l)| (s as f64, l))
                .into_iter()
                .collect(),
        });
    }
    if series.iter().all(|s| s.points.is_empty()) {
        eprintln!("none of these runs has a validation curve yet: no plot drawn");
        return Ok(ExitCode::SUCCESS);
    }
    let title = format!("validation loss of runs {}", ids.join(", "));
    let chart = Chart {
        title: &title,
        x_label: "step",
        y_label: "val loss",
        log_x: false,
        log_y: false,
        x_names: None,
    };
    plot::lines(&out, &chart, &series)?;
    eprintln!("curves drawn in {}", out.display());
    Ok(ExitCode::SUCCESS)
}

/// One row per parameter and result, one column per run; `≠` where they differ.
fn print_side_by_side(runs: &[RunRecord]) -> anyhow::Result<()> {
    let configs = labels::configs(runs)?;
    let mut keys: Vec<String> = Vec::new();
    for config in &configs {
        keys.extend(config.keys().filter(|k| !keys.contains(k)).cloned().collect::<Vec<_>>());
    }
    let loss = |l: Option<f64>| l.map_or("-".into(), |l| format!("{l:.4}"));
    let mut facts: Vec<(&str, Vec<String>)> = vec![
        ("sweep", runs.iter().map(|r| r.sweep_name.clone()).collect()),
        (
            "variant",
            runs.iter().map(|r| r.variant.clone().unwrap_or("-".into())).collect(),
        ),
        (
            "ran_on",
            runs.iter()
                .map(|r| match (&r.device, &r.device_name) {
                    (Some(device), Some(name)) => format!("{device} ({name}) on {}", sweep_table::ran_on(r)),
                    _ => "-".into(),
                })
                .collect(),
        ),
        (
            "data",
            runs.iter().map(|r| r.data_sha256.chars().take(12).collect()).collect(),
        ),
        (
            "git_commit",
            runs.iter()
                .map(|r| r.git_commit.clone().unwrap_or("-".into()))
                .collect(),
        ),
        ("status", runs.iter().map(|r| r.status.to_string()).collect()),
        ("params", runs.iter().map(|r| r.trainable_params.to_string()).collect()),
        ("steps_done", runs.iter().map(|r| r.steps_done.to_string()).collect()),
    ];
    facts.extend(Loss::ALL.map(|l| (l.column(), runs.iter().map(|r| loss(l.of(r))).collect())));
    facts.extend([(
        "steps_per_sec",
        runs.iter()
            .map(|r| r.steps_per_sec.map_or("-".into(), |s| format!("{s:.0}")))
            .collect(),
    )]);
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut push = |key: &str, values: Vec<String>| {
        let differs = values.iter().any(|v| *v != values[0]);
        let mut row = vec![key.to_string(), if differs { "≠".into() } else { String::new() }];
        row.extend(values);
        rows.push(row);
    };
    for key in &keys {
        push(
            key,
            configs
                .iter()
                .map(|c| table::cell(c.get(key).or(Some(&Value::Null))))
                .collect(),
        );
    }
    for (key, values) in facts {
        push(key, values);
    }
    let headers: Vec<String> = ["", ""]
        .iter()
        .map(|s| s.to_string())
        .chain(runs.iter().map(|r| format!("run {}", r.id)))
        .collect();
    table::print(&headers.iter().map(String::as_str).collect::<Vec<_>>(), &rows)?;
    Ok(())
}
