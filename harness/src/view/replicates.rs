//! Runs of `runs_wide` folded into one row per configuration: the runs that differ only in
//! their seed, with the mean ± std of their final losses, how many have finished (`seeds`)
//! of how many there are (`runs`), and — where the sweep file gave a reference for the
//! variant — the reference and the difference. Also the condensed form of tables for people.

use std::collections::{HashMap, HashSet};

use model::all_settings;
use results::summary::{self, Config, Spread};
use results::{Cell, Loss, Store, Table};

use crate::spec::Reference;
use crate::stored;
use crate::view::output;

/// What makes a configuration — every declared setting, the backend and the device asked
/// for — as `runs_wide` names its columns.
pub fn params() -> Vec<&'static str> {
    all_settings()
        .iter()
        .map(|s| s.name)
        .chain(["backend", "requested_device"])
        .collect()
}

/// References by (sweep, variant).
pub type References = HashMap<(String, String), Reference>;

/// The sweep files' references of the variants among `runs` (rows of `runs_wide`).
pub fn references(store: &Store, runs: &Table) -> anyhow::Result<References> {
    let mut references = References::new();
    for sweep in sweeps_in(runs) {
        for (variant, reference) in stored::settings_by_name(store, &sweep)?.references {
            references.insert((sweep.clone(), variant), reference);
        }
    }
    Ok(references)
}

/// The sweeps of `runs` (rows of `runs_wide`), in first-seen order.
pub fn sweeps_in(runs: &Table) -> Vec<String> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut names: Vec<String> = Vec::new();
    if let Some(c) = runs.column("sweep") {
        for row in &runs.rows {
            if let Cell::Text(name) = &row[c]
                && seen.insert(name)
            {
                names.push(name.clone());
            }
        }
    }
    names
}

fn text(row: &[Cell], column: Option<usize>) -> Option<String> {
    match column.map(|c| &row[c]) {
        Some(Cell::Text(t)) => Some(t.clone()),
        _ => None,
    }
}

fn real(cell: &Cell) -> Option<f64> {
    match cell {
        Cell::Real(x) => Some(*x),
        Cell::Int(i) => Some(*i as f64),
        _ => None,
    }
}

