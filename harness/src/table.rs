//! Plain aligned tables on stdout (numbers right-aligned), and the "varied values" of a
//! set of runs: the configuration keys whose values differ, which is what names a run
//! within its sweep.

use serde_json::{Map, Value};

/// Prints `rows` under `headers`, each column as wide as its widest cell.
pub fn print(headers: &[&str], rows: &[Vec<String>]) {
    let widths: Vec<usize> = (0..headers.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([headers[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let numeric: Vec<bool> = (0..headers.len())
        .map(|c| {
            rows.iter()
                .all(|r| r[c].is_empty() || r[c] == "-" || r[c].parse::<f64>().is_ok())
        })
        .collect();
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                if numeric[c] {
                    format!("{cell:>w$}", w = widths[c])
                } else {
                    format!("{cell:<w$}", w = widths[c])
                }
            })
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(headers.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// The keys, in first-seen order, whose values differ between `configs` (each a run's
/// configuration as a JSON object).
pub fn varied_keys(configs: &[Map<String, Value>]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for config in configs {
        for key in config.keys() {
            if !keys.contains(key) && configs.iter().any(|other| other.get(key) != config.get(key)) {
                keys.push(key.clone());
            }
        }
    }
    keys
}

/// A JSON value as a table cell: strings without quotes.
pub fn cell(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "-".into(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn only_keys_that_differ_between_runs_are_varied() {
        let configs = [
            object(json!({"lr": 0.1, "n_hidden": 68, "seed": 1})),
            object(json!({"lr": 0.1, "n_hidden": 128, "seed": 1})),
            object(json!({"lr": 0.1, "n_hidden": 128, "seed": 2})),
        ];
        assert_eq!(varied_keys(&configs), ["n_hidden", "seed"]);
        assert!(varied_keys(&configs[..1]).is_empty());
        assert_eq!(cell(configs[0].get("n_hidden")), "68");
        assert_eq!(cell(Some(&json!("mlp"))), "mlp");
        assert_eq!(cell(None), "-");
    }
}
