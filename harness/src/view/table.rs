//! Plain aligned tables on stdout (numbers right-aligned), and JSON values as cells.

use serde_json::Value;

/// Prints `rows` under `headers`, each column as wide as its widest cell.
pub fn print(headers: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
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
        out!("{}", padded.join("  ").trim_end())
    };
    line(headers.to_vec())?;
    for row in rows {
        line(row.iter().map(String::as_str).collect())?;
    }
    Ok(())
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

    #[test]
    fn a_json_value_is_a_cell_without_quotes() {
        assert_eq!(cell(Some(&json!(68))), "68");
        assert_eq!(cell(Some(&json!("mlp"))), "mlp");
        assert_eq!(cell(Some(&json!(0.060_166_173_641_848_696))), "0.060166");
        assert_eq!(cell(Some(&json!(0.1))), "0.1");
        assert_eq!(cell(Some(&Value::Null)), "-");
        assert_eq!(cell(None), "-");
    }
}