/// One row per replicate group of `runs` (rows of `runs_wide`), best first by the mean of
/// `rank_by` (`descending` for a metric to maximize).
pub fn fold(runs: &Table, rank_by: Loss, descending: bool, references: &References) -> Table {
    let params = params();
    let column = |name: &str| runs.column(name);
    let (sweep_col, variant_col) = (column("sweep"), column("variant"));
    let configs: Vec<Config> = runs
        .rows
        .iter()
        .map(|row| {
            params
                .iter()
                .filter_map(|p| Some((p.to_string(), output::json(&row[column(p)?]))))
                .collect()
        })
        .collect();
    let keyed: Vec<(String, Option<String>)> = runs
        .rows
        .iter()
        .map(|row| (text(row, sweep_col).unwrap_or_default(), text(row, variant_col)))
        .collect();
    let groups = summary::replicate_groups(
        &keyed
            .iter()
            .zip(&configs)
            .map(|((sweep, variant), config)| (sweep.as_str(), variant.as_deref(), config))
            .collect::<Vec<_>>(),
    );
    let mut columns: Vec<String> = ["sweep", "variant"].map(String::from).to_vec();
    columns.extend(params.iter().filter(|p| **p != "seed").map(|p| p.to_string()));
    columns.extend(["seeds".into(), "runs".into(), "params".into()]);
    for loss in Loss::ALL {
        let stem = loss.split_name();
        columns.extend([
            format!("{stem}_mean"),
            format!("{stem}_std"),
            format!("{stem}_ref"),
            format!("{stem}_diff"),
        ]);
    }
    let mut rows: Vec<(Option<f64>, Vec<Cell>)> = groups
        .iter()
        .map(|members| {
            let first = &runs.rows[members[0]];
            let (sweep, variant) = &keyed[members[0]];
            let reference = variant
                .as_ref()
                .and_then(|v| references.get(&(sweep.clone(), v.clone())));
            let mut row = vec![
                Cell::Text(sweep.clone()),
                variant.clone().map_or(Cell::Null, Cell::Text),
            ];
            row.extend(
                params
                    .iter()
                    .filter(|p| **p != "seed")
                    .map(|p| column(p).map_or(Cell::Null, |c| first[c].clone())),
            );
            let finished = members
                .iter()
                .filter(|&&m| column(rank_by.column()).is_some_and(|c| real(&runs.rows[m][c]).is_some()))
                .count();
            row.push(Cell::Int(finished as i64));
            row.push(Cell::Int(members.len() as i64));
            row.push(column("params").map_or(Cell::Null, |c| first[c].clone()));
            let mut rank = None;
            for loss in Loss::ALL {
                let values: Vec<f64> = members
                    .iter()
                    .filter_map(|&m| column(loss.column()).and_then(|c| real(&runs.rows[m][c])))
                    .collect();
                let spread: Option<Spread> = summary::spread(&values);
                let refer = reference.and_then(|r| r.get(loss));
                row.extend([
                    spread.map_or(Cell::Null, |s| Cell::Real(s.mean)),
                    spread.and_then(|s| s.std).map_or(Cell::Null, Cell::Real),
                    refer.map_or(Cell::Null, Cell::Real),
                    spread.zip(refer).map_or(Cell::Null, |(s, r)| Cell::Real(s.mean - r)),
                ]);
                if loss == rank_by {
                    rank = spread.map(|s| s.mean);
                }
            }
            (rank, row)
        })
        .collect();
    rows.sort_by(|(a, _), (b, _)| match (a, b) {
        (Some(a), Some(b)) if descending => b.total_cmp(a),
        (Some(a), Some(b)) => a.total_cmp(b),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    Table {
        columns,
        rows: rows.into_iter().map(|(_, row)| row).collect(),
    }
}

/// One row per run with the columns a person needs: what sets runs apart, status, losses,
/// size, speed (`runs` without replicates; a population's members in `report`).
pub fn each_run(runs: &Table) -> Table {
    let mut keep: Vec<&str> = vec!["run"];
    keep.extend(informative(runs, &["sweep", "variant"]));
    keep.extend(varying(runs, &params()));
    keep.push("status");
    keep.extend(Loss::ALL.map(Loss::column));
    keep.extend(["params", "steps_per_sec", "wall_seconds"]);
    project(runs, &keep)
}

/// The folded table for people: mean ± std in one cell, references only where given.
pub fn condense(folded: &Table) -> Table {
    let mut keep: Vec<&str> = varying(folded, &["sweep"]);
    keep.extend(informative(folded, &["variant"]));
    let params: Vec<&str> = params().into_iter().filter(|p| *p != "seed").collect();
    keep.extend(varying(folded, &params));
    keep.extend(["seeds", "params"]);
    let mut table = project(folded, &keep);
    // "2/3": two of the configuration's three runs have finished.
    let (seeds, runs) = (table.column("seeds"), folded.column("runs"));
    if let (Some(s), Some(r)) = (seeds, runs) {
        for (row, source) in table.rows.iter_mut().zip(&folded.rows) {
            if row[s] != source[r] {
                row[s] = Cell::Text(format!(
                    "{}/{}",
                    output::short("seeds", &row[s]),
                    output::short("runs", &source[r])
                ));
            }
        }
    }
    for loss in Loss::ALL {
        let stem = loss.split_name();
        let (mean, std) = (
            folded.column(&format!("{stem}_mean")),
            folded.column(&format!("{stem}_std")),
        );
        table.columns.push(stem.to_string());
        for (row, source) in table.rows.iter_mut().zip(&folded.rows) {
            row.push(match (mean.map(|c| &source[c]), std.map(|c| &source[c])) {
                (Some(Cell::Real(m)), Some(Cell::Real(s))) => Cell::Text(format!("{m:.4} ± {s:.4}")),
                // One finished seed: a mean without a spread.
                (Some(Cell::Real(m)), _) => Cell::Text(format!("{m:.4}")),
                _ => Cell::Null,
            });
        }
        for suffix in ["ref", "diff"] {
            let name = format!("{stem}_{suffix}");
            if !informative(folded, &[name.as_str()]).is_empty() {
                let c = folded.column(&name).expect("fold makes every reference column");
                table.columns.push(name);
                for (row, source) in table.rows.iter_mut().zip(&folded.rows) {
                    row.push(match &source[c] {
                        Cell::Real(x) if suffix == "diff" => Cell::Text(format!("{x:+.4}")),
                        other => other.clone(),
                    });
                }
            }
        }
    }
    table
}

/// Of `names`, the columns that hold something in some row.
pub fn informative<'a>(table: &Table, names: &[&'a str]) -> Vec<&'a str> {
    columns_where(table, names, |row, c| row[c] != Cell::Null)
}

