//! Data on stdout in the format asked for: an aligned table for people, CSV (RFC 4180) or
//! JSON (an array of objects) for scripts. Used by `query` and `runs`.

use std::io;

use clap::ValueEnum;
use results::{Cell, Table};
use serde_json::{Map, Value};

use crate::view::table;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

pub fn print(format: Format, result: &Table) -> io::Result<()> {
    match format {
        Format::Table => {
            let headers: Vec<&str> = result.columns.iter().map(String::as_str).collect();
            let rows: Vec<Vec<String>> = result.rows.iter().map(|r| short_row(&result.columns, r)).collect();
            table::print(&headers, &rows)
        }
        Format::Csv => {
            out!(
                "{}",
                result
                    .columns
                    .iter()
                    .map(|c| csv_field(c))
                    .collect::<Vec<_>>()
                    .join(",")
            )?;
            for row in &result.rows {
                let fields: Vec<String> = row.iter().map(|c| csv_field(&full(c))).collect();
                out!("{}", fields.join(","))?;
            }
            Ok(())
        }
        Format::Json => {
            let objects: Vec<Value> = result
                .rows
                .iter()
                .map(|row| {
                    Value::Object(
                        result
                            .columns
                            .iter()
                            .cloned()
                            .zip(row.iter().map(json))
                            .collect::<Map<_, _>>(),
                    )
                })
                .collect();
            out!(
                "{}",
                serde_json::to_string_pretty(&objects).expect("JSON values always serialize")
            )
        }
    }
}

/// A table in Markdown (for `report.md`), cells as in the aligned table.
pub fn markdown(result: &Table) -> String {
    let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    let mut text = line(result.columns.clone());
    text.push_str(&line(result.columns.iter().map(|_| "---".to_string()).collect()));
    for row in &result.rows {
        text.push_str(&line(
            short_row(&result.columns, row)
                .into_iter()
                .map(|c| c.replace('|', "\\|"))
                .collect(),
        ));
    }
    text
}

/// A cell as JSON: numbers as numbers (non-finite ones as null), text as strings.
pub fn json(cell: &Cell) -> Value {
    match cell {
        Cell::Null => Value::Null,
        Cell::Int(i) => Value::from(*i),
        Cell::Real(x) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
        Cell::Text(t) => Value::String(t.clone()),
    }
}

/// Every digit: for CSV.
fn full(cell: &Cell) -> String {
    match cell {
        Cell::Null => String::new(),
        Cell::Int(i) => i.to_string(),
        Cell::Real(x) => x.to_string(),
        Cell::Text(t) => t.clone(),
    }
}

/// A row for reading: each cell rounded for what its column holds.
fn short_row(columns: &[String], row: &[Cell]) -> Vec<String> {
    columns
        .iter()
        .zip(row)
        .map(|(column, cell)| short(column, cell))
        .collect()
}

/// For a table, by column: losses to 4 decimals, times and speeds to 1, other numbers to 5
/// significant digits (a learning rate of 0.031622776 reads 0.031623); null as `-`.
pub fn short(column: &str, cell: &Cell) -> String {
    let Cell::Real(x) = cell else {
        return if *cell == Cell::Null { "-".into() } else { full(cell) };
    };
    let loss = ["_loss", "_mean", "_std", "_ref", "_diff"]
        .iter()
        .any(|s| column.ends_with(s));
    let timing = column == "steps_per_sec" || column.ends_with("_seconds");
    if loss {
        format!("{x:.4}")
    } else if timing {
        format!("{x:.1}")
    } else {
        table::significant(*x, 5)
    }
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_become_csv_fields_json_values_and_short_table_text() {
        assert_eq!(csv_field("a,b \"c\""), "\"a,b \"\"c\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(json(&Cell::Real(f64::NAN)), Value::Null);
        assert_eq!(json(&Cell::Int(3)), Value::from(3));
        assert_eq!(short("val_loss", &Cell::Real(2.058_123_456)), "2.0581");
        assert_eq!(short("val_mean", &Cell::Real(2.1)), "2.1000");
        assert_eq!(short("steps_per_sec", &Cell::Real(2751.858)), "2751.9");
        assert_eq!(short("wall_seconds", &Cell::Real(6.1225)), "6.1");
        assert_eq!(short("lr", &Cell::Real(0.1)), "0.1");
        assert_eq!(short("lr", &Cell::Real(0.031_622_776)), "0.031623");
        assert_eq!(short("lr_decay_at", &Cell::Real(0.75)), "0.75");
        assert_eq!(short("lr", &Cell::Real(1234.5678)), "1234.6");
        assert_eq!(short("params", &Cell::Int(76_579)), "76579");
        assert_eq!(short("lr", &Cell::Null), "-");
    }
}
