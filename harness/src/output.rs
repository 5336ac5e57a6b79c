//! Data on stdout in the format asked for: an aligned table for people, CSV (RFC 4180) or
//! JSON (an array of objects) for scripts. Used by `query` and `runs`.

use clap::ValueEnum;
use results::{Cell, Table};
use serde_json::{Map, Value};

use crate::table;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

pub fn print(format: Format, result: &Table) {
    match format {
        Format::Table => {
            let headers: Vec<&str> = result.columns.iter().map(String::as_str).collect();
            let rows: Vec<Vec<String>> = result.rows.iter().map(|r| r.iter().map(short).collect()).collect();
            table::print(&headers, &rows);
        }
        Format::Csv => {
            println!(
                "{}",
                result
                    .columns
                    .iter()
                    .map(|c| csv_field(c))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            for row in &result.rows {
                let fields: Vec<String> = row.iter().map(|c| csv_field(&full(c))).collect();
                println!("{}", fields.join(","));
            }
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
            println!(
                "{}",
                serde_json::to_string_pretty(&objects).expect("JSON values always serialize")
            );
        }
    }
}

/// A table in Markdown (for `report.md`), cells as in the aligned table.
pub fn markdown(result: &Table) -> String {
    let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    let mut text = line(result.columns.clone());
    text.push_str(&line(result.columns.iter().map(|_| "---".to_string()).collect()));
    for row in &result.rows {
        text.push_str(&line(row.iter().map(|c| short(c).replace('|', "\\|")).collect()));
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

/// For a table: long decimals cut to 4 places, null as `-`.
pub fn short(cell: &Cell) -> String {
    match cell {
        Cell::Null => "-".into(),
        Cell::Real(x) if x.to_string().len() > 8 => format!("{x:.4}"),
        other => full(other),
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
        assert_eq!(short(&Cell::Real(2.058_123_456)), "2.0581");
        assert_eq!(short(&Cell::Real(0.1)), "0.1");
        assert_eq!(short(&Cell::Null), "-");
    }
}