/// Of `names`, the columns whose values differ between rows — `NULL` (a setting that means
/// nothing for the run) counting as the setting's default —, less derived defaults that
/// every row left to their rule (`lr_final` = lr / 10 in a sweep over `lr`).
pub fn varying<'a>(table: &Table, names: &[&'a str]) -> Vec<&'a str> {
    let settings = all_settings();
    let cell = |row: &[Cell], c: usize| match &row[c] {
        Cell::Null => settings
            .iter()
            .find(|s| s.name == table.columns[c])
            .and_then(|s| s.default_value())
            .map_or(Cell::Null, |v| as_cell(&v)),
        other => other.clone(),
    };
    let derived_everywhere = |name: &str| {
        all_settings().iter().filter(|s| s.name == name).any(|setting| {
            table
                .rows
                .iter()
                .all(|row| setting.is_derived_in(|key| table.column(key).and_then(|c| real(&row[c]))))
        })
    };
    columns_where(table, names, |row, c| cell(row, c) != cell(&table.rows[0], c))
        .into_iter()
        .filter(|name| !derived_everywhere(name))
        .collect()
}

/// A setting's JSON value as `runs_wide` shows it (`json_extract` gives booleans as 0 and 1).
fn as_cell(value: &serde_json::Value) -> Cell {
    match value {
        serde_json::Value::Bool(on) => Cell::Int(i64::from(*on)),
        serde_json::Value::Number(n) => n
            .as_i64()
            .map_or_else(|| Cell::Real(n.as_f64().unwrap_or(f64::NAN)), Cell::Int),
        serde_json::Value::String(s) => Cell::Text(s.clone()),
        _ => Cell::Null,
    }
}

/// Of `names`, the columns `c` for which some row satisfies `test(row, c)`.
fn columns_where<'a>(table: &Table, names: &[&'a str], test: impl Fn(&[Cell], usize) -> bool) -> Vec<&'a str> {
    names
        .iter()
        .copied()
        .filter(|n| table.column(n).is_some_and(|c| table.rows.iter().any(|r| test(r, c))))
        .collect()
}

pub fn project(table: &Table, names: &[&str]) -> Table {
    let columns: Vec<usize> = names.iter().filter_map(|n| table.column(n)).collect();
    Table {
        columns: columns.iter().map(|&c| table.columns[c].clone()).collect(),
        rows: table
            .rows
            .iter()
            .map(|row| columns.iter().map(|&c| row[c].clone()).collect())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs() -> Table {
        let columns = [
            "run",
            "sweep",
            "variant",
            "lr",
            "seed",
            "params",
            "train_loss",
            "val_loss",
            "test_loss",
        ];
        let row = |run, variant: &str, lr, seed, val| {
            vec![
                Cell::Int(run),
                Cell::Text("s".into()),
                Cell::Text(variant.into()),
                Cell::Real(lr),
                Cell::Int(seed),
                Cell::Int(100),
                Cell::Real(val - 0.1),
                Cell::Real(val),
                Cell::Null,
            ]
        };
        Table {
            columns: columns.map(String::from).to_vec(),
            rows: vec![
                row(1, "a", 0.1, 1, 2.0),
                row(2, "a", 0.1, 2, 2.2),
                row(3, "b", 0.1, 1, 1.9),
                row(4, "a", 0.3, 1, 2.5),
            ],
        }
    }

    fn cell(table: &Table, row: usize, column: &str) -> Cell {
        table.rows[row][table.column(column).unwrap()].clone()
    }

    #[test]
    fn replicates_fold_into_mean_and_std_ranked_by_the_metric() {
        let references = References::from([(
            ("s".to_string(), "a".to_string()),
            Reference {
                val_loss: Some(2.0),
                ..Reference::default()
            },
        )]);
        let folded = fold(&runs(), Loss::Val, false, &references);
        assert_eq!(folded.rows.len(), 3);
        // b (1.9), then a at lr 0.1 (mean 2.1 of 2.0 and 2.2), then a at lr 0.3.
        assert_eq!(cell(&folded, 0, "variant"), Cell::Text("b".into()));
        assert_eq!(cell(&folded, 1, "seeds"), Cell::Int(2));
        let Cell::Real(mean) = cell(&folded, 1, "val_mean") else {
            panic!()
        };
        let Cell::Real(std) = cell(&folded, 1, "val_std") else {
            panic!()
        };
        // numpy: np.std([2.0, 2.2], ddof=1) = 0.141421
        assert!((mean - 2.1).abs() < 1e-12 && (std - 0.141_421).abs() < 1e-6);
        let Cell::Real(diff) = cell(&folded, 1, "val_diff") else {
            panic!()
        };
        assert!((diff - 0.1).abs() < 1e-12);
        assert_eq!(cell(&folded, 0, "val_ref"), Cell::Null);
        assert_eq!(cell(&folded, 1, "test_mean"), Cell::Null);
        // One seed: a mean, no spread.
        assert_eq!(cell(&folded, 0, "val_std"), Cell::Null);
        let condensed = condense(&folded);
        assert_eq!(cell(&condensed, 0, "val"), Cell::Text("1.9000".into()));
        assert_eq!(cell(&condensed, 1, "val"), Cell::Text("2.1000 ± 0.1414".into()));
        let descending = fold(&runs(), Loss::Val, true, &References::new());
        assert_eq!(cell(&descending, 0, "lr"), Cell::Real(0.3));
    }

    #[test]
    fn a_derived_default_is_a_varying_column_only_where_a_run_set_it() {
        let table = |rows: &[(f64, f64)]| Table {
            columns: vec!["lr".into(), "lr_final".into()],
            rows: rows
                .iter()
                .map(|&(lr, f)| vec![Cell::Real(lr), Cell::Real(f)])
                .collect(),
        };
        let names = ["lr", "lr_final"];
        assert_eq!(varying(&table(&[(0.1, 0.01), (0.2, 0.02)]), &names), ["lr"]);
        assert_eq!(varying(&table(&[(0.1, 0.01), (0.2, 0.05)]), &names), names);
        // beta1 NULL (an SGD run) and 0.9 (AdamW's default): not a difference.
        let beta1 = |value: Cell| Table {
            columns: vec!["beta1".into()],
            rows: vec![vec![Cell::Null], vec![value]],
        };
        assert!(varying(&beta1(Cell::Real(0.9)), &["beta1"]).is_empty());
        assert_eq!(varying(&beta1(Cell::Real(0.8)), &["beta1"]), ["beta1"]);
    }
}
